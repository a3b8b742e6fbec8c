-- One member's personal data (masked by core.pii for all but admins) and send-time estimate.
SELECT m.member_id, m.full_name, m.email, m.phone, m.segment, m.timezone, m.device,
       st.best_hour, st.confidence, st.personal, st.sends, st.opens, st.open_by_hour, st.click_per_open,
       ms.segment_key
FROM members m
LEFT JOIN opt_member_send_time st ON st.run_id = (SELECT run_id FROM opt_current) AND st.member_id = m.member_id
LEFT JOIN opt_member_segments ms ON ms.run_id = (SELECT run_id FROM opt_current) AND ms.member_id = m.member_id
WHERE m.member_id = :member_id
