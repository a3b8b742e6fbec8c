-- Live counts and revenue of every campaign in [start_at, end_at), exact and current: the whole
-- minutes [full_from, full_to) from the minute rollup (only the campaigns with a day row on
-- those days, so the primary key answers: one index range per campaign), plus from the raw
-- events the partial minutes at either end and every event the rollup has not folded in yet
-- (event_id above its watermark). One statement, one snapshot: rollup and watermark agree.
WITH watermark AS MATERIALIZED (
    SELECT last_event_id FROM rollup_watermarks WHERE name = 'events'
),
parts AS (
    SELECT sum(sends) AS sends, sum(delivered) AS delivered, sum(opens) AS opens,
           sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions,
           sum(revenue) AS revenue, sum(reward_cost) AS reward_cost
    FROM rollup_campaign_minute
    WHERE campaign_id = ANY(ARRAY(
              SELECT campaign_id FROM rollup_campaign_day
              WHERE day >= CAST(CAST(:full_from AS timestamptz) AT TIME ZONE 'UTC' AS date)
                AND day <= CAST(CAST(:full_to AS timestamptz) AT TIME ZONE 'UTC' AS date)))
      AND bucket >= :full_from AND bucket < :full_to
    UNION ALL
    SELECT count(*) FILTER (WHERE event_type = 1), count(*) FILTER (WHERE event_type = 2),
           count(*) FILTER (WHERE event_type = 3), count(*) FILTER (WHERE event_type = 4),
           count(*) FILTER (WHERE event_type = 5), count(*) FILTER (WHERE event_type = 6),
           sum(revenue), sum(reward_cost)
    FROM events
    WHERE (event_time >= :start_at AND event_time < :full_from)
       OR (event_time >= :full_to AND event_time < :end_at)
    UNION ALL
    SELECT count(*) FILTER (WHERE event_type = 1), count(*) FILTER (WHERE event_type = 2),
           count(*) FILTER (WHERE event_type = 3), count(*) FILTER (WHERE event_type = 4),
           count(*) FILTER (WHERE event_type = 5), count(*) FILTER (WHERE event_type = 6),
           sum(revenue), sum(reward_cost)
    FROM events
    WHERE event_time >= :full_from AND event_time < :full_to
      AND event_id > (SELECT last_event_id FROM watermark)
)
SELECT coalesce(sum(sends), 0) AS sends, coalesce(sum(delivered), 0) AS delivered,
       coalesce(sum(opens), 0) AS opens, coalesce(sum(impressions), 0) AS impressions,
       coalesce(sum(clicks), 0) AS clicks, coalesce(sum(conversions), 0) AS conversions,
       coalesce(sum(revenue), 0) AS revenue, coalesce(sum(reward_cost), 0) AS reward_cost
FROM parts
