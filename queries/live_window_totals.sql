-- Live counts and revenue of every campaign in [start_at, end_at), exact and current
-- (core.live.windows.LiveWindow): the minute rollup for the buckets in [start_at, rollup_to)
-- (only the campaigns with a day row on those days, so its primary key answers with one index
-- range per campaign), plus from the raw events those the rollup has not folded in yet (event_id
-- above its watermark, before raw_to) and the stretch [rollup_to, end_at) when the last bucket
-- ends before end_at, less the events the rollup holds that are stamped in [end_at, rollup_to)
-- when it ends after (the running minute's bucket: normally none). One statement, one snapshot:
-- rollup and watermark agree.
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
              WHERE day >= CAST(CAST(:start_at AS timestamptz) AT TIME ZONE 'UTC' AS date)
                AND day <= CAST(CAST(:rollup_to AS timestamptz) AT TIME ZONE 'UTC' AS date)))
      AND bucket >= :start_at AND bucket < :rollup_to
    UNION ALL
    SELECT count(*) FILTER (WHERE event_type = 1), count(*) FILTER (WHERE event_type = 2),
           count(*) FILTER (WHERE event_type = 3), count(*) FILTER (WHERE event_type = 4),
           count(*) FILTER (WHERE event_type = 5), count(*) FILTER (WHERE event_type = 6),
           sum(revenue), sum(reward_cost)
    FROM events
    WHERE (event_time >= :start_at AND event_time < :raw_to
           AND event_id > (SELECT last_event_id FROM watermark))
       OR (event_time >= :rollup_to AND event_time < :end_at)
    UNION ALL
    SELECT -count(*) FILTER (WHERE event_type = 1), -count(*) FILTER (WHERE event_type = 2),
           -count(*) FILTER (WHERE event_type = 3), -count(*) FILTER (WHERE event_type = 4),
           -count(*) FILTER (WHERE event_type = 5), -count(*) FILTER (WHERE event_type = 6),
           -sum(revenue), -sum(reward_cost)
    FROM events
    WHERE event_time >= :end_at AND event_time < :rollup_to
      AND event_id <= (SELECT last_event_id FROM watermark)
)
SELECT coalesce(sum(sends), 0) AS sends, coalesce(sum(delivered), 0) AS delivered,
       coalesce(sum(opens), 0) AS opens, coalesce(sum(impressions), 0) AS impressions,
       coalesce(sum(clicks), 0) AS clicks, coalesce(sum(conversions), 0) AS conversions,
       coalesce(sum(revenue), 0) AS revenue, coalesce(sum(reward_cost), 0) AS reward_cost
FROM parts
