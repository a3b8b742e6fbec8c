-- A test's stored decisions, latest first.
SELECT decision_id, test_id, action, winner, verdict, against_rule, reason, rule, statistics, summary,
       decided_by, decided_at
FROM ab_decisions
WHERE test_id = :test_id
ORDER BY decided_at DESC, decision_id DESC
