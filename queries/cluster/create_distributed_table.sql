-- The anchor of the colocation group: hash-distributed by :column into :shard_count shards
-- (NULL: citus.shard_count, 32 unless configured).
SELECT create_distributed_table(CAST(:table_name AS regclass), CAST(:column AS text),
                                shard_count => coalesce(CAST(:shard_count AS integer), current_setting('citus.shard_count')::integer),
                                colocate_with => 'none')
