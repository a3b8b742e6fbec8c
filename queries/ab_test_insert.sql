-- A new test; started now when created running, unless the caller gives its times (imports).
INSERT INTO ab_tests (campaign_id, name, hypothesis, primary_metric, guardrail_metrics,
                      minimum_detectable_effect, alpha, status, created_by, started_at, ended_at,
                      decision, planned_per_arm)
VALUES (:campaign_id, :test_name, :hypothesis, :primary_metric, CAST(:guardrail_metrics AS text[]),
        :minimum_detectable_effect, :alpha, :status, :created_by,
        coalesce(CAST(:started_at AS timestamptz), CASE WHEN :status = 'running' THEN now() END),
        CAST(:ended_at AS timestamptz), CAST(:decision AS text), :planned_per_arm)
RETURNING test_id, created_at
