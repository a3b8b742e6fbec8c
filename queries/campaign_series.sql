-- Time series of the chosen campaigns from the hourly rollup, bucketed by hour, day or week in
-- the viewer's time zone (local midnight, DST-correct); buckets are returned as local times.
SELECT date_trunc(:grain, h.bucket AT TIME ZONE :tz) AS bucket,
       sum(h.sends) AS sends, sum(h.delivered) AS delivered, sum(h.opens) AS opens,
       sum(h.impressions) AS impressions, sum(h.clicks) AS clicks, sum(h.conversions) AS conversions,
       sum(h.revenue) AS revenue, sum(h.reward_cost) AS reward_cost,
       sum(h.sends * c.cost_per_send) AS send_cost
FROM rollup_campaign_hour h
JOIN campaigns c USING (campaign_id)
WHERE h.campaign_id = ANY(:campaign_ids) AND h.bucket >= :start_at AND h.bucket < :end_at
GROUP BY 1
ORDER BY 1
