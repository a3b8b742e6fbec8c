-- What applied recommendations changed per member (core/platform/migrations 0003): the members
-- an audience rule added or removed, the members a pause stopped (all but its holdout, who keep
-- receiving the campaign), and the holdout of an offer change, which keeps the offer the card
-- replaced (details.change.before). Only those rows: an offer's treated members get the
-- campaign's new offer and an audience rule's or a pause's holdout is left as it was, so their
-- rows (most of an offer card's) would be read for nothing. One row per campaign, kind and
-- replaced offer, its members as an array (not a row per member: the simulator reads this every
-- few seconds).
SELECT r.campaign_id, r.kind, h.in_holdout,
       CASE WHEN r.kind = 'offer' THEN (r.details -> 'change' ->> 'before')::integer END AS before_offer_id,
       array_agg(h.member_id ORDER BY h.member_id) AS member_ids
FROM recommendations r
JOIN campaign_holdouts h ON h.campaign_id = r.campaign_id AND h.recommendation_id = r.recommendation_id
WHERE r.status = 'applied' AND r.kind IN ('offer', 'segment_add', 'segment_drop', 'pause')
  AND h.in_holdout = (r.kind = 'offer')
  AND r.campaign_id = ANY(:campaign_ids) AND h.campaign_id = ANY(:campaign_ids)  -- (both: Citus routes by the holdouts')
GROUP BY 1, 2, 3, 4
