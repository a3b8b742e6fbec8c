-- What autovacuum does some time after a bulk load (visibility map, planner statistics); run
-- once before the query timings so they show the steady state, not the minute after the load.
VACUUM ANALYZE
