SELECT run_id, job, status, attempt, started_at, extract(epoch FROM finished_at - started_at) * 1000 AS duration_ms,
       rows_processed, detail, worker
FROM job_runs ORDER BY run_id DESC LIMIT :limit
