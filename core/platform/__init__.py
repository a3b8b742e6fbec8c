"""The data platform: where the database is (db, config), its schema (migrate, migrations), how
events get in (pgcopy, ingest, events) and become rollups (rollup), and how background work runs
and is watched (jobs, maintenance, health).

May import: nothing from other core packages (it is the bottom layer); never streamlit.
"""
