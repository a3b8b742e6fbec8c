-- Move the app to run :run_id (the atomic pointer flip at the end of a retrain).
INSERT INTO opt_current (singleton, run_id, switched_at) VALUES (true, :run_id, now())
ON CONFLICT (singleton) DO UPDATE SET run_id = EXCLUDED.run_id, switched_at = EXCLUDED.switched_at
