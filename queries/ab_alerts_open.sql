-- Alerts nobody has acknowledged and whose condition still holds, newest first, with their test.
SELECT a.alert_id, a.test_id, t.name AS test, a.campaign_id, a.kind, a.message, a.details, a.raised_at
FROM ab_alerts a
JOIN ab_tests t ON t.test_id = a.test_id
WHERE a.acknowledged_at IS NULL AND a.closed_at IS NULL
ORDER BY a.raised_at DESC, a.alert_id DESC
LIMIT :limit
