SELECT o.offer_id, o.name, o.reward_type, o.reward_value::float8 AS reward_value,
       m.category, m.name AS merchant
FROM offers o
JOIN merchants m USING (merchant_id)
ORDER BY o.offer_id
