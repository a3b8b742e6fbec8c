SELECT category, rank, score, expected_engagement, impressions, clicks, conversions
FROM opt_member_affinity
WHERE run_id = (SELECT run_id FROM opt_current) AND member_id = :member_id
ORDER BY rank
