-- Move one event the roller cannot fold out of events, with the database's reason.
WITH moved AS (
    DELETE FROM events WHERE event_id = :event_id
    RETURNING event_id, event_time, campaign_id, member_id, variant, event_type, revenue, reward_cost, device,
              region_code
)
INSERT INTO rollup_quarantine (event_id, event_time, campaign_id, member_id, variant, event_type, revenue,
                               reward_cost, device, region_code, reason)
SELECT event_id, event_time, campaign_id, member_id, variant, event_type, revenue, reward_cost, device, region_code,
       :reason
FROM moved
ON CONFLICT (event_id) DO NOTHING
