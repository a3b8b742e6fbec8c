-- What applied recommendations changed per member (core/platform/migrations 0003): the members
-- an audience rule added or removed, the members a pause stopped (all but its holdout, who keep
-- receiving the campaign), and the holdout of an offer change, which keeps the offer the card
-- replaced (details.change.before).
SELECT r.campaign_id, r.kind, h.member_id, h.in_holdout,
       CASE WHEN r.kind = 'offer' THEN (r.details -> 'change' ->> 'before')::integer END AS before_offer_id
FROM recommendations r
JOIN campaign_holdouts h ON h.campaign_id = r.campaign_id AND h.recommendation_id = r.recommendation_id
WHERE r.status = 'applied' AND r.kind IN ('offer', 'segment_add', 'segment_drop', 'pause')
  AND r.campaign_id = ANY(:campaign_ids) AND h.campaign_id = ANY(:campaign_ids)  -- (both: Citus routes by the holdouts')
