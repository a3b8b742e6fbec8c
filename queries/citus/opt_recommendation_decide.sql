-- Citus variant of queries/opt_recommendation_decide.sql (same parameters, same effect): Citus
-- refuses now() inside CASE in an UPDATE of a reference table, so the moment is taken once in
-- a subquery.
UPDATE recommendations
SET status = :status, decided_at = moment.at, decided_by = :decided_by,
    applied_at = CASE WHEN CAST(:status AS text) = 'applied' THEN moment.at ELSE applied_at END,
    holdout_share = coalesce(CAST(:holdout_share AS real), holdout_share)
FROM (SELECT now() AS at) AS moment
WHERE recommendation_id = :recommendation_id
