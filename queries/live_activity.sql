-- Activity of [start_at, end_at) (the last few whole minutes and the running one): events and
-- conversions per region and device cell (with the region's name and coordinates), and the
-- distinct members who acted themselves (opened, saw, clicked or converted; not the sends and
-- deliveries the platform made) per minute and over the whole stretch. The live activity
-- rollups answer for the buckets [start_at, rollup_to), the running minute's too
-- (core.live.windows.LiveWindow); the raw events for what they do not hold yet (events above the
-- rollup watermark, before raw_to, and the stretch [rollup_to, end_at) when the last bucket ends
-- before end_at); and what they hold but the window does not: events stamped in
-- [end_at, rollup_to), after now (normally none), are taken off the cells, and a member whose
-- only rolled-up action of that minute is one of them is not counted. Regions and devices fall
-- back to the member's own, then 'unknown'. One statement, one snapshot: rollups and watermark
-- agree.
WITH watermark AS MATERIALIZED (
    SELECT last_event_id FROM rollup_watermarks WHERE name = 'events'
),
tail AS MATERIALIZED (
    SELECT e.member_id, e.event_type, date_trunc('minute', e.event_time, 'UTC') AS bucket,
           -- the member is looked up only for the events that lack the value (most carry it)
           coalesce(e.device, (SELECT m.device FROM members m WHERE m.member_id = e.member_id), 'unknown') AS device,
           coalesce(e.region_code, (SELECT m.region_code FROM members m WHERE m.member_id = e.member_id),
                    'unknown') AS region_code,
           CASE WHEN e.event_time < :end_at THEN 1 ELSE -1 END AS sign
    FROM events e
    WHERE (e.event_time >= :start_at AND e.event_time < :raw_to
           AND e.event_id > (SELECT last_event_id FROM watermark))
       OR (e.event_time >= :rollup_to AND e.event_time < :end_at)
       OR (e.event_time >= :end_at AND e.event_time < :rollup_to
           AND e.event_id <= (SELECT last_event_id FROM watermark))
),
cells AS (
    SELECT region_code, device, CAST(sum(events) AS bigint) AS events,
           CAST(sum(conversions) AS bigint) AS conversions
    FROM (SELECT region_code, device, events, conversions
          FROM rollup_live_cell_minute WHERE bucket >= :start_at AND bucket < :rollup_to
          UNION ALL
          SELECT region_code, device, sign, CASE WHEN event_type = 6 THEN sign ELSE 0 END FROM tail) AS parts
    GROUP BY region_code, device
),
-- rolled-up actors of the last bucket whose actions there are all stamped after the window's
-- end: those with an action after it (normally nobody) less those who acted before it too
-- (uncorrelated, so that Citus plans it; the last bucket is read only for those members)
late AS MATERIALIZED (
    SELECT DISTINCT bucket, member_id FROM tail WHERE sign < 0 AND event_type >= 3
),
gone AS (
    SELECT bucket, member_id FROM late
    EXCEPT
    SELECT date_trunc('minute', e.event_time, 'UTC'), e.member_id
    FROM events e
    WHERE e.event_time >= CAST(:rollup_to AS timestamptz) - interval '1 minute' AND e.event_time < :end_at
      AND e.event_id <= (SELECT last_event_id FROM watermark) AND e.event_type >= 3
      AND e.member_id IN (SELECT member_id FROM late)
),
actors AS (
    SELECT a.bucket, a.member_id
    FROM rollup_live_actor_minute a
    WHERE a.bucket >= :start_at AND a.bucket < :rollup_to
      AND NOT EXISTS (SELECT 1 FROM gone g WHERE g.bucket = a.bucket AND g.member_id = a.member_id)
    UNION ALL
    SELECT bucket, member_id FROM tail WHERE event_type >= 3 AND sign > 0
),
-- each member once per minute, then once in all: hashed (count(DISTINCT) over grouping sets
-- sorts, the query's costliest step at 20,000 events/s)
acted AS MATERIALIZED (
    SELECT DISTINCT bucket, member_id FROM actors
)
SELECT 'cell' AS kind, c.region_code, c.device, CAST(NULL AS timestamptz) AS minute, c.events, c.conversions,
       r.name AS region_name, r.latitude, r.longitude
FROM cells c LEFT JOIN regions r ON r.region_code = c.region_code
UNION ALL
SELECT 'active_members', NULL, NULL, bucket, count(*), 0, NULL, NULL, NULL
FROM acted
GROUP BY bucket
UNION ALL
SELECT 'active_members', NULL, NULL, NULL, count(*), 0, NULL, NULL, NULL
FROM (SELECT DISTINCT member_id FROM acted) AS members
