-- A campaign's candidate offers in the current run (the offer-recommendation screen's query).
SELECT s.offer_id, o.name AS offer, o.reward_type, o.reward_value::float8 AS reward_value, m.category,
       s.segment, s.is_current, s.p_conversion, s.p_low, s.p_high, s.profit_per_send, s.profit_low,
       s.profit_high, s.prob_better
FROM opt_offer_scores s
JOIN offers o USING (offer_id)
JOIN merchants m USING (merchant_id)
WHERE s.campaign_id = :campaign_id AND s.run_id = (SELECT run_id FROM opt_current)
ORDER BY s.profit_per_send DESC
