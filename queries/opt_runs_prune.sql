-- Keep the newest :keep runs (and always the current one); their outputs go with them.
DELETE FROM opt_model_runs
WHERE run_id NOT IN (SELECT run_id FROM opt_model_runs ORDER BY run_id DESC LIMIT :keep)
  AND run_id NOT IN (SELECT run_id FROM opt_current)
