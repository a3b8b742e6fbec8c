-- Freshness from the rollup watermark (no scan of events): the newest event time rolled up,
-- when the rollups last advanced, and how many events wait to be rolled up.
SELECT w.latest_event_at, w.updated_at AS rollups_advanced_at,
       greatest(coalesce(pg_sequence_last_value('events_event_id_seq'), 0) - w.last_event_id, 0) AS pending_events
FROM rollup_watermarks w WHERE w.name = 'events'
