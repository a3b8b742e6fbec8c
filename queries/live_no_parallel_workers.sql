-- For the rest of the transaction: no parallel workers. The live queries read a few thousand
-- rows each; starting workers would cost more than it saves.
SELECT set_config('max_parallel_workers_per_gather', '0', true)
