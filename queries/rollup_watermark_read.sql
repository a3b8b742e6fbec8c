SELECT last_event_id FROM rollup_watermarks WHERE name = 'events'
