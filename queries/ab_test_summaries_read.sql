-- Every test's latest stored summary (tests never analysed yet have none).
SELECT test_id, as_of, verdict, members, predicted_winner, winner_probability,
       sample_ratio_mismatch, ready_for_decision
FROM ab_test_summaries
ORDER BY test_id
