-- Tell the coordinator how the workers reach it (it holds the reference tables' coordinator copy).
SELECT citus_set_coordinator_host(:host, :port)
