-- Breakdown of every campaign together ("All campaigns") by segment, device, region and channel
-- for the period [start_at, end_at) and, when cmp_start_at is given, for the comparison period
-- too (column period: 'current', 'comparison'): the same rows as campaign_breakdown over every
-- campaign, cut the same way, so each dimension's rows add up to the KPI cards in any time zone:
-- - whole UTC days [day_from, day_to) from the all-campaigns daily breakdown;
-- - the hours at either end (a local day starts in the middle of a UTC day) from the hourly one;
-- - where an end's hours are not broken down (their raw events were gone when the hourly
--   breakdown was filled, or retention dropped them since), what the hourly rollup holds beyond
--   the breakdown shows as the value '(not broken down)', as campaign_breakdown shows it.
WITH periods (period, start_at, end_at, day_from, day_to) AS (
    SELECT 'current', CAST(:start_at AS timestamptz), CAST(:end_at AS timestamptz),
           CAST(:day_from AS date), CAST(:day_to AS date)
    UNION ALL
    SELECT 'comparison', CAST(:cmp_start_at AS timestamptz), CAST(:cmp_end_at AS timestamptz),
           CAST(:cmp_day_from AS date), CAST(:cmp_day_to AS date)
    WHERE CAST(:cmp_start_at AS timestamptz) IS NOT NULL
),
edges AS (  -- the hourly buckets b of each end: lo <= b < hi
    SELECT p.period, e.lo, e.hi
    FROM periods p
    CROSS JOIN LATERAL (VALUES (p.start_at, least(p.end_at, p.day_from::timestamp AT TIME ZONE 'UTC')),
                               (greatest(p.start_at, p.day_to::timestamp AT TIME ZONE 'UTC'), p.end_at)) AS e (lo, hi)
    WHERE e.lo < e.hi
),
edge_parts AS MATERIALIZED (
    SELECT g.period, b.dimension, b.value, sum(b.sends) AS sends, sum(b.delivered) AS delivered,
           sum(b.opens) AS opens, sum(b.impressions) AS impressions, sum(b.clicks) AS clicks,
           sum(b.conversions) AS conversions, sum(b.revenue) AS revenue, sum(b.reward_cost) AS reward_cost,
           sum(b.send_cost) AS send_cost
    FROM edges g
    JOIN rollup_all_campaigns_breakdown_hour b ON b.bucket >= g.lo AND b.bucket < g.hi
    GROUP BY 1, 2, 3
),
edge_hours AS (
    SELECT g.period, sum(h.sends) AS sends, sum(h.delivered) AS delivered, sum(h.opens) AS opens,
           sum(h.impressions) AS impressions, sum(h.clicks) AS clicks, sum(h.conversions) AS conversions,
           sum(h.revenue) AS revenue, sum(h.reward_cost) AS reward_cost, sum(h.send_cost) AS send_cost
    FROM edges g
    JOIN rollup_all_campaigns_hour h ON h.bucket >= g.lo AND h.bucket < g.hi
    GROUP BY 1
),
edge_broken_down AS (
    SELECT period, dimension, sum(sends) AS sends, sum(delivered) AS delivered, sum(opens) AS opens,
           sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions,
           sum(revenue) AS revenue, sum(reward_cost) AS reward_cost, sum(send_cost) AS send_cost
    FROM edge_parts
    WHERE dimension <> 'channel'
    GROUP BY 1, 2
),
not_broken_down AS (
    SELECT h.period, d.dimension, '(not broken down)' AS value,
           h.sends - coalesce(b.sends, 0) AS sends, h.delivered - coalesce(b.delivered, 0) AS delivered,
           h.opens - coalesce(b.opens, 0) AS opens, h.impressions - coalesce(b.impressions, 0) AS impressions,
           h.clicks - coalesce(b.clicks, 0) AS clicks, h.conversions - coalesce(b.conversions, 0) AS conversions,
           h.revenue - coalesce(b.revenue, 0) AS revenue, h.reward_cost - coalesce(b.reward_cost, 0) AS reward_cost,
           h.send_cost - coalesce(b.send_cost, 0) AS send_cost
    FROM edge_hours h
    CROSS JOIN (VALUES ('segment'), ('device'), ('region')) AS d (dimension)
    LEFT JOIN edge_broken_down b ON b.period = h.period AND b.dimension = d.dimension
    WHERE (h.sends, h.delivered, h.opens, h.impressions, h.clicks, h.conversions, h.revenue, h.reward_cost)
          IS DISTINCT FROM (b.sends, b.delivered, b.opens, b.impressions, b.clicks, b.conversions, b.revenue, b.reward_cost)
),
parts AS (
    SELECT p.period, b.dimension, b.value, b.sends, b.delivered, b.opens, b.impressions, b.clicks,
           b.conversions, b.revenue, b.reward_cost, b.send_cost
    FROM periods p
    JOIN rollup_all_campaigns_breakdown_day b ON b.day >= p.day_from AND b.day < p.day_to
    UNION ALL
    SELECT * FROM edge_parts
    UNION ALL
    SELECT * FROM not_broken_down
)
SELECT period, dimension, value,
       sum(sends) AS sends, sum(delivered) AS delivered, sum(opens) AS opens,
       sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions,
       sum(revenue) AS revenue, sum(reward_cost) AS reward_cost, sum(send_cost) AS send_cost
FROM parts
GROUP BY 1, 2, 3
ORDER BY 1 DESC, 2, 3
