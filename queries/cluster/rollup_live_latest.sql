-- The Citus roller, statement 14 of 14: the event stream's newest 50 events folded in so far,
-- from the events in (:from_id, :to_id] (gathered from the shards) and the 50 kept before.
WITH newest AS MATERIALIZED (
    SELECT e.event_id, e.event_time, e.event_type, e.campaign_id, e.member_id, e.variant,
           coalesce(e.device, m.device, 'unknown') AS device,
           coalesce(e.region_code, m.region_code, 'unknown') AS region_code,
           CASE WHEN e.event_type = 6 THEN coalesce(e.revenue, 0) END AS revenue
    FROM events e
    LEFT JOIN members m ON m.member_id = e.member_id
    WHERE e.event_id > :from_id AND e.event_id <= :to_id
    ORDER BY e.event_id DESC
    LIMIT 50
),
kept AS MATERIALIZED (
    SELECT event_id
    FROM (SELECT event_id FROM rollup_live_latest UNION ALL SELECT event_id FROM newest) AS ids
    ORDER BY event_id DESC
    LIMIT 50
),
dropped AS (
    DELETE FROM rollup_live_latest WHERE event_id NOT IN (SELECT event_id FROM kept)
    RETURNING 1
)
INSERT INTO rollup_live_latest
SELECT * FROM newest WHERE event_id IN (SELECT event_id FROM kept)
ON CONFLICT (event_id) DO NOTHING
