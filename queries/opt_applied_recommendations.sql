-- Applied cards whose real effect can be measured against a holdout.
SELECT r.recommendation_id, r.campaign_id, r.kind, r.applied_at, r.holdout_share, c.cost_per_send::float8 AS cost_per_send
FROM recommendations r
JOIN campaigns c USING (campaign_id)
WHERE r.status = 'applied' AND r.holdout_share > 0 AND r.applied_at IS NOT NULL
ORDER BY r.recommendation_id
