-- What was known when a person stopped the test or declared a winner (kept as it was), at :at
-- (NULL: now).
INSERT INTO ab_decisions (campaign_id, test_id, action, winner, verdict, against_rule, reason, rule,
                          statistics, summary, decided_by, decided_at)
SELECT t.campaign_id, t.test_id, :action, CAST(:winner AS text), :verdict, :against_rule, :reason,
       CAST(:rule AS jsonb), CAST(:statistics AS jsonb), CAST(:summary AS jsonb), :decided_by,
       coalesce(CAST(:at AS timestamptz), now())
FROM ab_tests t
WHERE t.test_id = :test_id
RETURNING decision_id, decided_at
