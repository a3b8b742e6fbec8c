-- Set a test's decision rule; :changed_by is given only when the rule changes after the start
-- (then who, when and why are kept and shown on the test). Returns nothing for an ended test.
UPDATE ab_tests SET
    decision_method = :decision_method,
    decision_cuped = :decision_cuped,
    correction = :correction,
    alpha = :alpha,
    minimum_detectable_effect = :minimum_detectable_effect,
    planned_per_arm = :planned_per_arm,
    guardrail_metrics = CAST(:guardrail_metrics AS text[]),
    rule_changed_at = CASE WHEN CAST(:changed_by AS text) IS NULL THEN rule_changed_at ELSE now() END,
    rule_changed_by = coalesce(CAST(:changed_by AS text), rule_changed_by),
    rule_change_reason = coalesce(CAST(:reason AS text), rule_change_reason)
WHERE test_id = :test_id AND status IN ('draft', 'running', 'paused')
RETURNING test_id, status, started_at
