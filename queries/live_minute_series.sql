-- Counts per UTC minute in [full_from, end_at) (full_from on a whole minute; the last minute
-- may be still running): the minute rollup up to its watermark plus the raw events it has not
-- folded in yet, so every minute is exact and the current one is current.
WITH watermark AS MATERIALIZED (
    SELECT last_event_id FROM rollup_watermarks WHERE name = 'events'
),
parts AS (
    SELECT bucket, sends, delivered, opens, impressions, clicks, conversions, revenue, reward_cost
    FROM rollup_campaign_minute
    WHERE campaign_id = ANY(ARRAY(
              SELECT campaign_id FROM rollup_campaign_day
              WHERE day >= CAST(CAST(:full_from AS timestamptz) AT TIME ZONE 'UTC' AS date)
                AND day <= CAST(CAST(:end_at AS timestamptz) AT TIME ZONE 'UTC' AS date)))
      AND bucket >= :full_from AND bucket < :end_at
    UNION ALL
    SELECT date_trunc('minute', event_time, 'UTC'),
           count(*) FILTER (WHERE event_type = 1), count(*) FILTER (WHERE event_type = 2),
           count(*) FILTER (WHERE event_type = 3), count(*) FILTER (WHERE event_type = 4),
           count(*) FILTER (WHERE event_type = 5), count(*) FILTER (WHERE event_type = 6),
           coalesce(sum(revenue), 0), coalesce(sum(reward_cost), 0)
    FROM events
    WHERE event_time >= :full_from AND event_time < :end_at
      AND event_id > (SELECT last_event_id FROM watermark)
    GROUP BY 1
)
SELECT bucket, sum(sends) AS sends, sum(delivered) AS delivered, sum(opens) AS opens,
       sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions,
       sum(revenue) AS revenue, sum(reward_cost) AS reward_cost
FROM parts
GROUP BY bucket
ORDER BY bucket
