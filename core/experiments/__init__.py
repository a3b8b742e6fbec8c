"""A/B tests (Screen 2): the statistics engine (stats, with power and srm), what a test
measures (outcomes), deterministic assignment (assignment), tests as records and their controls
(tests_repo), results and the tracker's verdict (results), the snapshot job and its alerts
(snapshots), the analysts' calculator (calculator) and the import of real test files (importer).

May import: core.platform, core.access; never streamlit.
"""
