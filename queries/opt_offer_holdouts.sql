-- The members each applied offer card held out: they kept the offer the card replaced.
SELECT h.campaign_id, h.member_id, h.recommendation_id
FROM campaign_holdouts h
JOIN recommendations r ON r.recommendation_id = h.recommendation_id AND r.campaign_id = h.campaign_id
WHERE h.in_holdout AND r.kind = 'offer' AND r.status = 'applied'
