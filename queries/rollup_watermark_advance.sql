UPDATE rollup_watermarks SET last_event_id = :to_id, updated_at = now() WHERE name = 'events'
