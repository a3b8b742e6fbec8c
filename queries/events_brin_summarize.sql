-- Summarize the block ranges appended since the last summary in the BRIN indexes of the event
-- partitions from :first_day on (ranges not yet summarized match every query: without this the
-- newest rows of an append-only partition are read by every time-range query until a vacuum).
SELECT coalesce(sum(brin_summarize_new_values(i.indexrelid)), 0) AS ranges
FROM pg_inherits p
JOIN pg_class part ON part.oid = p.inhrelid
JOIN pg_index i ON i.indrelid = part.oid
JOIN pg_class idx ON idx.oid = i.indexrelid
JOIN pg_am am ON am.oid = idx.relam
WHERE p.inhparent = 'events'::regclass AND am.amname = 'brin'
  AND part.relname >= 'events_p' || to_char(CAST(:first_day AS date), 'YYYYMMDD')
  AND part.relname <= 'events_p' || to_char(CAST(:last_day AS date), 'YYYYMMDD')
