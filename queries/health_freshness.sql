-- The latest event (recent partitions first: BRIN prunes them), when the rollups last
-- advanced, and how many events wait to be rolled up.
SELECT coalesce((SELECT max(event_time) FROM events WHERE event_time > now() - interval '2 days'),
                (SELECT max(event_time) FROM events)) AS latest_event_at,
       w.updated_at AS rollups_advanced_at,
       greatest(coalesce(pg_sequence_last_value('events_event_id_seq'), 0) - w.last_event_id, 0) AS pending_events
FROM rollup_watermarks w WHERE w.name = 'events'
