-- Variant assignments of the running A/B tests on the given campaigns, one row per test with its
-- members and their variants as two arrays in the same order (a row per member was a second per
-- reload at 60,000 assignments), the test's name (the demo's planted effects are looked up by it)
-- and when it started.
SELECT a.campaign_id, a.test_id, t.name AS test_name, t.started_at,
       array_agg(a.member_id ORDER BY a.member_id) AS member_ids,
       array_agg(a.variant ORDER BY a.member_id) AS variants
FROM ab_assignments a
JOIN ab_tests t ON t.test_id = a.test_id AND t.campaign_id = a.campaign_id
WHERE t.status = 'running' AND a.campaign_id = ANY(:campaign_ids)
GROUP BY a.campaign_id, a.test_id, t.name, t.started_at
ORDER BY a.campaign_id, a.test_id
