-- Store (or refresh) daily snapshot rows of one test, one row per day, metric and variant.
INSERT INTO ab_snapshots AS s (campaign_id, test_id, snapshot_date, metric, variant, as_of, n, sum,
                               sum_squares, pre_sum, pre_sum_squares, pre_sum_product, taken_at)
SELECT t.campaign_id, t.test_id, r.*, now()
FROM ab_tests t
CROSS JOIN unnest(CAST(:snapshot_dates AS date[]), CAST(:metrics AS text[]), CAST(:variants AS text[]),
                  CAST(:as_ofs AS timestamptz[]), CAST(:ns AS bigint[]), CAST(:sums AS double precision[]),
                  CAST(:sum_squares AS double precision[]), CAST(:pre_sums AS double precision[]),
                  CAST(:pre_sum_squares AS double precision[]), CAST(:pre_sum_products AS double precision[]))
     AS r(snapshot_date, metric, variant, as_of, n, sum, sum_squares, pre_sum, pre_sum_squares, pre_sum_product)
WHERE t.test_id = :test_id
ON CONFLICT (campaign_id, test_id, snapshot_date, metric, variant) DO UPDATE SET
    as_of = excluded.as_of, n = excluded.n, sum = excluded.sum, sum_squares = excluded.sum_squares,
    pre_sum = excluded.pre_sum, pre_sum_squares = excluded.pre_sum_squares,
    pre_sum_product = excluded.pre_sum_product, taken_at = excluded.taken_at
