-- The latest event time (recent partitions first: BRIN prunes them); NULL without events.
SELECT coalesce((SELECT max(event_time) FROM events WHERE event_time > now() - interval '2 days'),
                (SELECT max(event_time) FROM events))
