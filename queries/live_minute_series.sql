-- Counts per UTC minute of every campaign in [start_at, end_at) (start_at on a whole minute,
-- end_at on a whole second: the last minute is the running one, up to end_at), as the rollups
-- hold them: the live seconds rollup summed by minute, every minute present (zero when it had
-- no events), with its local time in :tz.
SELECT g.bucket, CAST(g.bucket AT TIME ZONE :tz AS timestamp) AS minute,
       coalesce(s.sends, 0) AS sends, coalesce(s.delivered, 0) AS delivered, coalesce(s.opens, 0) AS opens,
       coalesce(s.impressions, 0) AS impressions, coalesce(s.clicks, 0) AS clicks,
       coalesce(s.conversions, 0) AS conversions, coalesce(s.revenue, 0) AS revenue,
       coalesce(s.reward_cost, 0) AS reward_cost
FROM generate_series(CAST(:start_at AS timestamptz),
                     date_trunc('minute', CAST(:end_at AS timestamptz), 'UTC'), interval '1 minute') AS g (bucket)
LEFT JOIN (SELECT date_trunc('minute', bucket, 'UTC') AS bucket, sum(sends) AS sends, sum(delivered) AS delivered,
                  sum(opens) AS opens, sum(impressions) AS impressions, sum(clicks) AS clicks,
                  sum(conversions) AS conversions, sum(revenue) AS revenue, sum(reward_cost) AS reward_cost
           FROM rollup_live_second
           WHERE bucket >= :start_at AND bucket < :end_at
           GROUP BY 1) AS s ON s.bucket = g.bucket
ORDER BY g.bucket
