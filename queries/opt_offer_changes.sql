-- Every applied offer card: when it changed which campaign's offer from what to what
-- (details.change), oldest first. A campaign's outcomes before a change were earned under the
-- offer it replaced (core.optimize.inputs.offer_received).
SELECT r.campaign_id, r.recommendation_id, r.applied_at,
       CAST(r.details -> 'change' ->> 'before' AS integer) AS before_offer_id,
       CAST(r.details -> 'change' ->> 'after' AS integer) AS after_offer_id
FROM recommendations r
WHERE r.kind = 'offer' AND r.status = 'applied' AND r.applied_at IS NOT NULL
  AND r.details -> 'change' ->> 'before' IS NOT NULL AND r.details -> 'change' ->> 'after' IS NOT NULL
ORDER BY r.campaign_id, r.applied_at, r.recommendation_id
