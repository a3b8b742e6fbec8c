-- Activity of the whole UTC minutes [start_at, until) (the last few and the running one, as the
-- rollups hold it), every campaign summed: events and conversions per region (with its name
-- and coordinates) and per device, busiest first; the members who acted themselves (opened,
-- saw, clicked or converted; not the sends and deliveries the platform made) per minute, and
-- over the whole stretch. The stretch's members are those whose latest minute is in it, plus
-- those whose latest minute is after it who acted in it too (the second part is read only when
-- there are such members: events stamped after the running minute, normally none).
WITH later AS MATERIALIZED (
    SELECT coalesce(sum(last_members), 0) AS members FROM rollup_live_actors_minute WHERE bucket >= :until
),
places AS (
    SELECT CASE WHEN GROUPING(region_code) = 0 THEN 'region' ELSE 'device' END AS kind, region_code, device,
           CAST(sum(events) AS bigint) AS events, CAST(sum(conversions) AS bigint) AS conversions
    FROM rollup_live_cell_minute
    WHERE bucket >= :start_at AND bucket < :until
    GROUP BY GROUPING SETS ((region_code), (device))
)
SELECT p.kind, p.region_code, p.device, CAST(NULL AS timestamptz) AS minute, p.events, p.conversions,
       coalesce(r.name, p.region_code) AS region_name, r.latitude, r.longitude
FROM places p
LEFT JOIN regions r ON r.region_code = p.region_code
UNION ALL
SELECT 'active_members', NULL, NULL, bucket, members, 0, NULL, NULL, NULL
FROM rollup_live_actors_minute
WHERE bucket >= :start_at AND bucket < :until AND members > 0
UNION ALL
SELECT 'active_members', NULL, NULL, NULL,
       CAST((SELECT coalesce(sum(last_members), 0) FROM rollup_live_actors_minute
             WHERE bucket >= :start_at AND bucket < :until) AS bigint)
       + CASE WHEN (SELECT members FROM later) > 0
              THEN (SELECT count(DISTINCT a.member_id)
                    FROM rollup_live_actor_minute a
                    JOIN rollup_live_member_last l ON l.member_id = a.member_id AND l.bucket >= :until
                    WHERE a.bucket >= :start_at AND a.bucket < :until)
              ELSE 0 END,
       0, NULL, NULL, NULL
ORDER BY kind, minute, events DESC, region_code, device
