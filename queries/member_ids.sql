SELECT member_id FROM members
