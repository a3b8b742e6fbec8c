-- The Citus roller, statement 13 of 14: the live screen's counts and money per second, every
-- campaign summed, of the events in (:from_id, :to_id] less than 27 hours older than the batch's
-- newest (:latest_event_at). A plain table on the coordinator: the shards' sums are gathered there.
INSERT INTO rollup_live_second AS r
SELECT date_trunc('second', event_time),
       count(*) FILTER (WHERE event_type = 1), count(*) FILTER (WHERE event_type = 2),
       count(*) FILTER (WHERE event_type = 3), count(*) FILTER (WHERE event_type = 4),
       count(*) FILTER (WHERE event_type = 5), count(*) FILTER (WHERE event_type = 6),
       coalesce(sum(revenue), 0), coalesce(sum(reward_cost), 0)
FROM events
WHERE event_id > :from_id AND event_id <= :to_id AND event_time >= CAST(:latest_event_at AS timestamptz) - interval '27 hours'
GROUP BY 1
ON CONFLICT (bucket) DO UPDATE SET
    sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
    opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
    clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
    revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost
