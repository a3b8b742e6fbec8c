-- The Citus roller, statement 3 of 14: the events in (:from_id, :to_id] added to the
-- per-hour rollup, each shard folding its own campaigns (an INSERT … SELECT pushed down).
INSERT INTO rollup_campaign_hour AS r
SELECT campaign_id, date_trunc('hour', event_time, 'UTC'),
       count(*) FILTER (WHERE event_type = 1), count(*) FILTER (WHERE event_type = 2),
       count(*) FILTER (WHERE event_type = 3), count(*) FILTER (WHERE event_type = 4),
       count(*) FILTER (WHERE event_type = 5), count(*) FILTER (WHERE event_type = 6),
       coalesce(sum(revenue), 0), coalesce(sum(reward_cost), 0)
FROM events
WHERE event_id > :from_id AND event_id <= :to_id
GROUP BY 1, 2
ON CONFLICT (campaign_id, bucket) DO UPDATE SET
    sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
    opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
    clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
    revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost
