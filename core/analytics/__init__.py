"""Campaign analytics: the one definition of every metric (metrics), periods and their
comparison periods in the viewer's time zone (periods), date presets and changes said in the
right unit (presets), the portfolio, KPI cards, series and breakdowns read from the rollups
(campaigns), why a KPI changed (decomposition), and what the charts mark: holidays (calendar)
and people's notes (annotations).

May import: core.access (notes are checked, audited actions), core.platform; never streamlit.
"""
