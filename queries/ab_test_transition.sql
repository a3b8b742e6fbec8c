-- Move a test from one of :from_statuses to :to_status atomically: of two people acting at the
-- same moment, the second one's WHERE no longer matches (the row lock makes it wait and
-- re-check), so exactly one transition happens and only it returns a row. :at (NULL: now) is
-- when it happened: the system records past decisions with their moment (the demo's history).
UPDATE ab_tests SET
    status = :to_status,
    started_at = CASE WHEN :to_status = 'running' THEN coalesce(started_at, CAST(:at AS timestamptz), now()) ELSE started_at END,
    ended_at = CASE WHEN :to_status IN ('stopped', 'completed') THEN coalesce(ended_at, CAST(:at AS timestamptz), now()) ELSE ended_at END,
    winner = coalesce(CAST(:winner AS text), winner),
    decision = coalesce(CAST(:decision AS text), decision)
WHERE test_id = :test_id AND status = ANY(CAST(:from_statuses AS text[]))
RETURNING test_id, campaign_id, status, started_at, ended_at
