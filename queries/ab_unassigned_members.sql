-- Members the test's campaign reached since the test started who have no assignment yet.
SELECT cm.member_id
FROM ab_tests t
JOIN campaign_members cm ON cm.campaign_id = t.campaign_id
WHERE t.test_id = :test_id AND cm.first_send_at >= t.started_at
  AND NOT EXISTS (SELECT 1 FROM ab_assignments a
                  WHERE a.campaign_id = t.campaign_id AND a.test_id = t.test_id AND a.member_id = cm.member_id)
ORDER BY cm.member_id
