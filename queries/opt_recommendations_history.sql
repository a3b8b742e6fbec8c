-- Every card with its status and, for applied ones, the realised impact measured so far.
SELECT r.recommendation_id, r.campaign_id, c.name AS campaign, r.kind, r.segment, r.title, r.status,
       r.confidence, r.ease, r.impact_mean, r.impact_low, r.impact_high, r.created_at, r.decided_at,
       r.decided_by, r.applied_at, r.holdout_share,
       i.measured_at, i.days AS realised_days, i.treated_members, i.holdout_members, i.enough_data,
       i.impact_mean AS realised_mean, i.impact_low AS realised_low, i.impact_high AS realised_high
FROM recommendations r
LEFT JOIN campaigns c USING (campaign_id)
LEFT JOIN opt_realised_impact i ON i.campaign_id = r.campaign_id AND i.recommendation_id = r.recommendation_id
WHERE (CAST(:campaign_id AS integer) IS NULL OR r.campaign_id = CAST(:campaign_id AS integer))
ORDER BY (r.status = 'applied') DESC, (r.status = 'proposed') DESC, r.created_at DESC, r.recommendation_id DESC
LIMIT :limit
