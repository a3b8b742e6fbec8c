SELECT coalesce(pg_sequence_last_value('events_event_id_seq'), 0)
