"""The product, without Streamlit: the same code serves the app, the worker, the command line
and the tests. Grouped by concern; imports only go downward through these layers (the contract
in .importlinter, enforced by tests/unit/test_architecture.py):

- core.worker, core.__main__: the composition roots — the worker's schedule of every job and the
  operators' command line. They may import every package below.
- core.demo, core.optimize: the demo world (generator, planted truth, live simulator, map
  shapes) and the optimization models and recommendations.
- core.experiments, core.live: the A/B engine and tracker; the real-time tiles.
- core.analytics: campaign metrics, periods, analytics, why a KPI changed, date presets and
  annotations (people's notes are checked and audited actions, hence above access).
- core.access: roles, audit and personal data.
- core.platform: the database, settings, migrations, binary COPY, import, rollups, jobs,
  maintenance, health and the event vocabulary. It imports no other core package.

Packages on one layer do not import each other. Nothing here imports streamlit, ui or screens.
"""
