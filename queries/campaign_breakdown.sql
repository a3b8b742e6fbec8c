-- Breakdown of the chosen campaigns by segment, device and region (daily breakdown rollup,
-- whole UTC days [day_from, day_to)) and by channel (daily campaign rollup, same days).
SELECT b.dimension, b.value,
       sum(b.sends) AS sends, sum(b.delivered) AS delivered, sum(b.opens) AS opens,
       sum(b.impressions) AS impressions, sum(b.clicks) AS clicks, sum(b.conversions) AS conversions,
       sum(b.revenue) AS revenue, sum(b.reward_cost) AS reward_cost,
       sum(b.sends * c.cost_per_send) AS send_cost
FROM rollup_breakdown_day b
JOIN campaigns c USING (campaign_id)
WHERE b.campaign_id = ANY(:campaign_ids) AND b.day >= :day_from AND b.day < :day_to
GROUP BY 1, 2
UNION ALL
SELECT 'channel', c.channel,
       sum(d.sends), sum(d.delivered), sum(d.opens), sum(d.impressions), sum(d.clicks),
       sum(d.conversions), sum(d.revenue), sum(d.reward_cost), sum(d.sends * c.cost_per_send)
FROM rollup_campaign_day d
JOIN campaigns c USING (campaign_id)
WHERE d.campaign_id = ANY(:campaign_ids) AND d.day >= :day_from AND d.day < :day_to
GROUP BY 1, 2
ORDER BY 1, 2
