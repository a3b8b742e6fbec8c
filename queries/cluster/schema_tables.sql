-- The application's tables (partitions of events are part of events, not tables of their own).
SELECT c.relname AS table_name
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname
