INSERT INTO audit_log (actor, role, action, target, details)
VALUES (:actor, :role, :action, :target, CAST(:details AS jsonb))
