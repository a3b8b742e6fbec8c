-- A partition for each of the given UTC days (only days that have events: no gap is filled).
SELECT coalesce(sum(ensure_event_partitions(day, day)), 0)
FROM unnest(CAST(:days AS date[])) AS day
