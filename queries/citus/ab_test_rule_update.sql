-- Citus variant of queries/ab_test_rule_update.sql (same parameters, same answer): Citus refuses
-- now() inside CASE in an UPDATE of a reference table, so the moment is taken once in a subquery.
UPDATE ab_tests SET
    decision_method = :decision_method,
    decision_cuped = :decision_cuped,
    correction = :correction,
    alpha = :alpha,
    minimum_detectable_effect = :minimum_detectable_effect,
    planned_per_arm = :planned_per_arm,
    guardrail_metrics = CAST(:guardrail_metrics AS text[]),
    rule_changed_at = CASE WHEN CAST(:changed_by AS text) IS NULL THEN rule_changed_at ELSE moment.at END,
    rule_changed_by = coalesce(CAST(:changed_by AS text), rule_changed_by),
    rule_change_reason = coalesce(CAST(:reason AS text), rule_change_reason)
FROM (SELECT now() AS at) AS moment
WHERE test_id = :test_id AND status IN ('draft', 'running', 'paused')
RETURNING test_id, status, started_at
