-- Totals of every campaign together ("All campaigns") for the period [start_at, end_at) and, when
-- cmp_start_at is given, for the comparison period too: one row per period ('current',
-- 'comparison') with the sums of campaign_totals' rows over every campaign, reach included, from
-- the all-campaigns rollups (a few hundred rows per period, whatever the number of campaigns).
-- The hours from start_at to end_at hold the same events as campaign_totals' whole UTC days and
-- partial days. Reach: members first reached / first converting in the hours before each
-- period's end, summed over campaigns (exact, cumulative from each campaign's start).
WITH periods (period, start_at, end_at) AS (
    SELECT 'current', CAST(:start_at AS timestamptz), CAST(:end_at AS timestamptz)
    UNION ALL
    SELECT 'comparison', CAST(:cmp_start_at AS timestamptz), CAST(:cmp_end_at AS timestamptz)
    WHERE CAST(:cmp_start_at AS timestamptz) IS NOT NULL
)
SELECT p.period, coalesce(t.sends, 0) AS sends, coalesce(t.delivered, 0) AS delivered,
       coalesce(t.opens, 0) AS opens, coalesce(t.impressions, 0) AS impressions,
       coalesce(t.clicks, 0) AS clicks, coalesce(t.conversions, 0) AS conversions,
       coalesce(t.revenue, 0) AS revenue, coalesce(t.reward_cost, 0) AS reward_cost,
       coalesce(t.send_cost, 0) AS send_cost,
       coalesce(r.delivered_members, 0) AS delivered_members,
       coalesce(r.converting_members, 0) AS converting_members
FROM periods p
CROSS JOIN LATERAL (
    SELECT sum(a.sends) AS sends, sum(a.delivered) AS delivered, sum(a.opens) AS opens,
           sum(a.impressions) AS impressions, sum(a.clicks) AS clicks, sum(a.conversions) AS conversions,
           sum(a.revenue) AS revenue, sum(a.reward_cost) AS reward_cost, sum(a.send_cost) AS send_cost
    FROM rollup_all_campaigns_hour a
    WHERE a.bucket >= p.start_at AND a.bucket < p.end_at
) AS t
CROSS JOIN LATERAL (
    SELECT sum(m.delivered_members) AS delivered_members, sum(m.converting_members) AS converting_members
    FROM rollup_all_campaigns_reach_hour m
    WHERE m.bucket < p.end_at
) AS r
ORDER BY p.period DESC
