-- Sends and the opens and clicks that followed them, per member, campaign, member-local hour
-- and weekday, split at :holdout_from (later sends are the held-out weeks). An open or click
-- belongs to the latest earlier send of the same campaign to the same member.
WITH stream AS (
    SELECT campaign_id, member_id, event_time, event_type,
           count(*) FILTER (WHERE event_type = 1) OVER (
               PARTITION BY campaign_id, member_id ORDER BY event_time, event_type
               ROWS UNBOUNDED PRECEDING) AS send_number
    FROM events
    WHERE event_type IN (1, 3, 5) AND event_time >= :since AND event_time < :until
),
per_send AS (
    SELECT campaign_id, member_id,
           min(event_time) FILTER (WHERE event_type = 1) AS sent_at,
           bool_or(event_type = 3) AS opened,
           bool_or(event_type = 5) AS clicked
    FROM stream
    WHERE send_number > 0
    GROUP BY campaign_id, member_id, send_number
)
SELECT s.member_id, s.campaign_id,
       extract(hour FROM s.sent_at AT TIME ZONE m.timezone)::smallint AS local_hour,
       (extract(isodow FROM s.sent_at AT TIME ZONE m.timezone) - 1)::smallint AS local_weekday,
       s.sent_at >= :holdout_from AS held_out,
       count(*) AS sends,
       count(*) FILTER (WHERE s.opened) AS opens,
       count(*) FILTER (WHERE s.clicked) AS clicks
FROM per_send s
JOIN members m USING (member_id)
GROUP BY 1, 2, 3, 4, 5
