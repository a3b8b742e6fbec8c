-- Raw events in [scan_from, end_at): per region and per device the events of the window
-- [start_at, end_at), and in total the distinct members who acted themselves (opened, saw,
-- clicked or converted; not the sends and deliveries the platform made) in the active window
-- [active_from, end_at) and in the one before it [previous_active_from, active_from).
-- Events without a device or region (some imports) count as 'unknown'. The time range prunes
-- to the newest partition(s); BRIN finds the few block ranges inside.
WITH recent AS (
    SELECT member_id, event_type, event_time,
           coalesce(device, 'unknown') AS device, coalesce(region_code, 'unknown') AS region_code
    FROM events
    WHERE event_time >= least(CAST(:start_at AS timestamptz), CAST(:previous_active_from AS timestamptz))
      AND event_time < :end_at
),
grouped AS (
    SELECT CASE WHEN GROUPING(region_code) = 0 THEN 'region'
                WHEN GROUPING(device) = 0 THEN 'device' ELSE 'total' END AS dimension,
           coalesce(region_code, device, 'all') AS value,
           count(*) FILTER (WHERE event_time >= :start_at) AS events,
           count(*) FILTER (WHERE event_time >= :start_at AND event_type = 6) AS conversions,
           count(DISTINCT member_id) FILTER (WHERE event_type >= 3 AND event_time >= :active_from) AS active_members,
           count(DISTINCT member_id) FILTER (WHERE event_type >= 3 AND event_time >= :previous_active_from
                                             AND event_time < :active_from) AS previously_active_members
    FROM recent
    GROUP BY GROUPING SETS ((region_code), (device), ())
)
SELECT g.dimension, g.value, g.events, g.conversions, g.active_members, g.previously_active_members,
       r.name AS region_name, r.latitude, r.longitude
FROM grouped g
LEFT JOIN regions r ON g.dimension = 'region' AND r.region_code = g.value
ORDER BY g.dimension, g.events DESC, g.value
