-- Citus variant of queries/ab_unassigned_members.sql (same parameters, same answer): the NOT
-- EXISTS names the member row's own campaign (equal to the test's by the join), so Citus runs it
-- on each shard (it refuses a subquery tied to a reference table's column).
SELECT cm.member_id
FROM ab_tests t
JOIN campaign_members cm ON cm.campaign_id = t.campaign_id
WHERE t.test_id = :test_id AND cm.first_send_at >= t.started_at
  AND NOT EXISTS (SELECT 1 FROM ab_assignments a
                  WHERE a.campaign_id = cm.campaign_id AND a.test_id = t.test_id AND a.member_id = cm.member_id)
ORDER BY cm.member_id
