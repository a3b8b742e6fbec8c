-- How big the current run is (for benchmark reports).
SELECT (SELECT count(*) FROM members) AS members,
       (SELECT count(*) FROM campaigns) AS campaigns,
       (SELECT count(*) FROM recommendations WHERE status = 'proposed') AS proposed_cards,
       (SELECT count(*) FROM opt_offer_scores WHERE run_id = (SELECT run_id FROM opt_current)) AS offer_scores,
       (SELECT count(*) FROM opt_member_affinity WHERE run_id = (SELECT run_id FROM opt_current)) AS affinity_rows
