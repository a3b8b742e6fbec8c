-- Move the app to run :run_id (the atomic pointer flip at the end of a retrain).
INSERT INTO opt_current (singleton, run_id, switched_at)
SELECT true, run_id, now() FROM opt_model_runs WHERE run_id = :run_id
ON CONFLICT (singleton) DO UPDATE SET run_id = EXCLUDED.run_id, switched_at = EXCLUDED.switched_at
