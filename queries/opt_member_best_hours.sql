-- Each member's recommended local send hour in a run (what an applied send-time card uses).
SELECT member_id, best_hour FROM opt_member_send_time WHERE run_id = :run_id ORDER BY member_id
