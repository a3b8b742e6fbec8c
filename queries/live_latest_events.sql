-- The newest events the rollups hold (at most 50, kept by the roller), stamped in
-- [since, now], newest first, with their campaign and member.
SELECT l.event_id, l.event_time, l.event_type, l.campaign_id, c.name AS campaign,
       l.member_id, m.full_name, l.variant, l.device, l.region_code, l.revenue
FROM rollup_live_latest l
LEFT JOIN campaigns c ON c.campaign_id = l.campaign_id
LEFT JOIN members m ON m.member_id = l.member_id
WHERE l.event_time >= :since AND l.event_time <= :now
ORDER BY l.event_id DESC
LIMIT :limit
