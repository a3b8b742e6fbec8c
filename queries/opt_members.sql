-- Model inputs about members: no personal data. (notifications_opt_in: push reaches only those
-- who opted in, so a push campaign's added segment counts only them.)
SELECT member_id, segment, timezone, device, region_code, signup_at, notifications_opt_in
FROM members
ORDER BY member_id
