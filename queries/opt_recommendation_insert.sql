INSERT INTO recommendations (campaign_id, kind, segment, title, details, confidence, ease, impact_mean,
                             impact_low, impact_high, status, run_id, expires_at, holdout_share)
VALUES (:campaign_id, :kind, :segment, :title, CAST(:details AS jsonb), :confidence, :ease, :impact_mean,
        :impact_low, :impact_high, 'proposed', :run_id, :expires_at, :holdout_share)
