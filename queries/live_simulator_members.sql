-- Everyone the live simulator may reach (no personal data: it never needs any).
SELECT member_id, segment, region_code, device, notifications_opt_in
FROM members
ORDER BY member_id
