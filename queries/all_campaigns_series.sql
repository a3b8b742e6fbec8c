-- Time series of every campaign together ("All campaigns") from the all-campaigns hourly rollup,
-- bucketed by hour, day or week in the viewer's time zone as campaign_series buckets the chosen
-- campaigns' hours (the same sums); buckets are returned as local times.
SELECT date_trunc(:grain, bucket AT TIME ZONE :tz) AS bucket,
       sum(sends) AS sends, sum(delivered) AS delivered, sum(opens) AS opens,
       sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions,
       sum(revenue) AS revenue, sum(reward_cost) AS reward_cost, sum(send_cost) AS send_cost
FROM rollup_all_campaigns_hour
WHERE bucket >= :start_at AND bucket < :end_at
GROUP BY 1
ORDER BY 1
