SELECT recommendation_id, campaign_id, kind, segment, title, details, status, run_id, holdout_share,
       impact_mean, impact_low, impact_high, expires_at
FROM recommendations
WHERE recommendation_id = :recommendation_id
FOR UPDATE
