-- Every A/B test with its campaign and its pre-registered decision rule, newest first.
SELECT t.test_id, t.campaign_id, c.name AS campaign, t.name, t.hypothesis, t.primary_metric,
       t.guardrail_metrics, t.minimum_detectable_effect, t.alpha, t.status, t.decision, t.winner,
       t.created_by, t.created_at, t.started_at, t.ended_at, t.planned_per_arm,
       t.decision_method, t.decision_cuped, t.correction, t.rule_changed_at, t.rule_changed_by,
       t.rule_change_reason
FROM ab_tests t
JOIN campaigns c ON c.campaign_id = t.campaign_id
ORDER BY t.test_id DESC
