-- Taken by a writer that COPYs straight into day partitions: the lock a COPY into events takes,
-- so the roller's "wait for writers" (LOCK TABLE events IN EXCLUSIVE MODE) queues behind this
-- transaction at the parent, before it holds any partition this writer is still to write.
LOCK TABLE ONLY events IN ROW EXCLUSIVE MODE
