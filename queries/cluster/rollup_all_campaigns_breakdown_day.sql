-- The Citus roller, statement 9 of 14: every campaign summed per day for "All campaigns", by
-- segment, device and region (the member's own as fallbacks, as rollup_breakdown) and by
-- channel, of the events in (:from_id, :to_id]; only campaigns in campaigns, each with its
-- cost per send. A plain table on the coordinator: the shards' sums are gathered there.
INSERT INTO rollup_all_campaigns_breakdown_day AS r
SELECT (e.event_time AT TIME ZONE 'UTC')::date, d.dimension, d.value,
       count(*) FILTER (WHERE e.event_type = 1), count(*) FILTER (WHERE e.event_type = 2),
       count(*) FILTER (WHERE e.event_type = 3), count(*) FILTER (WHERE e.event_type = 4),
       count(*) FILTER (WHERE e.event_type = 5), count(*) FILTER (WHERE e.event_type = 6),
       coalesce(sum(e.revenue), 0), coalesce(sum(e.reward_cost), 0),
       coalesce(sum(c.cost_per_send) FILTER (WHERE e.event_type = 1), 0)
FROM events e
JOIN campaigns c ON c.campaign_id = e.campaign_id
LEFT JOIN members m ON m.member_id = e.member_id
CROSS JOIN LATERAL (VALUES ('segment', coalesce(m.segment, 'unknown')),
                           ('device', coalesce(e.device, m.device, 'unknown')),
                           ('region', coalesce(e.region_code, m.region_code, 'unknown')),
                           ('channel', c.channel)) AS d (dimension, value)
WHERE e.event_id > :from_id AND e.event_id <= :to_id
GROUP BY 1, 2, 3
ON CONFLICT (day, dimension, value) DO UPDATE SET
    sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
    opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
    clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
    revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost,
    send_cost = r.send_cost + excluded.send_cost
