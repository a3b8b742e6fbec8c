-- For the rest of the transaction: no parallel workers and no JIT compilation. The live queries
-- read a few thousand rows each; starting workers, or compiling expressions (which the planner
-- does past jit_above_cost, whatever the rows really are), costs more than it saves. work_mem
-- for the raw events above the watermark: at 20,000 events/s they are 60,000-70,000 rows, and
-- the activity query's materialized tail spilled to a temporary file at the default 4 MB.
SELECT set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true),
       set_config('work_mem', '32MB', true)
