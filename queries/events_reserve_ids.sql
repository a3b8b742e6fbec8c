-- Draw :count event_ids in one block (the caller holds events_lock_for_reserving, so nothing
-- draws one meanwhile) and return the block's first id; the sequence moves past the block
-- whatever becomes of the caller's transaction, as nextval does.
SELECT setval('events_event_id_seq', nextval('events_event_id_seq') + CAST(:count AS bigint) - 1)
       - CAST(:count AS bigint) + 1 AS first_id
