-- The variants of a new test, in the order given; :control names the control.
INSERT INTO ab_variants (test_id, variant, weight, is_control, description)
SELECT t.test_id, v.variant, v.weight, v.variant = :control, ''
FROM ab_tests t
CROSS JOIN unnest(CAST(:variants AS text[]), CAST(:weights AS double precision[])) AS v(variant, weight)
WHERE t.test_id = :test_id
