-- A new run holds a lease of :lease_seconds, renewed by job_run_heartbeat while it works.
INSERT INTO job_runs (job, worker, attempt, heartbeat_at, lease_expires_at)
VALUES (:job, :worker, :attempt, clock_timestamp(), clock_timestamp() + make_interval(secs => :lease_seconds))
RETURNING run_id
