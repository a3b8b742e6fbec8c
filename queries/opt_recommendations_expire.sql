-- A new retrain replaces the proposals of earlier ones.
UPDATE recommendations
SET status = 'expired', decided_at = now(), decided_by = 'retrain'
WHERE status = 'proposed' AND run_id IS DISTINCT FROM :run_id
