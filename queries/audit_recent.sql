SELECT at, actor, role, action, target, details FROM audit_log ORDER BY audit_id DESC LIMIT :limit
