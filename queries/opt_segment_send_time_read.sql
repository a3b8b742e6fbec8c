SELECT segment, best_hour, members, personal_members, hour_prior, open_by_hour, weekday_factor
FROM opt_segment_send_time
WHERE run_id = (SELECT run_id FROM opt_current)
ORDER BY segment
