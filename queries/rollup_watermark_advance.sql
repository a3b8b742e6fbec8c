UPDATE rollup_watermarks
SET last_event_id = :to_id, updated_at = now(),
    latest_event_at = greatest(latest_event_at, CAST(:latest_event_at AS timestamptz))
WHERE name = 'events'
