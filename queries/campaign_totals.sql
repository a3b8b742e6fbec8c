-- Totals per campaign for [start_at, end_at): whole UTC days from the daily rollup, the
-- partial days at either end from the hourly rollup, so any time zone's days are exact.
WITH rows_in_range AS (
    SELECT campaign_id, sends, delivered, opens, impressions, clicks, conversions, revenue, reward_cost
    FROM rollup_campaign_day
    WHERE campaign_id = ANY(:campaign_ids) AND day >= :day_from AND day < :day_to
    UNION ALL
    SELECT campaign_id, sends, delivered, opens, impressions, clicks, conversions, revenue, reward_cost
    FROM rollup_campaign_hour
    WHERE campaign_id = ANY(:campaign_ids)
      AND bucket >= :start_at AND bucket < :end_at
      AND NOT (bucket >= CAST(:day_from AS date)::timestamp AT TIME ZONE 'UTC'
               AND bucket < CAST(:day_to AS date)::timestamp AT TIME ZONE 'UTC')
),
per_campaign AS (
    SELECT campaign_id, sum(sends) AS sends, sum(delivered) AS delivered, sum(opens) AS opens,
           sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions,
           sum(revenue) AS revenue, sum(reward_cost) AS reward_cost
    FROM rows_in_range GROUP BY campaign_id
)
SELECT c.campaign_id, c.name, c.channel, c.segment, c.status,
       coalesce(p.sends, 0) AS sends, coalesce(p.delivered, 0) AS delivered,
       coalesce(p.opens, 0) AS opens, coalesce(p.impressions, 0) AS impressions,
       coalesce(p.clicks, 0) AS clicks, coalesce(p.conversions, 0) AS conversions,
       coalesce(p.revenue, 0) AS revenue, coalesce(p.reward_cost, 0) AS reward_cost,
       coalesce(p.sends, 0) * c.cost_per_send AS send_cost
FROM campaigns c
LEFT JOIN per_campaign p USING (campaign_id)
WHERE c.campaign_id = ANY(:campaign_ids)
ORDER BY c.campaign_id
