-- Time series of the chosen campaigns from the hourly rollup, bucketed by hour, day or week in
-- the viewer's time zone (local midnight, DST-correct); buckets are returned as local times.
-- Campaigns are summed per UTC hour first, so the time-zone arithmetic runs once per hour
-- rather than once per campaign and hour.
WITH per_hour AS (
    SELECT h.bucket, sum(h.sends) AS sends, sum(h.delivered) AS delivered, sum(h.opens) AS opens,
           sum(h.impressions) AS impressions, sum(h.clicks) AS clicks, sum(h.conversions) AS conversions,
           sum(h.revenue) AS revenue, sum(h.reward_cost) AS reward_cost,
           sum(h.sends * c.cost_per_send) AS send_cost
    FROM rollup_campaign_hour h
    JOIN campaigns c USING (campaign_id)
    WHERE h.campaign_id = ANY(:campaign_ids) AND h.bucket >= :start_at AND h.bucket < :end_at
    GROUP BY h.bucket
)
SELECT date_trunc(:grain, bucket AT TIME ZONE :tz) AS bucket,
       sum(sends) AS sends, sum(delivered) AS delivered, sum(opens) AS opens,
       sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions,
       sum(revenue) AS revenue, sum(reward_cost) AS reward_cost, sum(send_cost) AS send_cost
FROM per_hour
GROUP BY 1
ORDER BY 1
