-- Citus variant of queries/events_brin_summarize.sql (same parameters, same answer): the event
-- rows and their BRIN indexes are in the shards on the workers (the coordinator's partitions are
-- empty), so the summary runs in every shard of events, on its partitions (named like
-- events_p20261128_102520) from :first_day to :last_day. Returns the block ranges summarized.
SELECT coalesce(sum(r.result::integer), 0) AS ranges
FROM run_command_on_shards('events', format($cmd$
    SELECT coalesce(sum(brin_summarize_new_values(i.indexrelid)), 0)
    FROM pg_inherits p
    JOIN pg_class part ON part.oid = p.inhrelid
    JOIN pg_index i ON i.indrelid = part.oid
    JOIN pg_class idx ON idx.oid = i.indexrelid
    JOIN pg_am am ON am.oid = idx.relam
    WHERE p.inhparent = '%%s'::regclass AND am.amname = 'brin'
      AND substring(part.relname FROM 9 FOR 8) BETWEEN %L AND %L$cmd$,
    to_char(CAST(:first_day AS date), 'YYYYMMDD'), to_char(CAST(:last_day AS date), 'YYYYMMDD'))) AS r
WHERE r.success
