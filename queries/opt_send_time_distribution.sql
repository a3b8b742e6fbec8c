-- How many members have each best local hour, per segment, personal estimate or segment fallback.
SELECT segment, best_hour, personal, count(*) AS members, avg(confidence)::float8 AS mean_confidence
FROM opt_member_send_time
WHERE run_id = (SELECT run_id FROM opt_current)
GROUP BY segment, best_hour, personal
ORDER BY segment, best_hour, personal
