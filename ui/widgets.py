"""Shared widgets: the sidebar's period and time zone, CSV downloads (safe to open
in a spreadsheet), and the database-down message that recovers by itself."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core.analytics.metrics import METRICS
from core.analytics.periods import Period
from core.analytics.presets import COMPARISONS, PRESETS, comparison_for, preset_period
from ui import vega
from ui.exports import checked_export

TIME_ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
              "America/Los_Angeles", "UTC", "Europe/London", "Europe/Berlin", "Asia/Kolkata",
              "Asia/Tokyo", "Australia/Sydney"]
CUSTOM = "custom"
PERIOD_CHOICES = {**PRESETS, CUSTOM: "Custom dates"}
DEFAULT_PRESET = "last_28_days"


def sidebar_filters(period: bool = True) -> None:
    """The shared sidebar: time zone, period (a preset, or custom dates) and what it is compared
    with (not shown when `period` is False: a screen with its own). Each lives in session state and in the URL (bind="query-params": its key is the
    parameter's name), so a link opens the same view; a value equal to the default is left out
    of the URL, and a value the URL gets wrong is ignored."""
    state = st.session_state
    # The default is the widget's own (index), not one set in session state: a bound widget
    # leaves its default out of the URL, so a link must mean the same default in a new session.
    # Dates set before presets existed (in session state) are custom dates.
    default = CUSTOM if "date_range" in state and "period" not in state else DEFAULT_PRESET
    with st.sidebar:
        st.selectbox("Time zone", TIME_ZONES, key="tz", bind="query-params",
                     help="Days, hours and weeks on every screen are in this time zone.")
        if not period:
            # A widget not drawn in a run loses its value: keep the choice for the next screen.
            for key in ("period", "date_range", "comparison"):
                if key in state:
                    state[key] = state[key]
            return
        st.selectbox("Period", list(PERIOD_CHOICES), index=list(PERIOD_CHOICES).index(default), key="period",
                     format_func=PERIOD_CHOICES.get,
                     bind="query-params", help="Days in the time zone above; \"This …\" runs to today.")
        if state.get("period") == CUSTOM:
            today = datetime.now(ZoneInfo(state.get("tz", TIME_ZONES[0]))).date()
            state.setdefault("date_range", (today - timedelta(days=27), today))
            st.date_input("Date range", key="date_range", max_value=today + timedelta(days=366),
                          format="YYYY-MM-DD", bind="query-params")
        st.selectbox("Compare with", list(COMPARISONS), key="comparison", format_func=COMPARISONS.get,
                     bind="query-params",
                     help="Runs of days are compared weekday for weekday (a Monday with a Monday); months, "
                          "quarters and the year to date by the calendar.")


def chosen_preset() -> str | None:
    """The sidebar's preset, or None for custom dates."""
    preset = st.session_state.get("period", DEFAULT_PRESET)
    return preset if preset in PRESETS else None


def current_period() -> Period:
    state = st.session_state
    tz = state.get("tz", TIME_ZONES[0])
    preset = chosen_preset()
    if preset:
        return preset_period(preset, tz)
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
    kind = st.session_state.get("comparison", "previous")
    return kind if kind in COMPARISONS else "previous"


def current_comparison(period: Period) -> Period | None:
    """The period the sidebar compares `period` with (None: no comparison, or nothing that early)."""
    return comparison_for(period, comparison_kind(), chosen_preset())


def vega_chart(spec: dict, where=None, **options) -> None:
    """Every chart of the app: st.vega_lite_chart (in `where`, a column or container, or the
    page) with the spec's rows as named datasets (ui.vega.named_datasets), so a rerun that only
    changes the numbers updates the chart in place instead of building it again."""
    (where or st).vega_lite_chart(spec=vega.named_datasets(spec), **options)


def lazy_tabs(sections: dict[str, Callable[[], None]], key: str) -> None:
    """Tabs of which only the open one is drawn: `sections` maps each tab's label to what draws
    it. A click on another tab is a rerun, and the open tab lives in the URL under `key`, so a
    link opens the same tab. Drawing every tab on each run cost the browser time for tabs nobody
    sees (issue 15). A closed tab's widgets keep their values in the session, not in the URL."""
    for tab, show in zip(st.tabs(list(sections), key=key, bind="query-params"), sections.values()):
        if tab.open:
            with tab:
                show()


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
            # A campaign's name is long: at "medium" width a phone still shows the column beside it.
            config[column] = st.column_config.TextColumn(TEXT_COLUMN_LABELS[column], pinned=column == "name",
                                                         width="medium" if column == "name" else None)
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
