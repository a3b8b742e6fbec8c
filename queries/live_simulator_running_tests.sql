-- Running A/B tests on the given campaigns: the simulator assigns their campaign's audience.
SELECT test_id, campaign_id
FROM ab_tests
WHERE status = 'running' AND campaign_id = ANY(:campaign_ids)
ORDER BY test_id
