-- Raise an alert of a kind for a test once; later raises of the same kind change nothing.
INSERT INTO ab_alerts (campaign_id, test_id, kind, message, details)
SELECT campaign_id, test_id, :kind, :message, CAST(:details AS jsonb)
FROM ab_tests WHERE test_id = :test_id
ON CONFLICT (test_id, kind) DO NOTHING
RETURNING alert_id
