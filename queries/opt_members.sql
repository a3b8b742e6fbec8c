-- Model inputs about members: no personal data.
SELECT member_id, segment, timezone, device, region_code, signup_at
FROM members
ORDER BY member_id
