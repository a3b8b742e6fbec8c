INSERT INTO opt_model_runs (started_at, data_through, holdout_from, seconds, trained_by, metrics)
VALUES (:started_at, :data_through, :holdout_from, :seconds, :trained_by, CAST(:metrics AS jsonb))
RETURNING run_id
