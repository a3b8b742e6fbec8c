"""Overview — the executives' landing screen, read-only: a date preset (this month by default)
against its comparison period; revenue, cost, ROI, conversions, sends and reach as KPI cards two
to a row (on a phone too); one plain line per KPI saying what moved it; the biggest movers among
campaigns and segments; and why the chosen KPI changed, as a waterfall with its summary above.

Every number goes through ui.format; every sentence or name that carries data (campaign and
segment names) is escaped for Markdown, or HTML-escaped in chart labels (Plotly reads HTML)."""
from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.analytics import decomposition
from core.analytics.decomposition import Decomposition, decompose_frames
from core.analytics.metrics import METRICS
from core.analytics.presets import COMPARISONS, PRESETS, Change, comparison_for, preset_period, versus
from ui import format as fmt
from ui import overview_data
from ui.widgets import TIME_ZONES, database_guard

CARDS = ["revenue", "cost", "roi", "conversions", "sends", "delivered_members"]
EXPLAINED = ["revenue", "cost", "roi", "conversions", "sends"]
WHY_KPIS = EXPLAINED + ["conversion_rate", "ctr", "open_rate", "delivery_rate"]
REACH_HELP = ("Members reached (delivered to) from each campaign's start to the period's end. It only grows, "
              "so it is not compared between periods.")
MOVERS = 5
WATERFALL_BARS = 8

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


def as_points(kpi: str) -> bool:
    return METRICS[kpi].unit in ("%", "ratio")


def contribution_text(kpi: str, value) -> str:
    """A contribution in the KPI's unit of change: points for rates and ROI, else signed."""
    if as_points(kpi):
        return fmt.points(value)
    return fmt.money(value, signed=True) if METRICS[kpi].unit == "USD" else fmt.decimal(value, 0, signed=True)


def chart_label(value, limit: int = 28) -> str:
    """A name from data for a Plotly label: HTML-escaped (Plotly renders tags and links) and short."""
    text = str(value)
    return html.escape(text if len(text) <= limit else text[:limit - 1] + "…")


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


def waterfall(result: Decomposition) -> go.Figure:
    scale = 100 if as_points(result.kpi) else 1          # rates and ROI in percent and points
    shown = result.groups.head(WATERFALL_BARS)
    rest = result.groups.iloc[WATERFALL_BARS:]
    names = [fmt.segment_label(v) if result.by == "segment" else v for v in shown.label]
    labels = [f"{chart_label(n)}{'' if beyond else ' (noise)'}" for n, beyond in zip(names, shown.exceeds_noise)]
    steps = list(shown.contribution)
    hover = [f"{chart_label(n, 80)}<br>{contribution_text(result.kpi, c)}; 95 % interval "
             f"{contribution_text(result.kpi, lo)} to {contribution_text(result.kpi, hi)}"
             for n, c, lo, hi in zip(names, shown.contribution, shown.low, shown.high)]
    if len(rest):
        labels.append(f"{len(rest)} other{'s' if len(rest) > 1 else ''}")
        steps.append(float(rest.contribution.sum()))
        hover.append(f"{len(rest)} other {result.by}s together: {contribution_text(result.kpi, steps[-1])}")
    before_label, after_label = "Before", "Now"
    figure = go.Figure(go.Waterfall(
        orientation="v", measure=["absolute"] + ["relative"] * len(steps) + ["total"],
        x=[before_label] + labels + [after_label],
        y=[result.before * scale] + [s * scale for s in steps] + [0],
        text=[fmt.metric_value(result.kpi, result.before)] + [contribution_text(result.kpi, s) for s in steps]
        + [fmt.metric_value(result.kpi, result.after)],
        hovertext=[f"{METRICS[result.kpi].label} before"] + hover + [f"{METRICS[result.kpi].label} now"],
        hoverinfo="text", textposition="outside",
        increasing=dict(marker=dict(color=fmt.GREEN if METRICS[result.kpi].higher_is_better else fmt.RED)),
        decreasing=dict(marker=dict(color=fmt.RED if METRICS[result.kpi].higher_is_better else fmt.GREEN)),
        totals=dict(marker=dict(color=fmt.BLUE)), connector=dict(line=dict(color=fmt.GREY))))
    unit = {"%": " (%)", "ratio": " (%)", "USD": " (USD)"}.get(METRICS[result.kpi].unit, "")
    fmt.chart_layout(figure, height=420, title=f"{METRICS[result.kpi].label} by {result.by} · {tz}")
    figure.update_layout(showlegend=False, yaxis_title=METRICS[result.kpi].label + unit, xaxis_tickangle=-40)
    return figure


def why_section(numbers) -> None:
    st.subheader("Why did it change")
    left, right = st.columns(2)
    kpi = left.selectbox("KPI", WHY_KPIS, format_func=lambda k: METRICS[k].label, key="overview_kpi")
    by = right.selectbox("By", list(decomposition.GROUPINGS), format_func=decomposition.GROUPINGS.get,
                         key="overview_by")
    result = explain(numbers, kpi, by)
    st.markdown(fmt.escape_markdown(decomposition.summary(result, fmt, against)))
    st.plotly_chart(waterfall(result), width="stretch", key="overview_waterfall")
    st.caption(f"Each bar is a {by}'s contribution to the change; they add up exactly from before to now. "
               + ("Rates and ROI: a group's rate moving (rate) and its share of the volume moving (mix). "
                  if result.kind == "ratio" else "")
               + f"“(noise)” marks a contribution whose 95 % interval includes zero ({result.noise}).")


def body() -> None:
    numbers = overview_data.overview(period.first, period.last, tz, comparison.first if comparison else None,
                                     comparison.last if comparison else None)
    kpi_cards(numbers)
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
