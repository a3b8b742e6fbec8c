-- Members with a send-time estimate in the current run, most history first (explorer picker).
SELECT member_id, segment, sends, personal
FROM opt_member_send_time
WHERE run_id = (SELECT run_id FROM opt_current)
ORDER BY sends DESC, member_id
LIMIT :limit
