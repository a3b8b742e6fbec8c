-- Citus variant of queries/events_brin_summarize.sql (same parameters): the event rows and their
-- BRIN indexes are in the shards of each partition, on the workers (the coordinator's partitions
-- are empty), so the summary runs on every shard of every partition from :first_day to
-- :last_day. Returns the block ranges summarized, as the original.
SELECT coalesce(sum(r.result::integer), 0) AS ranges
FROM pg_inherits p
JOIN pg_class part ON part.oid = p.inhrelid
CROSS JOIN LATERAL run_command_on_shards(part.oid::regclass, $cmd$
    SELECT coalesce(sum(brin_summarize_new_values(i.indexrelid)), 0)
    FROM pg_index i JOIN pg_class idx ON idx.oid = i.indexrelid JOIN pg_am am ON am.oid = idx.relam
    WHERE i.indrelid = '%s'::regclass AND am.amname = 'brin'$cmd$) AS r
WHERE p.inhparent = 'events'::regclass AND r.success
  AND part.relname >= 'events_p' || to_char(CAST(:first_day AS date), 'YYYYMMDD')
  AND part.relname <= 'events_p' || to_char(CAST(:last_day AS date), 'YYYYMMDD')
