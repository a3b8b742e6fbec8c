-- The variants of the given tests in their declared order (control first): the order in
-- which they own slices of [0, 1) for deterministic assignment.
SELECT test_id, variant, weight, is_control, description
FROM ab_variants
WHERE test_id = ANY(:test_ids)
ORDER BY test_id, is_control DESC, variant
