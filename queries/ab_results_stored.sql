-- A test's analysis inputs as the snapshot job stored them at its last run: the per-variant
-- summary rows of that moment (ab_snapshots rows whose as_of is the summary's) and the exposure
-- kept with the summary. No rows when the job has not analysed the test with its exposure yet.
SELECT s.metric, s.variant, s.n, s.sum, s.sum_squares, s.pre_sum, s.pre_sum_squares, s.pre_sum_product,
       m.as_of, m.exposure, m.lookback_from
FROM ab_tests t
JOIN ab_test_summaries m ON m.test_id = t.test_id
JOIN ab_snapshots s ON s.campaign_id = t.campaign_id AND s.test_id = t.test_id AND s.as_of = m.as_of
WHERE t.test_id = :test_id AND m.exposure IS NOT NULL
ORDER BY s.metric, s.variant
