-- Citus variant of queries/ab_daily_summary.sql (same parameters, same answer): the bodies of
-- ab_test_units() and ab_test_pre_period() written out, as in queries/citus/ab_summary.sql (Citus
-- does not plan a SQL function that reads distributed tables); the covariates the snapshot job
-- kept (ab_pre_period) are read, and computed only for members it has not done yet; the rest as
-- in the original.
WITH test AS MATERIALIZED (
    SELECT test_id, campaign_id, started_at, coalesce(ended_at, 'infinity'::timestamptz) AS ended_at
    FROM ab_tests WHERE test_id = :test_id
),
units AS MATERIALIZED (
    SELECT a.member_id, a.variant, cm.first_send_at, cm.first_open_at, cm.first_click_at,
           cm.first_conversion_at, cm.clicks::bigint AS clicks, cm.revenue, cm.reward_cost, t.ended_at
    FROM test t
    JOIN ab_assignments a ON a.campaign_id = t.campaign_id AND a.test_id = t.test_id
    JOIN campaign_members cm ON cm.campaign_id = a.campaign_id AND cm.member_id = a.member_id
    WHERE cm.first_send_at < t.ended_at
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
per_member AS (
    SELECT u.variant, x.metric, coalesce(p.pre, 0) AS pre,
           greatest((u.first_send_at AT TIME ZONE 'UTC')::date, CAST(:first_day AS date)) AS entered_day,
           CASE WHEN x.value = 1 THEN greatest((greatest(u.first_send_at, x.achieved_at) AT TIME ZONE 'UTC')::date,
                                               CAST(:first_day AS date)) END AS achieved_day
    FROM units u
    CROSS JOIN LATERAL ab_member_outcomes(u.first_open_at, u.first_click_at, u.first_conversion_at, u.clicks,
                                          u.revenue, u.reward_cost, '-infinity', u.ended_at) x
    LEFT JOIN pre p ON p.member_id = u.member_id AND p.metric = x.metric
    WHERE x.kind = 'binomial'
),
entered AS (
    SELECT variant, metric, entered_day AS day, count(*) AS n, sum(pre) AS pre_sum, sum(pre * pre) AS pre_sum_squares
    FROM per_member GROUP BY 1, 2, 3
),
achieved AS (
    SELECT variant, metric, achieved_day AS day, count(*) AS hits, sum(pre) AS pre_hits
    FROM per_member WHERE achieved_day IS NOT NULL GROUP BY 1, 2, 3
),
grid AS (
    SELECT k.variant, k.metric, d::date AS day
    FROM (SELECT DISTINCT variant, metric FROM per_member) k
    CROSS JOIN generate_series(CAST(:first_day AS date), CAST(:last_day AS date), interval '1 day') AS d
)
SELECT g.day AS snapshot_date, g.variant, g.metric,
       sum(coalesce(e.n, 0)) OVER w AS n,
       sum(coalesce(a.hits, 0)) OVER w AS sum,
       sum(coalesce(a.hits, 0)) OVER w AS sum_squares,
       sum(coalesce(e.pre_sum, 0)) OVER w AS pre_sum,
       sum(coalesce(e.pre_sum_squares, 0)) OVER w AS pre_sum_squares,
       sum(coalesce(a.pre_hits, 0)) OVER w AS pre_sum_product
FROM grid g
LEFT JOIN entered e ON e.variant = g.variant AND e.metric = g.metric AND e.day = g.day
LEFT JOIN achieved a ON a.variant = g.variant AND a.metric = g.metric AND a.day = g.day
WINDOW w AS (PARTITION BY g.variant, g.metric ORDER BY g.day)
ORDER BY 1, 2, 3
