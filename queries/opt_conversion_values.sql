-- Revenue of every conversion with its offer's category, for margins per offer.
SELECT mc.category, e.revenue::float8 AS revenue
FROM events e
JOIN campaigns c USING (campaign_id)
JOIN offers o USING (offer_id)
JOIN merchants mc USING (merchant_id)
WHERE e.event_type = 6 AND e.revenue IS NOT NULL AND e.event_time >= :since AND e.event_time < :until
