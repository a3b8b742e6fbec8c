-- Benchmark comparison only (not product SQL): one campaign's time series straight from raw
-- events, bucketed like queries/campaign_series.sql (local hour/day/week in :tz).
SELECT date_trunc(:grain, e.event_time AT TIME ZONE :tz) AS bucket,
       count(*) FILTER (WHERE e.event_type = 1) AS sends,
       count(*) FILTER (WHERE e.event_type = 2) AS delivered,
       count(*) FILTER (WHERE e.event_type = 3) AS opens,
       count(*) FILTER (WHERE e.event_type = 4) AS impressions,
       count(*) FILTER (WHERE e.event_type = 5) AS clicks,
       count(*) FILTER (WHERE e.event_type = 6) AS conversions,
       coalesce(sum(e.revenue), 0) AS revenue, coalesce(sum(e.reward_cost), 0) AS reward_cost,
       coalesce(sum(c.cost_per_send) FILTER (WHERE e.event_type = 1), 0) AS send_cost
FROM events e
JOIN campaigns c USING (campaign_id)
WHERE e.campaign_id = ANY(:campaign_ids) AND e.event_time >= :start_at AND e.event_time < :end_at
GROUP BY 1
ORDER BY 1
