-- A full copy of the table on every node (it may already be a coordinator table: Citus converts it).
SELECT create_reference_table(CAST(:table_name AS regclass))
