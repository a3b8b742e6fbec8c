-- The highest event_id this session's COPY drew from the sequence (the lag writer's batch end).
SELECT currval('events_event_id_seq')
