-- The run is still working: renew its lease (a run already marked abandoned stays so until it finishes).
UPDATE job_runs SET heartbeat_at = clock_timestamp(), lease_expires_at = clock_timestamp() + make_interval(secs => :lease_seconds)
WHERE run_id = :run_id AND status = 'running'
