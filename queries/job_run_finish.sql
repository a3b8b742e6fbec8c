UPDATE job_runs SET finished_at = clock_timestamp(), status = :status, rows_processed = :rows, detail = :detail
WHERE run_id = :run_id
