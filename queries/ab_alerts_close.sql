-- Close a test's open alerts of these kinds (their condition ended, or the test did).
UPDATE ab_alerts SET closed_at = now(), closed_reason = :reason
WHERE test_id = :test_id AND kind = ANY(CAST(:kinds AS text[])) AND closed_at IS NULL
RETURNING alert_id, kind
