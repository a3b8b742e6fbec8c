-- The events the roller moved to quarantine, newest first, with how many there are in all.
-- Long text is cut (the whole value stays in the table).
SELECT q.event_id, q.event_time, q.campaign_id, q.member_id, t.name AS event_type,
       left(q.variant, 40) AS variant, left(q.device, 40) AS device, left(q.region_code, 40) AS region_code,
       coalesce(octet_length(q.variant), 0) + coalesce(octet_length(q.device), 0) + coalesce(octet_length(q.region_code), 0)
           AS text_bytes,
       q.revenue, q.reward_cost, q.reason, q.quarantined_at,
       count(*) OVER () AS total
FROM rollup_quarantine q
LEFT JOIN event_types t ON t.event_type = q.event_type
ORDER BY q.quarantined_at DESC, q.event_id DESC
LIMIT :limit
