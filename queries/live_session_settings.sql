-- For the rest of the transaction: no parallel workers and no JIT compilation. The live queries
-- read a few thousand rows of the live rollups each; starting workers, or compiling expressions
-- (which the planner does past jit_above_cost, whatever the rows really are), costs more than it
-- saves.
SELECT set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true)
