-- Behavioural segments of run :run_id (the current run when NULL).
SELECT segment_key, name, members, profile, centroid
FROM opt_segments
WHERE run_id = coalesce(CAST(:run_id AS bigint), (SELECT run_id FROM opt_current))
ORDER BY segment_key
