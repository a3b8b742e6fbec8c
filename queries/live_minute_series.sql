-- Counts per UTC minute in [start_at, end_at), start_at on a whole minute
-- (core.live.windows.LiveWindow): the minute rollup for the buckets in [start_at, rollup_to),
-- the running minute's too, plus the raw events it has not folded in yet (event_id above its
-- watermark, before raw_to) and the stretch [rollup_to, end_at) when the last bucket ends before
-- end_at, less the events the rollup holds that are stamped in [end_at, rollup_to) (after now,
-- normally none). Every minute exact, the running one current.
WITH watermark AS MATERIALIZED (
    SELECT last_event_id FROM rollup_watermarks WHERE name = 'events'
),
parts AS (
    SELECT bucket, sends, delivered, opens, impressions, clicks, conversions, revenue, reward_cost
    FROM rollup_campaign_minute
    WHERE campaign_id = ANY(ARRAY(
              SELECT campaign_id FROM rollup_campaign_day
              WHERE day >= CAST(CAST(:start_at AS timestamptz) AT TIME ZONE 'UTC' AS date)
                AND day <= CAST(CAST(:rollup_to AS timestamptz) AT TIME ZONE 'UTC' AS date)))
      AND bucket >= :start_at AND bucket < :rollup_to
    UNION ALL
    SELECT date_trunc('minute', event_time, 'UTC'),
           count(*) FILTER (WHERE event_type = 1), count(*) FILTER (WHERE event_type = 2),
           count(*) FILTER (WHERE event_type = 3), count(*) FILTER (WHERE event_type = 4),
           count(*) FILTER (WHERE event_type = 5), count(*) FILTER (WHERE event_type = 6),
           coalesce(sum(revenue), 0), coalesce(sum(reward_cost), 0)
    FROM events
    WHERE (event_time >= :start_at AND event_time < :raw_to
           AND event_id > (SELECT last_event_id FROM watermark))
       OR (event_time >= :rollup_to AND event_time < :end_at)
    GROUP BY 1
    UNION ALL
    SELECT date_trunc('minute', event_time, 'UTC'),
           -count(*) FILTER (WHERE event_type = 1), -count(*) FILTER (WHERE event_type = 2),
           -count(*) FILTER (WHERE event_type = 3), -count(*) FILTER (WHERE event_type = 4),
           -count(*) FILTER (WHERE event_type = 5), -count(*) FILTER (WHERE event_type = 6),
           -coalesce(sum(revenue), 0), -coalesce(sum(reward_cost), 0)
    FROM events
    WHERE event_time >= :end_at AND event_time < :rollup_to
      AND event_id <= (SELECT last_event_id FROM watermark)
    GROUP BY 1
)
SELECT bucket, sum(sends) AS sends, sum(delivered) AS delivered, sum(opens) AS opens,
       sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions,
       sum(revenue) AS revenue, sum(reward_cost) AS reward_cost
FROM parts
GROUP BY bucket
ORDER BY bucket
