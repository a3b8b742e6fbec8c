SELECT email, role, granted_by, granted_at FROM user_roles ORDER BY email
