-- Where Citus keeps each application table now: distributed (hash), reference, or a local
-- table on the coordinator; tables Citus does not know are absent.
SELECT c.relname AS table_name,
       CASE WHEN p.partmethod = 'h' THEN 'distributed'
            WHEN p.repmodel = 't' THEN 'reference'
            ELSE 'coordinator' END AS placement,
       p.colocationid, column_to_column_name(p.logicalrelid, p.partkey) AS distribution_column
FROM pg_dist_partition p
JOIN pg_class c ON c.oid = p.logicalrelid
WHERE c.relnamespace = 'public'::regnamespace AND NOT c.relispartition
ORDER BY c.relname
