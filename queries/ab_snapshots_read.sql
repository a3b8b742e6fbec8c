SELECT s.snapshot_date, s.metric, s.variant, s.as_of, s.n, s.sum, s.sum_squares, s.pre_sum,
       s.pre_sum_squares, s.pre_sum_product, s.taken_at
FROM ab_snapshots s
JOIN ab_tests t ON t.campaign_id = s.campaign_id AND t.test_id = s.test_id
WHERE t.test_id = :test_id
ORDER BY s.snapshot_date, s.metric, s.variant
