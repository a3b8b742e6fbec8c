-- The Citus roller, statement 12 of 14: who acted (opened, saw, clicked or converted) per minute,
-- whatever the campaign, among the events in (:from_id, :to_id] less than 70 minutes older than
-- the batch's newest (:latest_event_at); each actor's latest minute; per minute, how many acted
-- in it and how many have it as their latest (as rollup_events does on one node). The batch's
-- actors are gathered from the shards first; the rest reads and writes plain tables on the
-- coordinator.
WITH batch_actors AS MATERIALIZED (
    SELECT DISTINCT date_trunc('minute', event_time, 'UTC') AS bucket, member_id
    FROM events
    WHERE event_id > :from_id AND event_id <= :to_id AND event_type >= 3
      AND event_time >= CAST(:latest_event_at AS timestamptz) - interval '70 minutes'
),
inserted AS (
    INSERT INTO rollup_live_actor_minute
    SELECT bucket, member_id FROM batch_actors
    ON CONFLICT DO NOTHING
    RETURNING bucket
),
moves AS MATERIALIZED (
    SELECT b.member_id, l.bucket AS was, b.bucket AS latest
    FROM (SELECT member_id, max(bucket) AS bucket FROM batch_actors GROUP BY member_id) AS b
    LEFT JOIN rollup_live_member_last l ON l.member_id = b.member_id
    WHERE l.bucket IS NULL OR b.bucket > l.bucket
),
last_upsert AS (
    INSERT INTO rollup_live_member_last AS r
    SELECT member_id, latest FROM moves
    ON CONFLICT (member_id) DO UPDATE SET bucket = greatest(r.bucket, excluded.bucket)
    RETURNING 1
)
INSERT INTO rollup_live_actors_minute AS r
SELECT bucket, sum(members), sum(last_members)
FROM (SELECT bucket, 1 AS members, 0 AS last_members FROM inserted
      UNION ALL
      SELECT latest, 0, 1 FROM moves
      UNION ALL
      SELECT was, 0, -1 FROM moves WHERE was IS NOT NULL) AS changes
GROUP BY bucket
ON CONFLICT (bucket) DO UPDATE SET
    members = r.members + excluded.members, last_members = r.last_members + excluded.last_members
