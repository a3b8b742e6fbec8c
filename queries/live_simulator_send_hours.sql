-- Per-member local send hours that applied send-time recommendations set.
SELECT campaign_id, member_id, send_hour
FROM campaign_member_send_hours
WHERE campaign_id = ANY(:campaign_ids)
