INSERT INTO job_runs (job, worker, attempt) VALUES (:job, :worker, :attempt) RETURNING run_id
