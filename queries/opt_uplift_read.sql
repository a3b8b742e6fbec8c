SELECT campaign_id, test_id, variant, outcome, learner, train_members, held_out_members,
       qini_coefficient, qini_low, qini_high, auuc, auuc_random, curve
FROM opt_uplift
WHERE run_id = (SELECT run_id FROM opt_current)
  AND (CAST(:campaign_id AS integer) IS NULL OR campaign_id = CAST(:campaign_id AS integer))
ORDER BY campaign_id, test_id, variant, outcome
