-- Citus variant of queries/ab_summary.sql (same parameters, same answer): the SQL functions
-- ab_test_units() and ab_test_pre_period() read distributed tables, which Citus does not plan
-- inside a function (it answers nothing, or refuses), so their bodies are written out here:
-- the units are the test's assigned members the campaign reached before the test ended (or
-- before :as_of), the covariates are the ones the snapshot job kept (ab_pre_period) and, only
-- for members it has not done yet, computed from the members' other campaigns in the pre_days
-- before the test started (migration 0002 defines both; this must stay the same as there).
WITH test AS MATERIALIZED (
    SELECT test_id, campaign_id, started_at,
           least(coalesce(ended_at, 'infinity'::timestamptz),
                 coalesce(CAST(:as_of AS timestamptz), 'infinity'::timestamptz)) AS cut
    FROM ab_tests WHERE test_id = :test_id
),
units AS MATERIALIZED (
    SELECT a.member_id, a.variant, cm.first_send_at, cm.first_open_at, cm.first_click_at,
           cm.first_conversion_at, cm.clicks::bigint AS clicks, cm.revenue, cm.reward_cost, t.cut
    FROM test t
    JOIN ab_assignments a ON a.campaign_id = t.campaign_id AND a.test_id = t.test_id
    JOIN campaign_members cm ON cm.campaign_id = a.campaign_id AND cm.member_id = a.member_id
    WHERE cm.first_send_at < t.cut
),
pending AS MATERIALIZED (
    -- assigned members whose covariates the snapshot job has not kept yet
    SELECT a.member_id
    FROM test t
    JOIN ab_assignments a ON a.campaign_id = t.campaign_id AND a.test_id = t.test_id
    WHERE NOT EXISTS (SELECT 1 FROM ab_pre_period s
                      WHERE s.campaign_id = a.campaign_id AND s.test_id = a.test_id AND s.member_id = a.member_id)
),
pre AS MATERIALIZED (
    SELECT s.member_id, x.metric, x.pre
    FROM test t
    JOIN ab_pre_period s ON s.campaign_id = t.campaign_id AND s.test_id = t.test_id
    CROSS JOIN LATERAL (VALUES ('opened', s.opened), ('clicked', s.clicked), ('converted', s.converted),
                               ('clicks', s.clicks), ('revenue', s.revenue), ('reward_cost', s.reward_cost)) AS x(metric, pre)
    WHERE x.pre <> 0
    UNION ALL
    SELECT u.member_id, x.metric,
           CASE WHEN x.kind = 'binomial' THEN max(x.value)
                ELSE coalesce(sum(x.value) FILTER (WHERE c.ends_at <= t.started_at
                    AND o.first_send_at >= t.started_at - make_interval(days => :pre_days)), 0) END AS pre
    FROM test t
    CROSS JOIN pending u
    JOIN campaign_members o ON o.member_id = u.member_id AND o.campaign_id <> t.campaign_id
                           AND o.first_send_at < t.started_at
    JOIN campaigns c ON c.campaign_id = o.campaign_id
    CROSS JOIN LATERAL ab_member_outcomes(o.first_open_at, o.first_click_at, o.first_conversion_at, o.clicks,
                                          o.revenue, o.reward_cost,
                                          t.started_at - make_interval(days => :pre_days), t.started_at) x
    GROUP BY u.member_id, x.metric, x.kind
    HAVING CASE WHEN x.kind = 'binomial' THEN max(x.value)
                ELSE coalesce(sum(x.value) FILTER (WHERE c.ends_at <= t.started_at
                    AND o.first_send_at >= t.started_at - make_interval(days => :pre_days)), 0) END <> 0
),
plain AS (
    SELECT u.variant, x.metric, count(*) AS n, sum(x.value) AS sum, sum(x.value * x.value) AS sum_squares
    FROM units u
    CROSS JOIN LATERAL ab_member_outcomes(u.first_open_at, u.first_click_at, u.first_conversion_at, u.clicks,
                                          u.revenue, u.reward_cost, '-infinity', u.cut) x
    GROUP BY 1, 2
),
covariate AS (
    SELECT u.variant, x.metric, sum(p.pre) AS pre_sum, sum(p.pre * p.pre) AS pre_sum_squares,
           sum(x.value * p.pre) AS pre_sum_product
    FROM pre p
    JOIN units u ON u.member_id = p.member_id
    CROSS JOIN LATERAL ab_member_outcomes(u.first_open_at, u.first_click_at, u.first_conversion_at, u.clicks,
                                          u.revenue, u.reward_cost, '-infinity', u.cut) x
    WHERE x.metric = p.metric
    GROUP BY 1, 2
)
SELECT p.variant, p.metric, p.n, p.sum, p.sum_squares, coalesce(c.pre_sum, 0) AS pre_sum,
       coalesce(c.pre_sum_squares, 0) AS pre_sum_squares, coalesce(c.pre_sum_product, 0) AS pre_sum_product
FROM plain p
LEFT JOIN covariate c ON c.variant = p.variant AND c.metric = p.metric
ORDER BY p.metric, p.variant
