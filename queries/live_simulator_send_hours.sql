-- Per-member local send hours that applied send-time recommendations set, one row per campaign
-- with its members and their hours as two arrays in the same order (not a row per member: the
-- simulator reads this every few seconds).
SELECT campaign_id,
       array_agg(member_id ORDER BY member_id) AS member_ids,
       array_agg(send_hour ORDER BY member_id) AS send_hours
FROM campaign_member_send_hours
WHERE campaign_id = ANY(:campaign_ids)
GROUP BY campaign_id
