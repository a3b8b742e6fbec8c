SELECT segment, category, mean_score, top3_share, members
FROM opt_segment_affinity
WHERE run_id = (SELECT run_id FROM opt_current)
ORDER BY segment, category
