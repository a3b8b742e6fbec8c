-- Planner estimates for the big tables (exact counts of tens of millions of rows take seconds),
-- exact counts for the small ones.
SELECT 'events (estimate)' AS "table", (SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass) AS "rows"
UNION ALL SELECT 'event partitions', (SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass)
UNION ALL SELECT 'campaign members (estimate)', (SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'campaign_members'::regclass)
UNION ALL SELECT 'hourly rollup rows (estimate)', (SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'rollup_campaign_hour'::regclass)
UNION ALL SELECT 'members', (SELECT count(*) FROM members)
UNION ALL SELECT 'campaigns', (SELECT count(*) FROM campaigns)
UNION ALL SELECT 'offers', (SELECT count(*) FROM offers)
UNION ALL SELECT 'A/B tests', (SELECT count(*) FROM ab_tests)
UNION ALL SELECT 'recommendations', (SELECT count(*) FROM recommendations)
UNION ALL SELECT 'audit log entries', (SELECT count(*) FROM audit_log)
