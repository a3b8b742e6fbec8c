-- Citus variant of queries/health_row_counts.sql (same answer): a distributed table's rows are
-- in its shards on the workers, and the coordinator's own statistics of it stay at zero, so the
-- planner estimates are summed over the shards (run_command_on_shards runs the original's
-- estimate on each shard: of each partition of an events shard, of a campaign_members shard, …).
SELECT 'events (estimate)' AS "table", (SELECT coalesce(sum(result::float8), 0)::bigint FROM run_command_on_shards('events', $cmd$SELECT coalesce(sum(greatest(c.reltuples, 0)), 0) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '%s'::regclass$cmd$) WHERE success) AS "rows"
UNION ALL SELECT 'event partitions', (SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass)
UNION ALL SELECT 'campaign members (estimate)', (SELECT coalesce(sum(result::float8), 0)::bigint FROM run_command_on_shards('campaign_members', $cmd$SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = '%s'::regclass$cmd$) WHERE success)
UNION ALL SELECT 'hourly rollup rows (estimate)', (SELECT coalesce(sum(result::float8), 0)::bigint FROM run_command_on_shards('rollup_campaign_hour', $cmd$SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = '%s'::regclass$cmd$) WHERE success)
UNION ALL SELECT 'members', (SELECT count(*) FROM members)
UNION ALL SELECT 'campaigns', (SELECT count(*) FROM campaigns)
UNION ALL SELECT 'offers', (SELECT count(*) FROM offers)
UNION ALL SELECT 'A/B tests', (SELECT count(*) FROM ab_tests)
UNION ALL SELECT 'recommendations', (SELECT count(*) FROM recommendations)
UNION ALL SELECT 'audit log entries', (SELECT count(*) FROM audit_log)
