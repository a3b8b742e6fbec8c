-- The nodes the coordinator's metadata knows (group 0 is the coordinator).
SELECT nodeid, groupid, nodename, nodeport, noderole, isactive
FROM pg_dist_node
ORDER BY groupid, nodeid
