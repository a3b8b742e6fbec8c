-- Per-variant summary statistics of one test's binary outcomes as of the end of every UTC day
-- from :first_day to :last_day, with the CUPED pre-period sums. Exact for past days, because a
-- binary outcome is a first-time timestamp: a member counts from the day the campaign first
-- reached them, and scores 1 from the day they first did it (never after the test ended). The
-- covariates: ab_test_covariates (migration 0012), as in queries/ab_summary.sql.
WITH units AS MATERIALIZED (
    SELECT * FROM ab_test_units(:test_id)
),
pre AS MATERIALIZED (
    -- the covariates kept by the snapshot job, and on the fly only for members it has not done yet
    SELECT * FROM ab_test_covariates(:test_id, :pre_days)
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
