-- Behaviour per member, channel and offer category (for behavioural segments).
SELECT cm.member_id, c.channel, mc.category,
       sum(cm.sends) AS sends, sum(cm.opens) AS opens, sum(cm.clicks) AS clicks,
       sum(cm.conversions) AS conversions, sum(cm.revenue)::float8 AS revenue,
       max(cm.last_engaged_at) AS last_engaged_at, min(cm.first_send_at) AS first_send_at
FROM campaign_members cm
JOIN campaigns c USING (campaign_id)
JOIN offers o USING (offer_id)
JOIN merchants mc USING (merchant_id)
WHERE cm.sends > 0
GROUP BY cm.member_id, c.channel, mc.category
