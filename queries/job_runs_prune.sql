DELETE FROM job_runs WHERE started_at < :before
