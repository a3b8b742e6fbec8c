UPDATE recommendations
SET status = :status, decided_at = now(), decided_by = :decided_by,
    applied_at = CASE WHEN CAST(:status AS text) = 'applied' THEN now() ELSE applied_at END,
    holdout_share = coalesce(CAST(:holdout_share AS real), holdout_share)
WHERE recommendation_id = :recommendation_id
