-- A behavioural segment added to or dropped from a campaign by an applied card.
INSERT INTO campaign_audience_rules (campaign_id, segment_key, segment_name, action, recommendation_id)
SELECT CAST(:campaign_id AS integer), CAST(:segment_key AS integer), CAST(:segment_name AS text),
       CAST(:action AS text), recommendation_id
FROM recommendations WHERE recommendation_id = :recommendation_id
ON CONFLICT (campaign_id, segment_key) DO UPDATE
SET segment_name = EXCLUDED.segment_name, action = EXCLUDED.action, recommendation_id = EXCLUDED.recommendation_id
