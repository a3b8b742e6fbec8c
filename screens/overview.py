"""Overview — the executives' landing screen, read-only: a date preset (this month by default)
against its comparison period; revenue, cost, ROI, conversions, sends and reach as KPI cards two
to a row (on a phone too); one plain line per KPI saying what moved it; the biggest movers among
campaigns and segments; and why the chosen KPI changed, as a waterfall with its summary above.
Read-only but for one export of the cards' figures, which executives may take too
(the "export_overview" right).

Every number goes through ui.format; every sentence or name that carries data (campaign and
segment names) is escaped for Markdown, or HTML-escaped in chart labels (Plotly reads HTML)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access.auth import can
from core.analytics import decomposition
from core.analytics.decomposition import Decomposition, decompose_frames
from core.analytics.metrics import METRICS
from core.analytics.presets import COMPARISONS, PRESETS, Change, comparison_for, preset_period, versus
from ui import format as fmt
from ui import overview_data
from ui.export_tables import file_stem, overview_download, overview_table
from ui.session import current_user
from ui.errors import database_guard
from ui.widgets import TIME_ZONES
from ui.why_chart import caption, contribution_text, waterfall

CARDS = ["revenue", "cost", "roi", "conversions", "sends", "delivered_members"]
EXPLAINED = ["revenue", "cost", "roi", "conversions", "sends"]
WHY_KPIS = EXPLAINED + ["conversion_rate", "ctr", "open_rate", "delivery_rate"]
REACH_HELP = ("Members reached (delivered to) from each campaign's start to the period's end. It only grows, "
              "so it is not compared between periods.")
MOVERS = 5

tz = st.session_state.get("tz", TIME_ZONES[0])
st.title("Overview")
left, right = st.columns(2)
preset = left.selectbox("Period", list(PRESETS), index=list(PRESETS).index("this_month"), format_func=PRESETS.get,
                        key="overview_preset")
kind = right.selectbox("Compare with", list(COMPARISONS), format_func=COMPARISONS.get, key="overview_comparison",
                       help="Runs of days are compared weekday for weekday; months, quarters and the year to date "
                            "by the calendar.")
period = preset_period(preset, tz)
comparison = comparison_for(period, kind, preset)
against = versus(period, comparison)
st.caption(f"{period.label()} · " + (f"compared with {comparison.label()}" if comparison else "no comparison")
           + f" · days in **{tz}**")


def kpi_cards(numbers) -> None:
    for start in range(0, len(CARDS), 2):
        for column, key in zip(st.columns(2, wrap=False), CARDS[start:start + 2]):  # two a row, on a phone too
            now = numbers.current[key]
            if key == "delivered_members":
                column.metric("Members reached", fmt.count(now), help=REACH_HELP, border=True)
                continue
            change = Change(key, float(now), None if numbers.comparison is None else float(numbers.comparison[key]))
            column.metric(METRICS[key].label, fmt.metric_value(key, now),
                          delta=change.text(fmt) if change.compared else None,
                          delta_color="normal" if METRICS[key].higher_is_better else "inverse",
                          help=METRICS[key].help or None, border=True)


def explain(numbers, kpi: str, by: str) -> Decomposition:
    before, after, labels = numbers.groups[by] if by in numbers.groups else overview_data.grouped(
        period.first, period.last, tz, comparison.first, comparison.last, by)
    return decompose_frames(before, after, kpi, by, labels)


def movers_table(result: Decomposition) -> pd.DataFrame:
    top = result.groups.head(MOVERS)
    name = top.label.map(fmt.segment_label) if result.by == "segment" else top.label
    table = pd.DataFrame({
        decomposition.GROUPINGS[result.by]: name.to_numpy(),
        "Before": [fmt.metric_value(result.kpi, v) for v in top.before],
        "Now": [fmt.metric_value(result.kpi, v) for v in top.after],
        "Contribution": [contribution_text(result.kpi, v) for v in top.contribution],
        "Share of change": [fmt.percent(v, 0) for v in top.share_of_change],
        "Beyond noise": ["yes" if v else "no" for v in top.exceeds_noise],
    })
    if result.kind == "ratio":
        table.insert(4, "from mix", [contribution_text(result.kpi, v) for v in top.mix])
        table.insert(5, "from rate", [contribution_text(result.kpi, v) for v in top.rate])
    return table


def why_section(numbers) -> None:
    st.subheader("Why did it change")
    left, right = st.columns(2)
    kpi = left.selectbox("KPI", WHY_KPIS, format_func=lambda k: METRICS[k].label, key="overview_kpi")
    by = right.selectbox("By", list(decomposition.GROUPINGS), format_func=decomposition.GROUPINGS.get,
                         key="overview_by")
    result = explain(numbers, kpi, by)
    st.markdown(fmt.escape_markdown(decomposition.summary(result, fmt, against)))
    st.plotly_chart(waterfall(result, tz), width="stretch", key="overview_waterfall")
    st.caption(caption(result))


def body() -> None:
    numbers = overview_data.overview(period.first, period.last, tz, comparison.first if comparison else None,
                                     comparison.last if comparison else None)
    kpi_cards(numbers)
    if can(current_user(), "export_overview"):
        overview_download(overview_table(CARDS, numbers.current, numbers.comparison, period, comparison),
                          "Download these figures (CSV)", file_stem("overview", period.first, period.last, tz),
                          "dl_overview")
    if not numbers.current.sends and (numbers.comparison is None or not numbers.comparison.sends):
        st.info("No campaign sent anything in these days or the days compared. Pick a longer period above.")
        return
    if comparison is None:
        st.info("Pick a comparison above to see what changed and why.")
        return
    st.subheader("What changed")
    lines = [decomposition.summary(explain(numbers, kpi, "campaign"), fmt, against) for kpi in EXPLAINED]
    lines.append(f"Members reached {fmt.count(numbers.current.delivered_members)} since the campaigns' start; "
                 "not compared between periods (it only grows).")
    st.markdown("\n".join(f"- {fmt.escape_markdown(line)}" for line in lines))
    st.subheader("Biggest movers")
    kpi = st.session_state.get("overview_kpi", "revenue")
    st.caption(f"{METRICS[kpi].label}: the campaigns and segments that moved it most ({against}); choose the KPI "
               "under “Why did it change”.")
    for column, by in zip(st.columns(2), ("campaign", "segment")):
        column.dataframe(movers_table(explain(numbers, kpi, by)), hide_index=True, width="stretch",
                         key=f"overview_movers_{by}")
    why_section(numbers)


with database_guard():
    body()
