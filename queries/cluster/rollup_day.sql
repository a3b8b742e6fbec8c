-- The Citus roller, statement 4 of 14: the events in (:from_id, :to_id] added to the
-- per-day rollup, each shard folding its own campaigns (an INSERT … SELECT pushed down).
INSERT INTO rollup_campaign_day AS r
SELECT campaign_id, (event_time AT TIME ZONE 'UTC')::date,
       count(*) FILTER (WHERE event_type = 1), count(*) FILTER (WHERE event_type = 2),
       count(*) FILTER (WHERE event_type = 3), count(*) FILTER (WHERE event_type = 4),
       count(*) FILTER (WHERE event_type = 5), count(*) FILTER (WHERE event_type = 6),
       coalesce(sum(revenue), 0), coalesce(sum(reward_cost), 0)
FROM events
WHERE event_id > :from_id AND event_id <= :to_id
GROUP BY 1, 2
ON CONFLICT (campaign_id, day) DO UPDATE SET
    sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
    opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
    clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
    revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost
