-- The Citus roller, statement 13 of 13: who acted (opened, saw, clicked or converted) per minute
-- among the events in (:from_id, :to_id] less than 70 minutes older than the batch's newest
-- (:latest_event_at).
INSERT INTO rollup_live_actor_minute (campaign_id, bucket, member_id)
SELECT DISTINCT campaign_id, date_trunc('minute', event_time, 'UTC'), member_id
FROM events
WHERE event_id > :from_id AND event_id <= :to_id AND event_time >= CAST(:latest_event_at AS timestamptz) - interval '70 minutes'
  AND event_type >= 3
ON CONFLICT DO NOTHING
