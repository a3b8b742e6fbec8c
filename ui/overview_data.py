"""Cached data access for the Overview: a period's totals (with reach) against its comparison
period, and both periods per campaign and per segment for the "why" — three statements, read
once per 30 s and period, whichever KPI the viewer asks about."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from core.analytics import campaigns as analytics
from core.analytics import decomposition
from core.analytics.periods import Period
from ui.data import engine
from ui.errors import remember_last_good


@dataclass
class OverviewNumbers:
    current: pd.Series
    comparison: pd.Series | None
    groups: dict  # grouping -> (before frame, after frame, labels), when there is a comparison


@remember_last_good  # shown, saying since when, while the database is slow or away
@st.cache_data(ttl=30, max_entries=32, show_spinner=False)
def overview(first: date, last: date, tz: str, compared_first: date | None, compared_last: date | None) -> OverviewNumbers:
    period = Period(first, last, tz)
    comparison = Period(compared_first, compared_last, tz) if compared_first else None
    summaries = analytics.period_summaries(engine(), period, None, comparison)
    groups = {by: decomposition.grouped_totals(engine(), period, comparison, None, by)
              for by in ("campaign", "segment")} if comparison else {}
    return OverviewNumbers(summaries["current"], summaries.get("comparison"), groups)


@remember_last_good  # shown, saying since when, while the database is slow or away
@st.cache_data(ttl=30, max_entries=64, show_spinner=False)
def grouped(first: date, last: date, tz: str, compared_first: date, compared_last: date, by: str):
    """Both periods by channel, region or device (campaigns and segments come with overview())."""
    return decomposition.grouped_totals(engine(), Period(first, last, tz), Period(compared_first, compared_last, tz),
                                        None, by)
