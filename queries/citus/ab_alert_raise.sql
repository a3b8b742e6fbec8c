-- Citus variant of queries/ab_alert_raise.sql (same parameters, same effect): Citus refuses
-- now() in ON CONFLICT … DO UPDATE SET on a reference table, so the moment is written as the
-- new row's raised_at and taken from it (excluded.raised_at) when a closed alert opens again.
INSERT INTO ab_alerts AS a (campaign_id, test_id, kind, message, details, raised_at)
SELECT campaign_id, test_id, :kind, :message, CAST(:details AS jsonb), now()
FROM ab_tests WHERE test_id = :test_id
ON CONFLICT (test_id, kind) DO UPDATE SET
    message = excluded.message, details = excluded.details, raised_at = excluded.raised_at,
    acknowledged_by = NULL, acknowledged_at = NULL, closed_at = NULL, closed_reason = NULL
WHERE a.closed_at IS NOT NULL
RETURNING alert_id
