-- The PostgreSQL settings that shape the numbers, for the benchmark's machine record.
SELECT name, current_setting(name) AS value
FROM pg_settings
WHERE name IN ('server_version', 'shared_buffers', 'work_mem', 'maintenance_work_mem',
               'effective_cache_size', 'max_parallel_workers_per_gather', 'synchronous_commit',
               'max_wal_size', 'jit')
ORDER BY name
