-- The variants of the given tests in their declared order: the order in which they own slices
-- of [0, 1) for deterministic assignment (rows loaded without a position: control first).
SELECT test_id, variant, weight, is_control, description
FROM ab_variants
WHERE test_id = ANY(:test_ids)
ORDER BY test_id, position, is_control DESC, variant
