-- Remember the demo just loaded: its seed and end time.
INSERT INTO demo_world (seed, ended_at) VALUES (:seed, :ended_at)
