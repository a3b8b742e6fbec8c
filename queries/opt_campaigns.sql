SELECT c.campaign_id, c.name, c.channel, c.segment, c.status, c.send_hour, c.starts_at, c.ends_at,
       c.budget::float8 AS budget, c.cost_per_send::float8 AS cost_per_send, c.offer_id,
       o.name AS offer, o.reward_type, o.reward_value::float8 AS reward_value, m.category
FROM campaigns c
JOIN offers o USING (offer_id)
JOIN merchants m USING (merchant_id)
ORDER BY c.campaign_id
