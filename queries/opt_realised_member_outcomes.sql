-- Outcomes since the card was applied of every member it affected, treated or in the holdout.
-- The campaign's events of the window are aggregated per member first and then joined: joined
-- member by member, each affected member cost a scan of the window (events have BRIN indexes
-- only), minutes for a paused campaign's whole audience.
WITH outcomes AS (
    SELECT member_id,
           count(*) FILTER (WHERE event_type = 1) AS sends,
           count(*) FILTER (WHERE event_type = 3) AS opens,
           count(*) FILTER (WHERE event_type = 6) AS conversions,
           coalesce(sum(revenue), 0)::float8 AS revenue,
           coalesce(sum(reward_cost), 0)::float8 AS reward_cost
    FROM events
    WHERE campaign_id = :campaign_id AND event_time >= :since AND event_time < :until AND member_id IS NOT NULL
    GROUP BY member_id
)
SELECT h.member_id, h.in_holdout,
       coalesce(o.sends, 0)::bigint AS sends,
       coalesce(o.opens, 0)::bigint AS opens,
       coalesce(o.conversions, 0)::bigint AS conversions,
       coalesce(o.revenue, 0)::float8 AS revenue,
       coalesce(o.reward_cost, 0)::float8 AS reward_cost
FROM campaign_holdouts h
LEFT JOIN outcomes o ON o.member_id = h.member_id
WHERE h.campaign_id = :campaign_id AND h.recommendation_id = :recommendation_id
