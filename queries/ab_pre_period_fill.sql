-- Compute and keep the CUPED covariates of a started test's assigned members that have none
-- stored yet (ab_test_pre_period, migration 0002; zero when a member has none). They depend
-- only on the time before the start, so they are computed once per member.
WITH test AS MATERIALIZED (
    SELECT test_id, campaign_id FROM ab_tests WHERE test_id = :test_id AND started_at IS NOT NULL
),
pending AS MATERIALIZED (
    SELECT a.member_id
    FROM test t
    JOIN ab_assignments a ON a.campaign_id = t.campaign_id AND a.test_id = t.test_id
    WHERE NOT EXISTS (SELECT 1 FROM ab_pre_period s
                      WHERE s.campaign_id = a.campaign_id AND s.test_id = a.test_id AND s.member_id = a.member_id)
),
pre AS MATERIALIZED (
    SELECT p.member_id, p.metric, p.pre
    FROM ab_test_pre_period(:test_id, :pre_days) p
    WHERE EXISTS (SELECT 1 FROM pending)
)
INSERT INTO ab_pre_period (campaign_id, test_id, member_id, opened, clicked, converted, clicks, revenue, reward_cost)
SELECT t.campaign_id, t.test_id, m.member_id,
       coalesce(max(p.pre) FILTER (WHERE p.metric = 'opened'), 0),
       coalesce(max(p.pre) FILTER (WHERE p.metric = 'clicked'), 0),
       coalesce(max(p.pre) FILTER (WHERE p.metric = 'converted'), 0),
       coalesce(max(p.pre) FILTER (WHERE p.metric = 'clicks'), 0),
       coalesce(max(p.pre) FILTER (WHERE p.metric = 'revenue'), 0),
       coalesce(max(p.pre) FILTER (WHERE p.metric = 'reward_cost'), 0)
FROM test t
CROSS JOIN pending m
LEFT JOIN pre p ON p.member_id = m.member_id
GROUP BY t.campaign_id, t.test_id, m.member_id
ON CONFLICT DO NOTHING
