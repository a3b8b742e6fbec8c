SELECT count(*) FILTER (WHERE in_holdout) AS held_out, count(*) AS affected
FROM campaign_holdouts
WHERE campaign_id = :campaign_id AND recommendation_id = :recommendation_id
