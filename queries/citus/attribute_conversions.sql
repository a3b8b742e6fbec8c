-- Citus variant of queries/attribute_conversions.sql (same parameters, same answer): Citus
-- cannot run a lateral join from a list of values into a distributed table, so the members'
-- touches inside the window are fetched first (every shard looks up the listed members), and
-- the latest one per conversion is picked from them on the coordinator.
WITH conversions AS MATERIALIZED (
    SELECT c.member_id, c.event_time, c.ordinality
    FROM unnest(CAST(:member_ids AS bigint[]), CAST(:event_times AS timestamptz[]))
         WITH ORDINALITY AS c(member_id, event_time, ordinality)
),
touches AS MATERIALIZED (
    SELECT c.ordinality, cm.campaign_id, cm.last_engaged_at
    FROM conversions c
    JOIN campaign_members cm ON cm.member_id = c.member_id
    WHERE cm.last_engaged_at <= c.event_time
      AND cm.last_engaged_at > c.event_time - make_interval(days => :window_days)
)
SELECT c.ordinality, touch.campaign_id
FROM conversions c
LEFT JOIN LATERAL (
    SELECT t.campaign_id
    FROM touches t
    WHERE t.ordinality = c.ordinality
    ORDER BY t.last_engaged_at DESC
    LIMIT 1
) AS touch ON true
ORDER BY c.ordinality
