-- Record the affected members of an applied recommendation; a random :share of them (hash of
-- member and recommendation, so it is the same if recomputed) stays on the old setting.
INSERT INTO campaign_holdouts (campaign_id, recommendation_id, member_id, in_holdout)
SELECT :campaign_id, :recommendation_id, m,
       (hashtext(m::text || ':' || CAST(:recommendation_id AS text)) & 2147483647) % 100000 < :share * 100000
FROM unnest(CAST(:member_ids AS bigint[])) AS m
