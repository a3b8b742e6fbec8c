-- Members assigned to each variant of a test, how many of them are units (the campaign reached
-- them before the test ended, or before :as_of when given) and how many were units already at
-- :before (traffic rate).
-- Aggregated before joining, so the plan stays cheap whatever the row estimates.
WITH reached AS (
    SELECT variant, count(*) AS reached, count(*) FILTER (WHERE first_send_at < :before) AS reached_before
    FROM ab_test_units(:test_id)
    WHERE first_send_at < coalesce(CAST(:as_of AS timestamptz), 'infinity'::timestamptz)
    GROUP BY variant
),
assigned AS (
    SELECT a.variant, count(*) AS assigned
    FROM ab_tests t
    JOIN ab_assignments a ON a.campaign_id = t.campaign_id AND a.test_id = t.test_id
    WHERE t.test_id = :test_id
    GROUP BY a.variant
)
SELECT a.variant, a.assigned, coalesce(r.reached, 0) AS reached, coalesce(r.reached_before, 0) AS reached_before
FROM assigned a
LEFT JOIN reached r ON r.variant = a.variant
ORDER BY a.variant
