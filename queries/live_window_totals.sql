-- Counts and revenue of every campaign in [start_at, end_at) (whole seconds,
-- core.live.windows.LiveWindow), as the rollups hold them: the live seconds rollup alone.
SELECT coalesce(sum(sends), 0) AS sends, coalesce(sum(delivered), 0) AS delivered,
       coalesce(sum(opens), 0) AS opens, coalesce(sum(impressions), 0) AS impressions,
       coalesce(sum(clicks), 0) AS clicks, coalesce(sum(conversions), 0) AS conversions,
       coalesce(sum(revenue), 0) AS revenue, coalesce(sum(reward_cost), 0) AS reward_cost
FROM rollup_live_second
WHERE bucket >= :start_at AND bucket < :end_at
