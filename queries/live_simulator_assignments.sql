-- Variant assignments of the running A/B tests on the given campaigns, with the test's name.
SELECT a.campaign_id, a.member_id, a.variant, t.name AS test_name
FROM ab_assignments a
JOIN ab_tests t ON t.test_id = a.test_id
WHERE t.status = 'running' AND a.campaign_id = ANY(:campaign_ids)
