-- Outcomes since the card was applied of every member it affected, treated or in the holdout.
SELECT h.member_id, h.in_holdout,
       count(e.event_type) FILTER (WHERE e.event_type = 1) AS sends,
       count(e.event_type) FILTER (WHERE e.event_type = 3) AS opens,
       count(e.event_type) FILTER (WHERE e.event_type = 6) AS conversions,
       coalesce(sum(e.revenue), 0)::float8 AS revenue,
       coalesce(sum(e.reward_cost), 0)::float8 AS reward_cost
FROM campaign_holdouts h
LEFT JOIN events e ON e.campaign_id = h.campaign_id AND e.member_id = h.member_id
                  AND e.event_time >= :since AND e.event_time < :until
WHERE h.campaign_id = :campaign_id AND h.recommendation_id = :recommendation_id
GROUP BY h.member_id, h.in_holdout
