-- Members of running or finished A/B tests, their variant and outcome in the test's campaign.
SELECT a.campaign_id, a.test_id, a.member_id, a.variant, v.is_control,
       coalesce(cm.sends, 0) AS sends, coalesce(cm.clicks, 0) AS clicks,
       coalesce(cm.conversions, 0) AS conversions, coalesce(cm.revenue, 0)::float8 AS revenue,
       coalesce(cm.reward_cost, 0)::float8 AS reward_cost
FROM ab_assignments a
JOIN ab_tests t ON t.test_id = a.test_id
JOIN ab_variants v ON v.test_id = a.test_id AND v.variant = a.variant
LEFT JOIN campaign_members cm ON cm.campaign_id = a.campaign_id AND cm.member_id = a.member_id
WHERE t.status IN ('running', 'paused', 'stopped', 'completed')
