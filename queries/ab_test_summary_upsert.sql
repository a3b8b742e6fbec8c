-- Store one test's summary as of a snapshot (the latest one wins), with the exposure the
-- analysis read (JSON rows: variant, assigned, reached, reached_before) and the start of its
-- traffic-rate window, so the screen can analyse the same snapshot again (ab_results_stored).
INSERT INTO ab_test_summaries AS s (campaign_id, test_id, as_of, verdict, members, predicted_winner,
                                    winner_probability, sample_ratio_mismatch, ready_for_decision,
                                    exposure, lookback_from)
SELECT t.campaign_id, t.test_id, :as_of, :verdict, :members, :predicted_winner, :winner_probability,
       :sample_ratio_mismatch, :ready_for_decision, CAST(:exposure AS jsonb), :lookback_from
FROM ab_tests t
WHERE t.test_id = :test_id
ON CONFLICT (campaign_id, test_id) DO UPDATE SET
    as_of = excluded.as_of, verdict = excluded.verdict, members = excluded.members,
    predicted_winner = excluded.predicted_winner, winner_probability = excluded.winner_probability,
    sample_ratio_mismatch = excluded.sample_ratio_mismatch, ready_for_decision = excluded.ready_for_decision,
    exposure = excluded.exposure, lookback_from = excluded.lookback_from
WHERE s.as_of <= excluded.as_of
