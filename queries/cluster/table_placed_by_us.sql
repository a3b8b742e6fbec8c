-- Is the table in Citus's metadata, not only because Citus added it by itself for a foreign key
-- (pg_dist_partition.autoconverted: it may then turn it back into a plain table)?
SELECT EXISTS (SELECT 1 FROM pg_dist_partition
               WHERE logicalrelid = CAST(:table_name AS regclass) AND NOT coalesce(autoconverted, false))
