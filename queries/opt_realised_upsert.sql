INSERT INTO opt_realised_impact (campaign_id, recommendation_id, measured_at, days, treated_members,
                                 holdout_members, enough_data, impact_mean, impact_low, impact_high, detail)
VALUES (:campaign_id, :recommendation_id, now(), :days, :treated_members, :holdout_members, :enough_data,
        :impact_mean, :impact_low, :impact_high, CAST(:detail AS jsonb))
ON CONFLICT (campaign_id, recommendation_id) DO UPDATE
SET measured_at = EXCLUDED.measured_at, days = EXCLUDED.days, treated_members = EXCLUDED.treated_members,
    holdout_members = EXCLUDED.holdout_members, enough_data = EXCLUDED.enough_data,
    impact_mean = EXCLUDED.impact_mean, impact_low = EXCLUDED.impact_low,
    impact_high = EXCLUDED.impact_high, detail = EXCLUDED.detail
