"""Cached data access for the Overview: a period's totals (with reach) against its comparison
period — one statement, read once per 30 s and period — and the biggest movers' tables, built
once from the shared decompositions (ui.why_data) whichever session asks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from core.analytics import campaigns as analytics
from core.analytics import decomposition
from core.analytics.periods import Period
from ui import format as fmt
from ui import why_data
from ui.data import engine
from ui.errors import remember_last_good
from ui.why_chart import contribution_text


@dataclass
class OverviewNumbers:
    current: pd.Series
    comparison: pd.Series | None


@remember_last_good  # shown, saying since when, while the database is slow or away
@st.cache_data(ttl=30, max_entries=32, show_spinner=False)
def overview(first: date, last: date, tz: str, compared_first: date | None, compared_last: date | None) -> OverviewNumbers:
    period = Period(first, last, tz)
    comparison = Period(compared_first, compared_last, tz) if compared_first else None
    summaries = analytics.period_summaries(engine(), period, None, comparison)
    return OverviewNumbers(summaries["current"], summaries.get("comparison"))


@st.cache_resource(ttl=30, max_entries=64, show_spinner=False)
def movers(first: date, last: date, tz: str, compared_first: date, compared_last: date, kpi: str, by: str,
           top: int) -> pd.DataFrame:
    """The `top` groups that moved the KPI most, as shown (read-only: shared by every session)."""
    result = why_data.decomposed(first, last, tz, None, compared_first, compared_last, kpi, by)
    head = result.groups.head(top)
    name = head.label.map(fmt.segment_label) if result.by == "segment" else head.label
    table = pd.DataFrame({
        decomposition.GROUPINGS[result.by]: name.to_numpy(),
        "Before": [fmt.metric_value(result.kpi, v) for v in head.before],
        "Now": [fmt.metric_value(result.kpi, v) for v in head.after],
        "Contribution": [contribution_text(result.kpi, v) for v in head.contribution],
        "Share of change": [fmt.percent(v, 0) for v in head.share_of_change],
        "Beyond noise": ["yes" if v else "no" for v in head.exceeds_noise],
    })
    if result.kind == "ratio":
        table.insert(4, "from mix", [contribution_text(result.kpi, v) for v in head.mix])
        table.insert(5, "from rate", [contribution_text(result.kpi, v) for v in head.rate])
    return table
