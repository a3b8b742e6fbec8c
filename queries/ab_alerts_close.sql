-- Close a test's open alerts of these kinds (their condition ended, or the test did), at :at
-- (NULL: now; taken once in a subquery, which Citus also accepts in an UPDATE).
UPDATE ab_alerts SET closed_at = moment.at, closed_reason = :reason
FROM (SELECT coalesce(CAST(:at AS timestamptz), now()) AS at) AS moment
WHERE test_id = :test_id AND kind = ANY(CAST(:kinds AS text[])) AND closed_at IS NULL
RETURNING alert_id, kind
