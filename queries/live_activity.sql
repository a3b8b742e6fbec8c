-- The raw events of [start_at, end_at) (the last few minutes), in one pass each for: events and
-- conversions per region and device cell (with the region's name and coordinates), and the
-- distinct members who acted themselves (opened, saw, clicked or converted; not the sends and
-- deliveries the platform made) per minute and over the whole stretch. Events without a device
-- or region (some imports) count as 'unknown'. The time range prunes to the newest
-- partition(s); BRIN finds the block ranges inside.
WITH recent AS NOT MATERIALIZED (
    SELECT member_id, event_type, event_time,
           coalesce(device, 'unknown') AS device, coalesce(region_code, 'unknown') AS region_code
    FROM events
    WHERE event_time >= :start_at AND event_time < :end_at
),
cells AS (
    SELECT region_code, device, count(*) AS events, count(*) FILTER (WHERE event_type = 6) AS conversions
    FROM recent GROUP BY region_code, device
)
SELECT 'cell' AS kind, c.region_code, c.device, CAST(NULL AS timestamptz) AS minute, c.events, c.conversions,
       r.name AS region_name, r.latitude, r.longitude
FROM cells c LEFT JOIN regions r ON r.region_code = c.region_code
UNION ALL
SELECT 'active_members', NULL, NULL, date_trunc('minute', event_time, 'UTC'), count(DISTINCT member_id), 0,
       NULL, NULL, NULL
FROM recent WHERE event_type >= 3
GROUP BY GROUPING SETS ((date_trunc('minute', event_time, 'UTC')), ())
