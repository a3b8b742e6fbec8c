-- Citus variant of queries/ab_test_transition.sql (same parameters, same answer): Citus refuses
-- now() inside CASE or COALESCE in an UPDATE of a distributed or reference table, so the moment
-- is taken once in a subquery (:at when given, as in the original). Of two people acting at the
-- same moment, still exactly one transition happens and only it returns a row.
UPDATE ab_tests SET
    status = :to_status,
    started_at = CASE WHEN :to_status = 'running' THEN coalesce(started_at, moment.at) ELSE started_at END,
    ended_at = CASE WHEN :to_status IN ('stopped', 'completed') THEN coalesce(ended_at, moment.at) ELSE ended_at END,
    winner = coalesce(CAST(:winner AS text), winner),
    decision = coalesce(CAST(:decision AS text), decision)
FROM (SELECT coalesce(CAST(:at AS timestamptz), now()) AS at) AS moment
WHERE test_id = :test_id AND status = ANY(CAST(:from_statuses AS text[]))
RETURNING test_id, campaign_id, status, started_at, ended_at
