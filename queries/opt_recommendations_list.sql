-- Proposed cards of the current run, best expected impact first, optionally filtered.
SELECT r.recommendation_id, r.campaign_id, c.name AS campaign, r.kind, r.segment, r.title, r.details,
       r.confidence, r.ease, r.impact_mean, r.impact_low, r.impact_high, r.status, r.created_at,
       r.expires_at, r.holdout_share
FROM recommendations r
LEFT JOIN campaigns c USING (campaign_id)
WHERE r.status = 'proposed'
  AND r.run_id = (SELECT run_id FROM opt_current)
  AND (CAST(:campaign_id AS integer) IS NULL OR r.campaign_id = CAST(:campaign_id AS integer))
  AND (CAST(:kind AS text) IS NULL OR r.kind = CAST(:kind AS text))
  AND (CAST(:segment AS text) IS NULL OR r.segment = CAST(:segment AS text))
ORDER BY r.impact_mean DESC NULLS LAST, r.recommendation_id
