-- Taken in a savepoint by a writer that draws a block of event_ids at once, and released with
-- it: waits for every transaction writing events (a COPY or INSERT into events holds ROW
-- EXCLUSIVE on it, and draws its event_ids while it does) and keeps new ones out meanwhile, so
-- no other event_id is drawn inside the block. The writer holds ROW EXCLUSIVE on events
-- already (events_lock_for_writing), so the roller's "wait for writers" waits for it as ever.
LOCK TABLE ONLY events IN SHARE ROW EXCLUSIVE MODE
