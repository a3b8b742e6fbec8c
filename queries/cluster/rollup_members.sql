-- The Citus roller, statement 10 of 14 (after rollup_reach and rollup_all_campaigns_reach, which
-- read the rows it changes): the exact per-member state of the events in (:from_id, :to_id].
INSERT INTO campaign_members AS cm
    (campaign_id, member_id, variant, first_send_at, first_delivered_at, first_open_at,
     first_click_at, first_conversion_at, last_engaged_at, sends, opens, clicks, conversions,
     revenue, reward_cost)
SELECT campaign_id, member_id, max(variant),
       min(event_time) FILTER (WHERE event_type = 1), min(event_time) FILTER (WHERE event_type = 2),
       min(event_time) FILTER (WHERE event_type = 3), min(event_time) FILTER (WHERE event_type = 5),
       min(event_time) FILTER (WHERE event_type = 6), max(event_time) FILTER (WHERE event_type IN (3, 5)),
       count(*) FILTER (WHERE event_type = 1), count(*) FILTER (WHERE event_type = 3),
       count(*) FILTER (WHERE event_type = 5), count(*) FILTER (WHERE event_type = 6),
       coalesce(sum(revenue), 0), coalesce(sum(reward_cost), 0)
FROM events
WHERE event_id > :from_id AND event_id <= :to_id
GROUP BY campaign_id, member_id
ON CONFLICT (campaign_id, member_id) DO UPDATE SET
    variant = coalesce(cm.variant, excluded.variant),
    first_send_at = least(cm.first_send_at, excluded.first_send_at),
    first_delivered_at = least(cm.first_delivered_at, excluded.first_delivered_at),
    first_open_at = least(cm.first_open_at, excluded.first_open_at),
    first_click_at = least(cm.first_click_at, excluded.first_click_at),
    first_conversion_at = least(cm.first_conversion_at, excluded.first_conversion_at),
    last_engaged_at = greatest(cm.last_engaged_at, excluded.last_engaged_at),
    sends = cm.sends + excluded.sends, opens = cm.opens + excluded.opens,
    clicks = cm.clicks + excluded.clicks, conversions = cm.conversions + excluded.conversions,
    revenue = cm.revenue + excluded.revenue, reward_cost = cm.reward_cost + excluded.reward_cost
