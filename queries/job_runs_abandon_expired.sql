-- Runs whose worker stopped renewing their lease (killed, crashed, or cut off from the database)
-- are abandoned: they ended, unseen, some time after their last heartbeat. Returns those runs.
UPDATE job_runs
SET status = 'abandoned', finished_at = heartbeat_at,
    detail = format('abandoned: worker %s stopped renewing its lease (last seen %s UTC, lease ended %s UTC); '
                    'it was killed, crashed or lost the database before the run finished',
                    worker, to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
                    to_char(lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'))
WHERE status = 'running' AND lease_expires_at < clock_timestamp()
RETURNING run_id, job, worker
