-- Citus variant of queries/ab_assigned_counts.sql (same parameters, same answer): the body of
-- ab_test_units() written out (Citus does not plan a SQL function that reads distributed tables).
WITH test AS MATERIALIZED (
    SELECT test_id, campaign_id,
           least(coalesce(ended_at, 'infinity'::timestamptz),
                 coalesce(CAST(:as_of AS timestamptz), 'infinity'::timestamptz)) AS ended_at
    FROM ab_tests WHERE test_id = :test_id
),
reached AS (
    SELECT a.variant, count(*) AS reached, count(*) FILTER (WHERE cm.first_send_at < :before) AS reached_before
    FROM test t
    JOIN ab_assignments a ON a.campaign_id = t.campaign_id AND a.test_id = t.test_id
    JOIN campaign_members cm ON cm.campaign_id = a.campaign_id AND cm.member_id = a.member_id
    WHERE cm.first_send_at < t.ended_at
    GROUP BY a.variant
),
assigned AS (
    SELECT a.variant, count(*) AS assigned
    FROM test t
    JOIN ab_assignments a ON a.campaign_id = t.campaign_id AND a.test_id = t.test_id
    GROUP BY a.variant
)
SELECT a.variant, a.assigned, coalesce(r.reached, 0) AS reached, coalesce(r.reached_before, 0) AS reached_before
FROM assigned a
LEFT JOIN reached r ON r.variant = a.variant
ORDER BY a.variant
