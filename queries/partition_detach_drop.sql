SELECT drop_event_partition(:partition)
