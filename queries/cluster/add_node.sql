-- Join a worker (returns its node id; a node already joined keeps its id).
SELECT citus_add_node(:host, :port)
