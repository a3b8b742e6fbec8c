-- Every offer's terms and merchant category (a holdout keeps an offer the campaign replaced).
SELECT o.offer_id, m.category, o.reward_type, o.reward_value
FROM offers o
JOIN merchants m USING (merchant_id)
