INSERT INTO user_roles (email, role, granted_by) VALUES (:email, :role, :granted_by)
ON CONFLICT (email) DO UPDATE SET role = excluded.role, granted_by = excluded.granted_by, granted_at = now()
