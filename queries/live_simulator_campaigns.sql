-- The campaigns the live simulator sends for: live now, with their channel, target segment,
-- send hour, cost per send and offer (reward and merchant category drive conversion and revenue),
-- and how many campaigns the programme has (a large one reaches fewer members per campaign).
SELECT c.campaign_id, c.channel, c.segment, c.send_hour, c.cost_per_send, c.starts_at, c.ends_at,
       c.offer_id, o.reward_type, o.reward_value, m.category,
       (SELECT count(*) FROM campaigns) AS portfolio
FROM campaigns c
JOIN offers o USING (offer_id)
JOIN merchants m USING (merchant_id)
WHERE c.status = 'live' AND c.starts_at <= :now AND (c.ends_at IS NULL OR c.ends_at > :now)
ORDER BY c.campaign_id
