-- The latest arrived events (highest event_id: the BRIN on event_id finds the last block
-- ranges, the time bound prunes to the newest partitions), then their campaign and member.
WITH latest AS (
    SELECT event_id, event_time, event_type, campaign_id, member_id, variant, device, region_code, revenue
    FROM events
    WHERE event_time >= :since AND event_time <= :now
      AND event_id > (SELECT coalesce(pg_sequence_last_value('events_event_id_seq'), 0)) - :lookback_ids
    ORDER BY event_id DESC
    LIMIT :limit
)
SELECT l.event_id, l.event_time, l.event_type, l.campaign_id, c.name AS campaign,
       l.member_id, m.full_name, l.variant, l.device, l.region_code, l.revenue
FROM latest l
LEFT JOIN campaigns c ON c.campaign_id = l.campaign_id
LEFT JOIN members m ON m.member_id = l.member_id
ORDER BY l.event_id DESC
