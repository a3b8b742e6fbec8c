-- Each member's behavioural segment in a run.
SELECT member_id, segment_key FROM opt_member_segments WHERE run_id = :run_id ORDER BY member_id
