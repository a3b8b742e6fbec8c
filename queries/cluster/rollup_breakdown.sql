-- The Citus roller, statement 5 of 14: the daily breakdown by segment, device and region of the
-- events in (:from_id, :to_id] (device and region fall back to the member's own; members is a
-- reference table, so the join stays on each shard's worker).
INSERT INTO rollup_breakdown_day AS r
SELECT e.campaign_id, (e.event_time AT TIME ZONE 'UTC')::date, d.dimension, d.value,
       count(*) FILTER (WHERE e.event_type = 1), count(*) FILTER (WHERE e.event_type = 2),
       count(*) FILTER (WHERE e.event_type = 3), count(*) FILTER (WHERE e.event_type = 4),
       count(*) FILTER (WHERE e.event_type = 5), count(*) FILTER (WHERE e.event_type = 6),
       coalesce(sum(e.revenue), 0), coalesce(sum(e.reward_cost), 0)
FROM events e
LEFT JOIN members m ON m.member_id = e.member_id
CROSS JOIN LATERAL (VALUES ('segment', coalesce(m.segment, 'unknown')),
                           ('device', coalesce(e.device, m.device, 'unknown')),
                           ('region', coalesce(e.region_code, m.region_code, 'unknown'))) AS d(dimension, value)
WHERE e.event_id > :from_id AND e.event_id <= :to_id
GROUP BY 1, 2, 3, 4
ON CONFLICT (campaign_id, day, dimension, value) DO UPDATE SET
    sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
    opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
    clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
    revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost
