-- Fold the events with event_id in (:from_id, :to_id] into every rollup, in one statement so
-- that the caller's transaction advances all of them and the watermark together.
WITH new_events AS MATERIALIZED (
    SELECT e.event_id, e.event_time, e.campaign_id, e.member_id, e.variant, e.event_type,
           coalesce(e.revenue, 0) AS revenue, coalesce(e.reward_cost, 0) AS reward_cost,
           coalesce(e.device, m.device, 'unknown') AS device,
           coalesce(e.region_code, m.region_code, 'unknown') AS region_code,
           coalesce(m.segment, 'unknown') AS segment
    FROM events e
    LEFT JOIN members m ON m.member_id = e.member_id
    WHERE e.event_id > :from_id AND e.event_id <= :to_id
),
per_minute AS MATERIALIZED (
    SELECT campaign_id, date_trunc('minute', event_time, 'UTC') AS bucket,
           count(*) FILTER (WHERE event_type = 1) AS sends,
           count(*) FILTER (WHERE event_type = 2) AS delivered,
           count(*) FILTER (WHERE event_type = 3) AS opens,
           count(*) FILTER (WHERE event_type = 4) AS impressions,
           count(*) FILTER (WHERE event_type = 5) AS clicks,
           count(*) FILTER (WHERE event_type = 6) AS conversions,
           sum(revenue) AS revenue, sum(reward_cost) AS reward_cost
    FROM new_events GROUP BY 1, 2
),
hour_upsert AS (
    INSERT INTO rollup_campaign_hour AS r
    SELECT campaign_id, date_trunc('hour', bucket, 'UTC'), sum(sends), sum(delivered), sum(opens),
           sum(impressions), sum(clicks), sum(conversions), sum(revenue), sum(reward_cost)
    FROM per_minute GROUP BY 1, 2
    ON CONFLICT (campaign_id, bucket) DO UPDATE SET
        sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
        opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
        clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
        revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost
    RETURNING 1
),
day_upsert AS (
    INSERT INTO rollup_campaign_day AS r
    SELECT campaign_id, (bucket AT TIME ZONE 'UTC')::date, sum(sends), sum(delivered), sum(opens),
           sum(impressions), sum(clicks), sum(conversions), sum(revenue), sum(reward_cost)
    FROM per_minute GROUP BY 1, 2
    ON CONFLICT (campaign_id, day) DO UPDATE SET
        sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
        opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
        clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
        revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost
    RETURNING 1
),
-- The batch by campaign, hour, dimension and value: the per-campaign daily breakdown and the
-- all-campaigns breakdowns below are sums of these (the batch's events are grouped once).
breakdown_cells AS MATERIALIZED (
    SELECT campaign_id, date_trunc('hour', event_time, 'UTC') AS bucket, d.dimension, d.value,
           count(*) FILTER (WHERE event_type = 1) AS sends, count(*) FILTER (WHERE event_type = 2) AS delivered,
           count(*) FILTER (WHERE event_type = 3) AS opens, count(*) FILTER (WHERE event_type = 4) AS impressions,
           count(*) FILTER (WHERE event_type = 5) AS clicks, count(*) FILTER (WHERE event_type = 6) AS conversions,
           sum(revenue) AS revenue, sum(reward_cost) AS reward_cost
    FROM new_events
    CROSS JOIN LATERAL (VALUES ('segment', segment), ('device', device), ('region', region_code)) AS d(dimension, value)
    GROUP BY 1, 2, 3, 4
),
breakdown_upsert AS (
    INSERT INTO rollup_breakdown_day AS r
    SELECT campaign_id, (bucket AT TIME ZONE 'UTC')::date, dimension, value, sum(sends), sum(delivered),
           sum(opens), sum(impressions), sum(clicks), sum(conversions), sum(revenue), sum(reward_cost)
    FROM breakdown_cells
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (campaign_id, day, dimension, value) DO UPDATE SET
        sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
        opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
        clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
        revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost
    RETURNING 1
),
member_batch AS MATERIALIZED (
    SELECT campaign_id, member_id, max(variant) AS variant,
           min(event_time) FILTER (WHERE event_type = 1) AS first_send_at,
           min(event_time) FILTER (WHERE event_type = 2) AS first_delivered_at,
           min(event_time) FILTER (WHERE event_type = 3) AS first_open_at,
           min(event_time) FILTER (WHERE event_type = 5) AS first_click_at,
           min(event_time) FILTER (WHERE event_type = 6) AS first_conversion_at,
           max(event_time) FILTER (WHERE event_type IN (3, 5)) AS last_engaged_at,
           count(*) FILTER (WHERE event_type = 1) AS sends, count(*) FILTER (WHERE event_type = 3) AS opens,
           count(*) FILTER (WHERE event_type = 5) AS clicks, count(*) FILTER (WHERE event_type = 6) AS conversions,
           sum(revenue) AS revenue, sum(reward_cost) AS reward_cost
    FROM new_events GROUP BY 1, 2
),
member_upsert AS (
    INSERT INTO campaign_members AS cm
        (campaign_id, member_id, variant, first_send_at, first_delivered_at, first_open_at,
         first_click_at, first_conversion_at, last_engaged_at, sends, opens, clicks, conversions,
         revenue, reward_cost)
    SELECT * FROM member_batch
    ON CONFLICT (campaign_id, member_id) DO UPDATE SET
        variant = coalesce(cm.variant, excluded.variant),
        first_send_at = least(cm.first_send_at, excluded.first_send_at),
        first_delivered_at = least(cm.first_delivered_at, excluded.first_delivered_at),
        first_open_at = least(cm.first_open_at, excluded.first_open_at),
        first_click_at = least(cm.first_click_at, excluded.first_click_at),
        first_conversion_at = least(cm.first_conversion_at, excluded.first_conversion_at),
        last_engaged_at = greatest(cm.last_engaged_at, excluded.last_engaged_at),
        sends = cm.sends + excluded.sends, opens = cm.opens + excluded.opens,
        clicks = cm.clicks + excluded.clicks, conversions = cm.conversions + excluded.conversions,
        revenue = cm.revenue + excluded.revenue, reward_cost = cm.reward_cost + excluded.reward_cost
    RETURNING 1
),
-- Reach moments of the batch's members before and after it (every CTE reads campaign_members
-- as it was before this statement): reached at the first delivery, converting at the later of
-- first delivery and first conversion. A moment that moves leaves its old hour for its new one.
reach_moments AS (
    SELECT b.campaign_id, cm.first_delivered_at AS reached_before,
           least(cm.first_delivered_at, b.first_delivered_at) AS reached_after,
           CASE WHEN cm.first_delivered_at IS NOT NULL AND cm.first_conversion_at IS NOT NULL
                THEN greatest(cm.first_delivered_at, cm.first_conversion_at) END AS converting_before,
           CASE WHEN coalesce(cm.first_delivered_at, b.first_delivered_at) IS NOT NULL
                 AND coalesce(cm.first_conversion_at, b.first_conversion_at) IS NOT NULL
                THEN greatest(least(cm.first_delivered_at, b.first_delivered_at),
                              least(cm.first_conversion_at, b.first_conversion_at)) END AS converting_after
    FROM member_batch b
    LEFT JOIN campaign_members cm ON cm.campaign_id = b.campaign_id AND cm.member_id = b.member_id
    WHERE b.first_delivered_at IS NOT NULL OR b.first_conversion_at IS NOT NULL
),
reach_changes AS (
    SELECT campaign_id, date_trunc('hour', moment, 'UTC') AS bucket,
           sum(delivered) AS delivered_members, sum(converting) AS converting_members
    FROM reach_moments
    CROSS JOIN LATERAL (VALUES (reached_before, -1, 0), (reached_after, 1, 0),
                               (converting_before, 0, -1), (converting_after, 0, 1)) AS m (moment, delivered, converting)
    WHERE moment IS NOT NULL
      AND (CASE WHEN delivered <> 0 THEN reached_before IS DISTINCT FROM reached_after
                ELSE converting_before IS DISTINCT FROM converting_after END)
    GROUP BY 1, 2
),
-- The Real-time screen's rollups, every campaign summed (migration 0016). Counts and money per
-- second of the last 27 hours before the batch's newest event; the rest of the last 70 minutes
-- only (maintenance prunes older rows): events by region and device, who acted per minute, each
-- actor's latest minute and how many members acted in each minute and have it as their latest.
live_recent AS MATERIALIZED (
    SELECT date_trunc('minute', event_time, 'UTC') AS bucket, member_id, event_type, region_code, device
    FROM new_events
    WHERE event_time >= (SELECT max(event_time) FROM new_events) - interval '70 minutes'
),
live_second_upsert AS (
    INSERT INTO rollup_live_second AS r
    SELECT date_trunc('second', event_time),
           count(*) FILTER (WHERE event_type = 1), count(*) FILTER (WHERE event_type = 2),
           count(*) FILTER (WHERE event_type = 3), count(*) FILTER (WHERE event_type = 4),
           count(*) FILTER (WHERE event_type = 5), count(*) FILTER (WHERE event_type = 6),
           sum(revenue), sum(reward_cost)
    FROM new_events
    WHERE event_time >= (SELECT max(event_time) FROM new_events) - interval '27 hours'
    GROUP BY 1
    ON CONFLICT (bucket) DO UPDATE SET
        sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
        opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
        clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
        revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost
    RETURNING 1
),
live_cells_upsert AS (
    INSERT INTO rollup_live_cell_minute AS r
    SELECT bucket, region_code, device, count(*), count(*) FILTER (WHERE event_type = 6)
    FROM live_recent GROUP BY 1, 2, 3
    ON CONFLICT (bucket, region_code, device) DO UPDATE SET
        events = r.events + excluded.events, conversions = r.conversions + excluded.conversions
    RETURNING 1
),
live_batch_actors AS MATERIALIZED (
    SELECT DISTINCT bucket, member_id FROM live_recent WHERE event_type >= 3
),
live_actors_insert AS (
    INSERT INTO rollup_live_actor_minute
    SELECT bucket, member_id FROM live_batch_actors
    ON CONFLICT DO NOTHING
    RETURNING bucket
),
-- members whose latest minute moves later (or who had none): it leaves its old minute
live_member_moves AS MATERIALIZED (
    SELECT b.member_id, l.bucket AS was, b.bucket AS latest
    FROM (SELECT member_id, max(bucket) AS bucket FROM live_batch_actors GROUP BY member_id) AS b
    LEFT JOIN rollup_live_member_last l ON l.member_id = b.member_id
    WHERE l.bucket IS NULL OR b.bucket > l.bucket
),
live_member_last_upsert AS (
    INSERT INTO rollup_live_member_last AS r
    SELECT member_id, latest FROM live_member_moves
    ON CONFLICT (member_id) DO UPDATE SET bucket = greatest(r.bucket, excluded.bucket)
    RETURNING 1
),
live_actor_counts_upsert AS (
    INSERT INTO rollup_live_actors_minute AS r
    SELECT bucket, sum(members), sum(last_members)
    FROM (SELECT bucket, 1 AS members, 0 AS last_members FROM live_actors_insert
          UNION ALL
          SELECT latest, 0, 1 FROM live_member_moves
          UNION ALL
          SELECT was, 0, -1 FROM live_member_moves WHERE was IS NOT NULL) AS changes
    GROUP BY bucket
    ON CONFLICT (bucket) DO UPDATE SET
        members = r.members + excluded.members, last_members = r.last_members + excluded.last_members
    RETURNING 1
),
-- the event stream: the newest 50 events folded in so far (a batch split in halves by the
-- quarantine may fold its halves in any order)
live_latest_new AS MATERIALIZED (
    SELECT event_id, event_time, event_type, campaign_id, member_id, variant, device, region_code,
           CASE WHEN event_type = 6 THEN revenue END AS revenue
    FROM new_events
    ORDER BY event_id DESC
    LIMIT 50
),
live_latest_kept AS MATERIALIZED (
    SELECT event_id
    FROM (SELECT event_id FROM rollup_live_latest UNION ALL SELECT event_id FROM live_latest_new) AS ids
    ORDER BY event_id DESC
    LIMIT 50
),
live_latest_insert AS (
    INSERT INTO rollup_live_latest
    SELECT * FROM live_latest_new WHERE event_id IN (SELECT event_id FROM live_latest_kept)
    ON CONFLICT (event_id) DO NOTHING
    RETURNING 1
),
live_latest_delete AS (
    DELETE FROM rollup_live_latest WHERE event_id NOT IN (SELECT event_id FROM live_latest_kept)
    RETURNING 1
),
-- Every campaign summed, for "All campaigns" (only campaigns in campaigns, each with its cost per
-- send and channel): per hour and per day by segment, device, region and channel, per hour the
-- totals (the channels' sum) and the reach changes.
all_cells AS MATERIALIZED (
    SELECT b.bucket, b.dimension, b.value, sum(b.sends) AS sends, sum(b.delivered) AS delivered,
           sum(b.opens) AS opens, sum(b.impressions) AS impressions, sum(b.clicks) AS clicks,
           sum(b.conversions) AS conversions, sum(b.revenue) AS revenue, sum(b.reward_cost) AS reward_cost,
           sum(b.sends * c.cost_per_send) AS send_cost
    FROM breakdown_cells b
    JOIN campaigns c ON c.campaign_id = b.campaign_id
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT date_trunc('hour', p.bucket, 'UTC'), 'channel', c.channel, sum(p.sends), sum(p.delivered), sum(p.opens),
           sum(p.impressions), sum(p.clicks), sum(p.conversions), sum(p.revenue), sum(p.reward_cost),
           sum(p.sends * c.cost_per_send)
    FROM per_minute p
    JOIN campaigns c ON c.campaign_id = p.campaign_id
    GROUP BY 1, 2, 3
),
all_hour_upsert AS (
    INSERT INTO rollup_all_campaigns_hour AS r
    SELECT bucket, sum(sends), sum(delivered), sum(opens), sum(impressions), sum(clicks), sum(conversions),
           sum(revenue), sum(reward_cost), sum(send_cost)
    FROM all_cells
    WHERE dimension = 'channel'
    GROUP BY bucket
    ON CONFLICT (bucket) DO UPDATE SET
        sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
        opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
        clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
        revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost,
        send_cost = r.send_cost + excluded.send_cost
    RETURNING 1
),
all_reach_upsert AS (
    INSERT INTO rollup_all_campaigns_reach_hour AS r
    SELECT rc.bucket, sum(rc.delivered_members), sum(rc.converting_members)
    FROM reach_changes rc
    JOIN campaigns c ON c.campaign_id = rc.campaign_id
    GROUP BY rc.bucket
    ON CONFLICT (bucket) DO UPDATE SET
        delivered_members = r.delivered_members + excluded.delivered_members,
        converting_members = r.converting_members + excluded.converting_members
    RETURNING 1
),
all_breakdown_hour_upsert AS (
    INSERT INTO rollup_all_campaigns_breakdown_hour AS r
    SELECT * FROM all_cells
    ON CONFLICT (bucket, dimension, value) DO UPDATE SET
        sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
        opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
        clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
        revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost,
        send_cost = r.send_cost + excluded.send_cost
    RETURNING 1
),
all_breakdown_day_upsert AS (
    INSERT INTO rollup_all_campaigns_breakdown_day AS r
    SELECT (bucket AT TIME ZONE 'UTC')::date, dimension, value, sum(sends), sum(delivered), sum(opens),
           sum(impressions), sum(clicks), sum(conversions), sum(revenue), sum(reward_cost), sum(send_cost)
    FROM all_cells
    GROUP BY 1, 2, 3
    ON CONFLICT (day, dimension, value) DO UPDATE SET
        sends = r.sends + excluded.sends, delivered = r.delivered + excluded.delivered,
        opens = r.opens + excluded.opens, impressions = r.impressions + excluded.impressions,
        clicks = r.clicks + excluded.clicks, conversions = r.conversions + excluded.conversions,
        revenue = r.revenue + excluded.revenue, reward_cost = r.reward_cost + excluded.reward_cost,
        send_cost = r.send_cost + excluded.send_cost
    RETURNING 1
),
reach_upsert AS (
    INSERT INTO rollup_reach_hour AS r
    SELECT * FROM reach_changes
    ON CONFLICT (campaign_id, bucket) DO UPDATE SET
        delivered_members = r.delivered_members + excluded.delivered_members,
        converting_members = r.converting_members + excluded.converting_members
    RETURNING 1
)
SELECT (SELECT count(*) FROM new_events) AS events,
       (SELECT max(event_time) FROM new_events) AS latest_event_at,
       (SELECT count(*) FROM hour_upsert) AS hour_rows,
       (SELECT count(*) FROM day_upsert) AS day_rows,
       (SELECT count(*) FROM breakdown_upsert) AS breakdown_rows,
       (SELECT count(*) FROM member_upsert) AS member_rows,
       (SELECT count(*) FROM reach_upsert) AS reach_rows,
       (SELECT count(*) FROM live_cells_upsert) AS live_cell_rows,
       (SELECT count(*) FROM live_actors_insert) AS live_actor_rows,
       (SELECT count(*) FROM live_second_upsert) AS live_second_rows,
       (SELECT count(*) FROM live_member_last_upsert) AS live_member_rows,
       (SELECT count(*) FROM live_actor_counts_upsert) AS live_actor_count_rows,
       (SELECT count(*) FROM live_latest_insert) + (SELECT count(*) FROM live_latest_delete) AS live_latest_rows,
       (SELECT count(*) FROM all_hour_upsert) AS all_hour_rows,
       (SELECT count(*) FROM all_reach_upsert) AS all_reach_rows,
       (SELECT count(*) FROM all_breakdown_hour_upsert) AS all_breakdown_hour_rows,
       (SELECT count(*) FROM all_breakdown_day_upsert) AS all_breakdown_day_rows
