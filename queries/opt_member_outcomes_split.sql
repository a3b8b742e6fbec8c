-- Each member's outcomes in each campaign before and from :split (later = true), over events in
-- [:since, :until): behavioural segments are fitted on the earlier part and judged on the later
-- part, so a segment is never defined by the outcomes it is judged on.
SELECT campaign_id, member_id, event_time >= :split AS later,
       count(*) FILTER (WHERE event_type = 1) AS sends,
       count(*) FILTER (WHERE event_type = 3) AS opens,
       count(*) FILTER (WHERE event_type = 5) AS clicks,
       count(*) FILTER (WHERE event_type = 6) AS conversions,
       coalesce(sum(revenue) FILTER (WHERE event_type = 6), 0)::float8 AS revenue,
       coalesce(sum(reward_cost) FILTER (WHERE event_type = 6), 0)::float8 AS reward_cost,
       max(event_time) FILTER (WHERE event_type IN (3, 5, 6)) AS last_engaged_at
FROM events
WHERE event_time >= :since AND event_time < :until AND campaign_id IS NOT NULL AND member_id IS NOT NULL
GROUP BY 1, 2, 3
