-- A session-level advisory lock: held across transactions until advisory_unlock or the end of the
-- session (the session ends with its client: see core.platform.db.session_options).
SELECT pg_try_advisory_lock(:lock_key)
