-- Benchmark comparison only (not product SQL): the portfolio counted straight from raw events
-- for [start_at, end_at), in the same columns as queries/campaign_totals.sql, so the bench can
-- time it against the rollups and check that both give the same numbers.
WITH per_campaign AS (
    SELECT campaign_id,
           count(*) FILTER (WHERE event_type = 1) AS sends,
           count(*) FILTER (WHERE event_type = 2) AS delivered,
           count(*) FILTER (WHERE event_type = 3) AS opens,
           count(*) FILTER (WHERE event_type = 4) AS impressions,
           count(*) FILTER (WHERE event_type = 5) AS clicks,
           count(*) FILTER (WHERE event_type = 6) AS conversions,
           coalesce(sum(revenue), 0) AS revenue, coalesce(sum(reward_cost), 0) AS reward_cost
    FROM events
    WHERE event_time >= :start_at AND event_time < :end_at
    GROUP BY campaign_id
)
SELECT c.campaign_id, c.name, c.channel, c.segment, c.status,
       coalesce(p.sends, 0) AS sends, coalesce(p.delivered, 0) AS delivered,
       coalesce(p.opens, 0) AS opens, coalesce(p.impressions, 0) AS impressions,
       coalesce(p.clicks, 0) AS clicks, coalesce(p.conversions, 0) AS conversions,
       coalesce(p.revenue, 0) AS revenue, coalesce(p.reward_cost, 0) AS reward_cost,
       coalesce(p.sends, 0) * c.cost_per_send AS send_cost
FROM campaigns c
LEFT JOIN per_campaign p USING (campaign_id)
ORDER BY c.campaign_id
