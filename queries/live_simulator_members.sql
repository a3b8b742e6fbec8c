-- Everyone the live simulator may reach, with their time zone (no personal data: it never needs any).
SELECT member_id, segment, region_code, device, timezone, notifications_opt_in
FROM members
ORDER BY member_id
