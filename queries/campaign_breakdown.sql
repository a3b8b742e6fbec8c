-- Breakdown of the chosen campaigns by segment, device, region and channel for the period
-- [start_at, end_at) and, when cmp_start_at is given, for the comparison period too (column
-- period: 'current', 'comparison'). The days are the viewer's, cut exactly as campaign_totals
-- cuts them, so each dimension's rows add up to the KPI cards in any time zone:
-- - whole UTC days [day_from, day_to) from the daily breakdown and campaign rollups;
-- - the hours at either end (a local day starts in the middle of a UTC day) from the raw events
--   already rolled up (event_id up to the watermark), taken by UTC hour as the hourly rollup
--   takes them, with the roller's own fallbacks for device, region and segment;
-- - where an end's raw events are gone (older than RAW_RETENTION_DAYS) what the hourly rollup
--   holds beyond them shows as the value '(not broken down)', so totals still agree.
WITH periods (period, start_at, end_at, day_from, day_to) AS (
    SELECT 'current', CAST(:start_at AS timestamptz), CAST(:end_at AS timestamptz),
           CAST(:day_from AS date), CAST(:day_to AS date)
    UNION ALL
    SELECT 'comparison', CAST(:cmp_start_at AS timestamptz), CAST(:cmp_end_at AS timestamptz),
           CAST(:cmp_day_from AS date), CAST(:cmp_day_to AS date)
    WHERE CAST(:cmp_start_at AS timestamptz) IS NOT NULL
),
-- The hourly rollup counts bucket b when lo <= b < hi; its events are those at or after the
-- first hour boundary at or after lo, and before the first one at or after hi.
edges AS (
    SELECT p.period,
           date_trunc('hour', e.lo - interval '1 microsecond', 'UTC') + interval '1 hour' AS lo,
           date_trunc('hour', e.hi - interval '1 microsecond', 'UTC') + interval '1 hour' AS hi
    FROM periods p
    CROSS JOIN LATERAL (VALUES (p.start_at, least(p.end_at, p.day_from::timestamp AT TIME ZONE 'UTC')),
                               (greatest(p.start_at, p.day_to::timestamp AT TIME ZONE 'UTC'), p.end_at)) AS e (lo, hi)
    WHERE e.lo < e.hi
),
edge_cells AS MATERIALIZED (  -- the edges' raw events per campaign, segment, device and region
    SELECT g.period, e.campaign_id, coalesce(m.segment, 'unknown') AS segment,
           coalesce(e.device, m.device, 'unknown') AS device,
           coalesce(e.region_code, m.region_code, 'unknown') AS region_code,
           count(*) FILTER (WHERE e.event_type = 1) AS sends, count(*) FILTER (WHERE e.event_type = 2) AS delivered,
           count(*) FILTER (WHERE e.event_type = 3) AS opens, count(*) FILTER (WHERE e.event_type = 4) AS impressions,
           count(*) FILTER (WHERE e.event_type = 5) AS clicks, count(*) FILTER (WHERE e.event_type = 6) AS conversions,
           coalesce(sum(e.revenue), 0) AS revenue, coalesce(sum(e.reward_cost), 0) AS reward_cost
    FROM events e
    JOIN edges g ON e.event_time >= g.lo AND e.event_time < g.hi
    LEFT JOIN members m ON m.member_id = e.member_id
    WHERE e.campaign_id = ANY(:campaign_ids)
      AND e.event_id <= (SELECT last_event_id FROM rollup_watermarks WHERE name = 'events')
      -- the edges again, from the parameters alone, so that the planner reads their partitions only
      AND (   (e.event_time >= CAST(:start_at AS timestamptz)
               AND e.event_time < CAST(:day_from AS date)::timestamp AT TIME ZONE 'UTC')
           OR (e.event_time >= CAST(:day_to AS date)::timestamp AT TIME ZONE 'UTC'
               AND e.event_time < CAST(:end_at AS timestamptz) + interval '1 hour')
           OR (e.event_time >= CAST(:cmp_start_at AS timestamptz)
               AND e.event_time < CAST(:cmp_day_from AS date)::timestamp AT TIME ZONE 'UTC')
           OR (e.event_time >= CAST(:cmp_day_to AS date)::timestamp AT TIME ZONE 'UTC'
               AND e.event_time < CAST(:cmp_end_at AS timestamptz) + interval '1 hour'))
    GROUP BY 1, 2, 3, 4, 5
),
edge_parts AS (
    SELECT v.period, v.campaign_id, d.dimension, d.value, v.sends, v.delivered, v.opens, v.impressions,
           v.clicks, v.conversions, v.revenue, v.reward_cost
    FROM edge_cells v
    CROSS JOIN LATERAL (VALUES ('segment', v.segment), ('device', v.device), ('region', v.region_code)) AS d (dimension, value)
),
edge_hours AS (
    SELECT g.period, h.campaign_id, sum(h.sends) AS sends, sum(h.delivered) AS delivered, sum(h.opens) AS opens,
           sum(h.impressions) AS impressions, sum(h.clicks) AS clicks, sum(h.conversions) AS conversions,
           sum(h.revenue) AS revenue, sum(h.reward_cost) AS reward_cost
    FROM edges g
    JOIN rollup_campaign_hour h ON h.campaign_id = ANY(:campaign_ids) AND h.bucket >= g.lo AND h.bucket < g.hi
    GROUP BY 1, 2
),
edge_raw AS (
    SELECT period, campaign_id, sum(sends) AS sends, sum(delivered) AS delivered, sum(opens) AS opens,
           sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions,
           sum(revenue) AS revenue, sum(reward_cost) AS reward_cost
    FROM edge_cells
    GROUP BY 1, 2
),
not_broken_down AS (
    SELECT h.period, h.campaign_id, d.dimension, '(not broken down)' AS value,
           h.sends - coalesce(r.sends, 0) AS sends, h.delivered - coalesce(r.delivered, 0) AS delivered,
           h.opens - coalesce(r.opens, 0) AS opens, h.impressions - coalesce(r.impressions, 0) AS impressions,
           h.clicks - coalesce(r.clicks, 0) AS clicks, h.conversions - coalesce(r.conversions, 0) AS conversions,
           h.revenue - coalesce(r.revenue, 0) AS revenue, h.reward_cost - coalesce(r.reward_cost, 0) AS reward_cost
    FROM edge_hours h
    LEFT JOIN edge_raw r ON r.period = h.period AND r.campaign_id = h.campaign_id
    CROSS JOIN (VALUES ('segment'), ('device'), ('region')) AS d (dimension)
    WHERE (h.sends, h.delivered, h.opens, h.impressions, h.clicks, h.conversions, h.revenue, h.reward_cost)
          IS DISTINCT FROM (r.sends, r.delivered, r.opens, r.impressions, r.clicks, r.conversions, r.revenue, r.reward_cost)
),
parts AS (
    SELECT p.period, b.campaign_id, b.dimension, b.value, b.sends, b.delivered, b.opens, b.impressions,
           b.clicks, b.conversions, b.revenue, b.reward_cost
    FROM periods p
    JOIN rollup_breakdown_day b ON b.campaign_id = ANY(:campaign_ids) AND b.day >= p.day_from AND b.day < p.day_to
    UNION ALL
    SELECT * FROM edge_parts
    UNION ALL
    SELECT * FROM not_broken_down
    UNION ALL
    SELECT p.period, d.campaign_id, 'channel', NULL, d.sends, d.delivered, d.opens, d.impressions,
           d.clicks, d.conversions, d.revenue, d.reward_cost
    FROM periods p
    JOIN rollup_campaign_day d ON d.campaign_id = ANY(:campaign_ids) AND d.day >= p.day_from AND d.day < p.day_to
    UNION ALL
    SELECT period, campaign_id, 'channel', NULL, sends, delivered, opens, impressions, clicks, conversions,
           revenue, reward_cost
    FROM edge_hours
)
SELECT t.period, t.dimension, coalesce(t.value, c.channel) AS value,
       sum(t.sends) AS sends, sum(t.delivered) AS delivered, sum(t.opens) AS opens,
       sum(t.impressions) AS impressions, sum(t.clicks) AS clicks, sum(t.conversions) AS conversions,
       sum(t.revenue) AS revenue, sum(t.reward_cost) AS reward_cost, sum(t.sends * c.cost_per_send) AS send_cost
FROM parts t
JOIN campaigns c USING (campaign_id)
GROUP BY 1, 2, 3
ORDER BY 1 DESC, 2, 3
