"""Streamlit-side data access: the app's engine (one per process) and cached calls into core.

Cached functions take small scalar arguments only (ids, dates, zone names), so cache keys
stay cheap; lifetimes match how fast the data can change.
"""
from __future__ import annotations

from datetime import date

import streamlit as st

from core.analytics import annotations as notes
from core.analytics import campaigns as analytics
from core.analytics import decomposition
from core.access import audit
from core.access import auth
from core.platform import config
from core.platform import health
from core.platform import jobs
from core.platform.db import database_url, make_engine
from core.analytics.periods import Period
from ui.errors import remember_last_good
from ui.shared import period_data


@st.cache_resource(show_spinner=False)
def engine():
    return make_engine(database_url(), statement_timeout_ms=config.DASHBOARD_STATEMENT_TIMEOUT_MS, pool_size=5,
                       jit=False)


@remember_last_good  # shown, saying since when, while the database is slow or away
@period_data(max_entries=4)
def campaigns():
    return analytics.list_campaigns(engine())


def _period(first: date | None, last: date | None, tz: str) -> Period | None:
    return Period(first, last, tz) if first else None


@remember_last_good  # shown, saying since when, while the database is slow or away
@period_data(max_entries=64)
def portfolio_comparison(first: date, last: date, tz: str, compared_first: date | None, compared_last: date | None):
    """The portfolio with Δ columns against the comparison period and both periods' totals."""
    return analytics.portfolio_comparison(engine(), Period(first, last, tz), _period(compared_first, compared_last, tz))


@remember_last_good  # shown, saying since when, while the database is slow or away
@period_data(max_entries=128)
def summaries(first: date, last: date, tz: str, campaign_ids: tuple[int, ...] | None,
              compared_first: date | None, compared_last: date | None):
    """Totals (with reach) of the chosen campaigns for the period and the comparison period."""
    return analytics.period_summaries(engine(), Period(first, last, tz), campaign_ids,
                                      _period(compared_first, compared_last, tz))


@remember_last_good  # shown, saying since when, while the database is slow or away
@period_data(max_entries=64)
def grouped(first: date, last: date, tz: str, campaign_ids: tuple[int, ...] | None, compared_first: date,
            compared_last: date, by: str):
    """Both periods' additive columns by `by`, for "why did this change"."""
    return decomposition.grouped_totals(engine(), Period(first, last, tz), Period(compared_first, compared_last, tz),
                                        campaign_ids, by)


# Short-lived: a note someone adds shows at once (the page also clears this cache on saving).
@remember_last_good  # shown, saying since when, while the database is slow or away
@period_data(max_entries=64)
def annotations(first: date, last: date, tz: str, campaign_ids: tuple[int, ...] | None):
    """Holidays and people's notes about the period's days (core.analytics.annotations)."""
    return notes.annotations(engine(), Period(first, last, tz), campaign_ids)


@remember_last_good  # shown, saying since when, while the database is slow or away
@period_data(max_entries=128)
def series(first: date, last: date, tz: str, campaign_ids: tuple[int, ...] | None, grain: str):
    return analytics.series(engine(), Period(first, last, tz), campaign_ids, grain)


@remember_last_good  # shown, saying since when, while the database is slow or away
@period_data(max_entries=128)
def breakdown(first: date, last: date, tz: str, campaign_ids: tuple[int, ...] | None):
    return analytics.breakdown(engine(), Period(first, last, tz), campaign_ids)


@st.cache_data(ttl=5, max_entries=2, show_spinner=False)
def health_report():
    return health.check(engine())


@st.cache_data(ttl=5, max_entries=2, show_spinner=False)
def recent_job_runs():
    return jobs.recent_runs(engine(), limit=50)


@st.cache_data(ttl=5, max_entries=2, show_spinner=False)
def recent_audit():
    return audit.recent(engine(), limit=100)


@st.cache_data(ttl=60, max_entries=256, show_spinner=False)
def role_for(email: str) -> str:
    return auth.role_for(engine(), email)


@st.cache_data(ttl=10, max_entries=2, show_spinner=False)
def role_mapping():
    return auth.list_roles(engine())


@st.cache_data(ttl=10, max_entries=2, show_spinner=False)
def quarantined_events():
    return health.quarantined_events(engine(), limit=20)
