-- How far the rollups reach, for the Real-time screen (core.live.windows.held_until): the last
-- event folded in, when the roller last moved, and the last event id handed out. When nothing
-- is written beyond the watermark the rollups hold every event up to now.
SELECT w.last_event_id, w.updated_at,
       coalesce(pg_sequence_last_value('events_event_id_seq'), 0) AS last_assigned_id
FROM rollup_watermarks w
WHERE w.name = 'events'
