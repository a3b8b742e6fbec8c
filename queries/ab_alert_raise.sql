-- Raise an alert of a kind for a test once; later raises change nothing while it is open. An
-- alert closed because its condition ended opens again when the condition returns.
INSERT INTO ab_alerts AS a (campaign_id, test_id, kind, message, details)
SELECT campaign_id, test_id, :kind, :message, CAST(:details AS jsonb)
FROM ab_tests WHERE test_id = :test_id
ON CONFLICT (test_id, kind) DO UPDATE SET
    message = excluded.message, details = excluded.details, raised_at = now(),
    acknowledged_by = NULL, acknowledged_at = NULL, closed_at = NULL, closed_reason = NULL
WHERE a.closed_at IS NOT NULL
RETURNING alert_id
