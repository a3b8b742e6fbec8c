-- The Citus roller, statement 1 of 14 (core.platform.distribute.fold_events): how many events
-- are in (:from_id, :to_id] and the newest event time among them.
SELECT count(*) AS events, max(event_time) AS latest_event_at
FROM events
WHERE event_id > :from_id AND event_id <= :to_id
