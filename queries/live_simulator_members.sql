-- Everyone the live simulator may reach, with their time zone (no personal data: it never needs
-- any), as one row of arrays in member order (read at every reload: a row per member was most
-- of a second at 60,000 members).
SELECT array_agg(member_id ORDER BY member_id) AS member_id,
       array_agg(segment ORDER BY member_id) AS segment,
       array_agg(region_code ORDER BY member_id) AS region_code,
       array_agg(device ORDER BY member_id) AS device,
       array_agg(timezone ORDER BY member_id) AS timezone,
       array_agg(notifications_opt_in ORDER BY member_id) AS notifications_opt_in
FROM members
