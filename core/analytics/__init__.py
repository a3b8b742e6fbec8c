"""Campaign analytics: the one definition of every metric (metrics), periods and their
comparison periods in the viewer's time zone (periods), and the portfolio, KPI cards, series and
breakdowns read from the rollups (campaigns).

May import: core.platform; never streamlit.
"""
