UPDATE ab_alerts SET acknowledged_by = :actor, acknowledged_at = now()
WHERE alert_id = :alert_id AND acknowledged_at IS NULL
RETURNING alert_id, test_id, kind
