-- Distributed by :column with the same shards as :anchor: rows of one campaign share a worker.
SELECT create_distributed_table(CAST(:table_name AS regclass), CAST(:column AS text), colocate_with => CAST(:anchor AS text))
