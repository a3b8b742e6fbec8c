-- The Citus roller, statement 2 of 14: the reach rollup's changes from the events in
-- (:from_id, :to_id], against campaign_members as it was before this batch. It runs before
-- rollup_members moves the members' first moments (Citus runs the CTEs of one statement one
-- after the other, so the single-statement roller's "every CTE sees the table as it was"
-- does not hold there). Grouped by campaign_id: each shard folds its own campaigns.
INSERT INTO rollup_reach_hour AS r (campaign_id, bucket, delivered_members, converting_members)
SELECT changes.campaign_id, changes.bucket, sum(changes.delivered), sum(changes.converting)
FROM (
    SELECT b.campaign_id, cm.first_delivered_at AS reached_before,
           least(cm.first_delivered_at, b.first_delivered_at) AS reached_after,
           CASE WHEN cm.first_delivered_at IS NOT NULL AND cm.first_conversion_at IS NOT NULL
                THEN greatest(cm.first_delivered_at, cm.first_conversion_at) END AS converting_before,
           CASE WHEN coalesce(cm.first_delivered_at, b.first_delivered_at) IS NOT NULL
                 AND coalesce(cm.first_conversion_at, b.first_conversion_at) IS NOT NULL
                THEN greatest(least(cm.first_delivered_at, b.first_delivered_at),
                              least(cm.first_conversion_at, b.first_conversion_at)) END AS converting_after
    FROM (
        SELECT campaign_id, member_id,
               min(event_time) FILTER (WHERE event_type = 2) AS first_delivered_at,
               min(event_time) FILTER (WHERE event_type = 6) AS first_conversion_at
        FROM events
        WHERE event_id > :from_id AND event_id <= :to_id AND event_type IN (2, 6)
        GROUP BY campaign_id, member_id
    ) b
    LEFT JOIN campaign_members cm ON cm.campaign_id = b.campaign_id AND cm.member_id = b.member_id
) AS moments
CROSS JOIN LATERAL (
    SELECT moments.campaign_id, date_trunc('hour', m.moment, 'UTC') AS bucket, m.delivered, m.converting
    FROM (VALUES (moments.reached_before, -1, 0), (moments.reached_after, 1, 0),
                 (moments.converting_before, 0, -1), (moments.converting_after, 0, 1)) AS m (moment, delivered, converting)
    WHERE m.moment IS NOT NULL
      AND (CASE WHEN m.delivered <> 0 THEN moments.reached_before IS DISTINCT FROM moments.reached_after
                ELSE moments.converting_before IS DISTINCT FROM moments.converting_after END)
) AS changes
GROUP BY changes.campaign_id, changes.bucket
ON CONFLICT (campaign_id, bucket) DO UPDATE SET
    delivered_members = r.delivered_members + excluded.delivered_members,
    converting_members = r.converting_members + excluded.converting_members
