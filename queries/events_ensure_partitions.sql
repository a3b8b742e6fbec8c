SELECT ensure_event_partitions(CAST(:first_day AS date), CAST(:last_day AS date))
