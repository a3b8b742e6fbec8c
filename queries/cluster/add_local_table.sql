-- Keep the table on the coordinator, known to Citus (joinable with distributed and reference tables).
SELECT citus_add_local_table_to_metadata(CAST(:table_name AS regclass))
