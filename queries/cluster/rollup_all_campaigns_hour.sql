-- The Citus roller, statement 7 of 14: every campaign summed per hour for "All campaigns" — the
-- counts, money and send cost of the events in (:from_id, :to_id]; only campaigns in campaigns,
-- each with its cost per send. A plain table on the coordinator: the shards' sums are gathered
-- there.
INSERT INTO rollup_all_campaigns_hour AS r
SELECT date_trunc('hour', e.event_time, 'UTC'),
       count(*) FILTER (WHERE e.event_type = 1), count(*) FILTER (WHERE e.event_type = 2),
       count(*) FILTER (WHERE e.event_type = 3), count(*) FILTER (WHERE e.event_type = 4),
       count(*) FILTER (WHERE e.event_type = 5), count(*) FILTER (WHERE e.event_type = 6),
       coalesce(sum(e.revenue), 0), coalesce(sum(e.reward_cost), 0),
       coalesce(sum(c.cost_per_send) FILTER (WHERE e.event_type = 1), 0)
FROM events e
JOIN campaigns c ON c.campaign_id = e.campaign_id
WHERE e.event_id > :from_id AND e.event_id <= :to_id
GROUP BY 1
ON CONFLICT (bucket) DO UPDATE SET
    sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
    opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
    clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
    revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost,
    send_cost = r.send_cost + excluded.send_cost
