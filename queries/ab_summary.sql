-- Per-variant summary statistics of one test for every outcome, as of now (cut at the test's
-- end) or as of :as_of when given (NULL: now; binary outcomes and the units are exact as of
-- any moment, totals are as of now): n, sum, sum of squares, and the CUPED pre-period sums.
-- The units, the outcomes and the covariates are defined once in migrations 0002 and 0012
-- (ab_test_units, ab_member_outcomes, ab_test_covariates) and documented in
-- core.experiments.outcomes.
WITH units AS MATERIALIZED (
    SELECT u.*, least(u.ended_at, c.cut) AS cut
    FROM ab_test_units(:test_id) u
    CROSS JOIN (SELECT coalesce(CAST(:as_of AS timestamptz), 'infinity'::timestamptz) AS cut) c
    WHERE u.first_send_at < c.cut
),
pre AS MATERIALIZED (
    -- the covariates kept by the snapshot job, and on the fly only for members it has not done yet
    SELECT * FROM ab_test_covariates(:test_id, :pre_days)
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
