-- Members assigned to each variant of a test, how many of them are units (the campaign reached
-- them before the test ended) and how many were units already at :before (traffic rate).
WITH units AS MATERIALIZED (
    SELECT member_id, first_send_at FROM ab_test_units(:test_id)
)
SELECT a.variant, count(*) AS assigned, count(u.member_id) AS reached,
       count(u.member_id) FILTER (WHERE u.first_send_at < :before) AS reached_before
FROM ab_tests t
JOIN ab_assignments a ON a.campaign_id = t.campaign_id AND a.test_id = t.test_id
LEFT JOIN units u ON u.member_id = a.member_id
WHERE t.test_id = :test_id
GROUP BY a.variant
ORDER BY a.variant
