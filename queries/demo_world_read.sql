-- The loaded demo's seed and end (the latest load), for the live simulator.
SELECT seed, ended_at FROM demo_world ORDER BY loaded_at DESC LIMIT 1
