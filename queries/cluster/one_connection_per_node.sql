-- For the rest of the transaction, Citus talks to each worker over one connection (see
-- core.platform.distribute.one_connection_per_node).
SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true)
