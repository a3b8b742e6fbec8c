-- Per-member send hours for the treated members (not the holdout) of a send-time card.
INSERT INTO campaign_member_send_hours (campaign_id, member_id, send_hour, recommendation_id)
SELECT h.campaign_id, h.member_id, st.best_hour, h.recommendation_id
FROM campaign_holdouts h
JOIN opt_member_send_time st ON st.run_id = :run_id AND st.member_id = h.member_id
WHERE h.campaign_id = :campaign_id AND h.recommendation_id = :recommendation_id AND NOT h.in_holdout
ON CONFLICT (campaign_id, member_id) DO UPDATE
SET send_hour = EXCLUDED.send_hour, recommendation_id = EXCLUDED.recommendation_id
