-- The variants of a new test in their declared order (position); :control names the control.
INSERT INTO ab_variants (test_id, variant, weight, is_control, description, position)
SELECT t.test_id, v.variant, v.weight, v.variant = :control, '', v.position
FROM ab_tests t
CROSS JOIN unnest(CAST(:variants AS text[]), CAST(:weights AS double precision[])) WITH ORDINALITY
     AS v(variant, weight, position)
WHERE t.test_id = :test_id
