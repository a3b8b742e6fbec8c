-- Is Citus loaded into this database? (Runs anywhere: plain PostgreSQL answers false.)
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')
