-- Variant assignments of the running A/B tests on the given campaigns, with the test's name
-- (the demo's planted effects are looked up by it) and when it started.
SELECT a.campaign_id, a.test_id, a.member_id, a.variant, t.name AS test_name, t.started_at
FROM ab_assignments a
JOIN ab_tests t ON t.test_id = a.test_id AND t.campaign_id = a.campaign_id
WHERE t.status = 'running' AND a.campaign_id = ANY(:campaign_ids)
