-- Citus variant of queries/ab_pre_period_fill.sql (same parameters, same effect): the SQL
-- function ab_test_pre_period() reads distributed tables, which Citus does not plan inside a
-- function, so its body is written out here as in queries/citus/ab_summary.sql (migration 0002
-- defines it; this must stay the same as there).
WITH test AS MATERIALIZED (
    SELECT test_id, campaign_id, started_at FROM ab_tests WHERE test_id = :test_id AND started_at IS NOT NULL
),
pending AS MATERIALIZED (
    SELECT a.member_id
    FROM test t
    JOIN ab_assignments a ON a.campaign_id = t.campaign_id AND a.test_id = t.test_id
    WHERE NOT EXISTS (SELECT 1 FROM ab_pre_period s
                      WHERE s.campaign_id = a.campaign_id AND s.test_id = a.test_id AND s.member_id = a.member_id)
),
pre AS MATERIALIZED (
    SELECT u.member_id, x.metric,
           CASE WHEN x.kind = 'binomial' THEN max(x.value)
                ELSE coalesce(sum(x.value) FILTER (WHERE c.ends_at <= t.started_at
                    AND o.first_send_at >= t.started_at - make_interval(days => :pre_days)), 0) END AS pre
    FROM test t
    CROSS JOIN pending u
    JOIN campaign_members o ON o.member_id = u.member_id AND o.campaign_id <> t.campaign_id
                           AND o.first_send_at < t.started_at
    JOIN campaigns c ON c.campaign_id = o.campaign_id
    CROSS JOIN LATERAL ab_member_outcomes(o.first_open_at, o.first_click_at, o.first_conversion_at, o.clicks,
                                          o.revenue, o.reward_cost,
                                          t.started_at - make_interval(days => :pre_days), t.started_at) x
    GROUP BY u.member_id, x.metric, x.kind
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
