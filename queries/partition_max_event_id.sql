SELECT event_partition_max_id(:partition)
