"""The demo world: the planted truth in one place (truth), the deterministic history built from it
(generator), the live event simulator that continues it (simulator), and the map shapes of the
demo regions (geo, us_regions.json).

May import: core.platform, core.analytics, core.access, core.experiments, core.live; never
core.optimize (the models must find the truth, not read it) and never streamlit.
"""
