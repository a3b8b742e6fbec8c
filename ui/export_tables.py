"""What a CSV export's columns are called and hold — one convention for every export of
Campaign analytics, so a file opens in a spreadsheet meaning what it says:

- rates, ROI and relative changes are fractions (0.1234, not 12.34), in columns named
  `…_rate` (ROI too: (revenue − cost) / cost as a fraction is `roi_rate`); a change of a rate is
  a difference of fractions (`roi_rate_change` 0.108 = +10.8 points);
- money is US dollars to the cent in `…_usd` columns; counts are whole numbers;
- dates and times are ISO 8601 (2026-11-02, 2026-11-02T14:00:00), local to the zone named in a
  `time_zone` column or the file name; file names carry the whole range, first and last day.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.analytics.metrics import METRICS

EXPORT_NAMES = {
    "name": "campaign", "ctr": "click_through_rate", "reach_conversion": "reach_conversion_rate",
    "roi": "roi_rate", "revenue": "revenue_usd", "cost": "cost_usd",
    "conversions_change_rel": "conversions_change_rate", "revenue_change": "revenue_change_usd",
    "revenue_change_rel": "revenue_change_rate", "roi_change": "roi_rate_change",
}
MONEY = {"revenue", "cost", "revenue_change"}
FRACTION_DIGITS = 6


def export_name(column: str) -> str:
    return EXPORT_NAMES.get(column, column)


def export_table(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns of `frame` under their export names: money rounded to cents, fractions kept
    as fractions (to FRACTION_DIGITS places), everything else as it is."""
    out = frame[columns].copy()
    for column in columns:
        unit = METRICS[column].unit if column in METRICS else None
        if column in MONEY or unit == "USD":
            out[column] = out[column].astype(float).round(2)
        elif unit in ("%", "ratio") or column.endswith(("_rel", "roi_change")):
            out[column] = out[column].astype(float).round(FRACTION_DIGITS)
    return out.rename(columns=export_name)


def file_stem(what: str, first, last, tz: str) -> str:
    """portfolio_2026-11-01_to_2026-11-28_America-New_York: the whole range and the zone."""
    return f"{what}_{first:%Y-%m-%d}_to_{last:%Y-%m-%d}_{tz.replace('/', '-')}"


def overview_download(frame: pd.DataFrame, label: str, stem: str, key: str) -> None:
    """The Overview's CSV download: made on click through core.access.exports.export_overview
    (the narrower right executives have too; masked and audited like every export)."""
    from core.access.exports import export_overview
    from ui import data
    from ui.session import current_user  # ui.session imports ui.widgets, which imports this module's users
    from ui.widgets import csv_bytes

    user, db = current_user(), data.engine()  # taken now: Streamlit runs the callable in another thread
    st.download_button(label, lambda: csv_bytes(export_overview(db, user, frame, stem)), file_name=f"{stem}.csv",
                       mime="text/csv", key=key, icon=":material/download:")


NOT_COMPARED = {"delivered_members", "reach_conversion"}  # counted from each campaign's start: they only grow
UNIT_NAMES = {"%": "fraction", "ratio": "fraction", "USD": "usd", "count": "count"}


def overview_table(keys: list[str], current: pd.Series, previous: pd.Series | None, period, comparison) -> pd.DataFrame:
    """One row per KPI: its unit (fraction, usd, count), the value now and before, the change in
    that unit (a difference of fractions for rates and ROI) and, for counts and money, the
    relative change as a fraction; the days compared as ISO dates. Reach is not compared (empty)."""
    rows = []
    for key in keys:
        unit = METRICS[key].unit if key in METRICS else "count"
        now = float(current[key])
        before = float(previous[key]) if previous is not None else float("nan")
        if key in NOT_COMPARED:
            before = float("nan")
        relative = (now - before) / abs(before) if unit not in ("%", "ratio") and before else float("nan")
        rows.append({"metric": key, "unit": UNIT_NAMES[unit], "value_now": now, "value_before": before,
                     "change": now - before, "change_rate": relative})
    table = pd.DataFrame(rows)
    table["period_first"], table["period_last"] = f"{period.first:%Y-%m-%d}", f"{period.last:%Y-%m-%d}"
    table["compared_first"] = f"{comparison.first:%Y-%m-%d}" if comparison else ""
    table["compared_last"] = f"{comparison.last:%Y-%m-%d}" if comparison else ""
    table["time_zone"] = period.tz
    return table.round({"value_now": 6, "value_before": 6, "change": 6, "change_rate": 6})
