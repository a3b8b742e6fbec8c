-- The latest run of each job, with its duration and how many of its runs failed (or were
-- abandoned by a worker that died) in the last day.
SELECT DISTINCT ON (r.job) r.job, r.status, r.started_at, r.finished_at,
       extract(epoch FROM r.finished_at - r.started_at) * 1000 AS duration_ms,
       r.rows_processed, r.detail, r.attempt, r.worker,
       (SELECT count(*) FROM job_runs f WHERE f.job = r.job AND f.status IN ('failed', 'abandoned')
          AND f.started_at > now() - interval '1 day') AS failures_last_day
FROM job_runs r
ORDER BY r.job, r.started_at DESC
