INSERT INTO campaign_audience_rules (campaign_id, segment_key, segment_name, action, recommendation_id)
VALUES (:campaign_id, :segment_key, :segment_name, :action, :recommendation_id)
ON CONFLICT (campaign_id, segment_key) DO UPDATE
SET segment_name = EXCLUDED.segment_name, action = EXCLUDED.action, recommendation_id = EXCLUDED.recommendation_id
