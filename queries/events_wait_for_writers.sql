-- Taken in a savepoint and released at once: returns only when every transaction that was
-- writing events (and so may hold an event_id below the window's end) has finished.
LOCK TABLE events IN EXCLUSIVE MODE
