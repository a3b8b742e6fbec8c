-- Is events a distributed table here? (The capability flag of core.platform.distribute.)
SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'public.events'::regclass AND partmethod = 'h')
