-- The realised impact of an applied card, measured against its holdout (one row per card).
INSERT INTO opt_realised_impact (campaign_id, recommendation_id, measured_at, days, treated_members,
                                 holdout_members, enough_data, impact_mean, impact_low, impact_high, detail)
SELECT CAST(:campaign_id AS integer), recommendation_id, now(), CAST(:days AS double precision),
       CAST(:treated_members AS integer), CAST(:holdout_members AS integer), CAST(:enough_data AS boolean),
       CAST(:impact_mean AS double precision), CAST(:impact_low AS double precision),
       CAST(:impact_high AS double precision), CAST(:detail AS jsonb)
FROM recommendations WHERE recommendation_id = :recommendation_id
ON CONFLICT (campaign_id, recommendation_id) DO UPDATE
SET measured_at = EXCLUDED.measured_at, days = EXCLUDED.days, treated_members = EXCLUDED.treated_members,
    holdout_members = EXCLUDED.holdout_members, enough_data = EXCLUDED.enough_data,
    impact_mean = EXCLUDED.impact_mean, impact_low = EXCLUDED.impact_low,
    impact_high = EXCLUDED.impact_high, detail = EXCLUDED.detail
