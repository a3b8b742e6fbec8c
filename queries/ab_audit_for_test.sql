SELECT at, actor, role, action, details FROM audit_log
WHERE target = :target ORDER BY audit_id DESC LIMIT :limit
