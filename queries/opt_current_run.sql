SELECT r.run_id, r.started_at, r.finished_at, r.data_through, r.holdout_from, r.seconds, r.trained_by,
       r.metrics, c.switched_at
FROM opt_current c
JOIN opt_model_runs r USING (run_id)
