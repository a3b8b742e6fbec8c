-- Store one test's summary as of a snapshot (the latest one wins).
INSERT INTO ab_test_summaries AS s (campaign_id, test_id, as_of, verdict, members, predicted_winner,
                                    winner_probability, sample_ratio_mismatch, ready_for_decision)
SELECT t.campaign_id, t.test_id, :as_of, :verdict, :members, :predicted_winner, :winner_probability,
       :sample_ratio_mismatch, :ready_for_decision
FROM ab_tests t
WHERE t.test_id = :test_id
ON CONFLICT (campaign_id, test_id) DO UPDATE SET
    as_of = excluded.as_of, verdict = excluded.verdict, members = excluded.members,
    predicted_winner = excluded.predicted_winner, winner_probability = excluded.winner_probability,
    sample_ratio_mismatch = excluded.sample_ratio_mismatch, ready_for_decision = excluded.ready_for_decision
WHERE s.as_of <= excluded.as_of
