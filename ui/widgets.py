"""Shared widgets: the sidebar's period and time zone, KPI cards, CSV downloads (safe to open
in a spreadsheet), and the database-down message that recovers by itself."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core.analytics.campaigns import KpiCard
from core.analytics.metrics import METRICS
from core.analytics.periods import COMPARISONS, Period
from ui.errors import database_guard  # noqa: F401 (moved to ui.errors; screens import it from here)
from ui.exports import checked_export
from ui.format import metric_value, percent

TIME_ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
              "America/Los_Angeles", "UTC", "Europe/London", "Europe/Berlin", "Asia/Kolkata",
              "Asia/Tokyo", "Australia/Sydney"]
PRESETS = {"Last 7 days": 7, "Last 28 days": 28, "Last 90 days": 90}


def sidebar_filters() -> None:
    """The shared sidebar: time zone, date range and comparison period (kept in session state)."""
    state = st.session_state
    with st.sidebar:
        st.selectbox("Time zone", TIME_ZONES, key="tz",
                     help="Days, hours and weeks on every screen are in this time zone.")
        today = datetime.now(ZoneInfo(state.get("tz", TIME_ZONES[0]))).date()
        state.setdefault("date_range", (today - timedelta(days=27), today))
        st.date_input("Date range", key="date_range", max_value=today + timedelta(days=366), format="YYYY-MM-DD")
        st.selectbox("Compare with", list(COMPARISONS), key="comparison", format_func=COMPARISONS.get,
                     help="Comparison periods are shifted by whole weeks so weekdays line up.")


def current_period() -> Period:
    state = st.session_state
    tz = state.get("tz", TIME_ZONES[0])
    chosen = state.get("date_range")
    today = datetime.now(ZoneInfo(tz)).date()
    if not chosen:
        return Period(today - timedelta(days=27), today, tz)
    if isinstance(chosen, date):
        chosen = (chosen,)
    first = chosen[0]
    last = chosen[1] if len(chosen) > 1 else chosen[0]  # while the second date is being picked
    period, problem = Period.from_input(first, last, tz)
    if problem:
        st.sidebar.warning(problem, icon=":material/date_range:")
    return period


def comparison_kind() -> str:
    return st.session_state.get("comparison", "previous")


def kpi_row(cards: list[KpiCard], columns: int = 3) -> None:
    for start in range(0, len(cards), columns):
        cols = st.columns(columns)
        for col, card in zip(cols, cards[start:start + columns]):
            delta = None
            if card.change is not None and pd.notna(card.change):
                delta = f"{percent(card.change, signed=True)} vs {metric_value(card.key, card.previous)}"
            col.metric(card.label, metric_value(card.key, card.value), delta=delta,
                       delta_color="normal" if card.higher_is_better else "inverse",
                       help=METRICS[card.key].help or None, border=True)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value):
    """Text that a spreadsheet would run as a formula, with a ' in front so it stays text;
    numbers and everything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as CSV with every text cell (and header) formula-safe; numbers stay numbers."""
    safe = frame.rename(columns=formula_safe)
    for column in safe.columns[[not pd.api.types.is_numeric_dtype(t) for t in safe.dtypes]]:
        safe[column] = safe[column].map(formula_safe)
    return safe.to_csv(index=False).encode()


def csv_download(frame: pd.DataFrame, label: str, file_stem: str, key: str) -> None:
    """Download exactly the frame that is shown, as CSV (formula-safe: see csv_bytes). The file is
    made on click by core.access.exports (export right checked, personal data masked, audited)."""
    st.download_button(label, checked_export(frame, file_stem, csv_bytes), file_name=f"{file_stem}.csv",
                       mime="text/csv", key=key, icon=":material/download:")


def display_metrics(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rates as percentages and money rounded, for tables and their CSV exports alike."""
    out = frame[columns].copy()
    for column in columns:
        unit = METRICS[column].unit if column in METRICS else None
        if unit in ("%", "ratio"):
            out[column] = (out[column].astype(float) * 100).round(2)
        elif unit == "USD":
            out[column] = out[column].astype(float).round(2)
    return out


TEXT_COLUMN_LABELS = {"name": "Campaign", "channel": "Channel", "segment": "Segment", "status": "Status",
                      "device": "Device", "region": "Region"}


def column_config(columns: list[str]) -> dict:
    config = {}
    for column in columns:
        metric = METRICS.get(column)
        if column in TEXT_COLUMN_LABELS:  # the name stays in view while a phone scrolls sideways
            config[column] = st.column_config.TextColumn(TEXT_COLUMN_LABELS[column], pinned=column == "name")
        if metric is None:
            continue
        if metric.unit == "%":
            config[column] = st.column_config.NumberColumn(f"{metric.label} (%)", format="%.2f%%", help=metric.help)
        elif metric.unit == "ratio":
            config[column] = st.column_config.NumberColumn(f"{metric.label} (%)", format="%.1f%%", help=metric.help)
        elif metric.unit == "USD":
            config[column] = st.column_config.NumberColumn(f"{metric.label} (USD)", format="dollar", help=metric.help)
        else:
            config[column] = st.column_config.NumberColumn(metric.label, format="%,d", help=metric.help)
    return config
