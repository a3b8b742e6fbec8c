"""Overview — the executives' landing screen, read-only: a date preset (this month by default)
against its comparison period; revenue, cost, ROI, conversions, sends and reach as KPI cards two
to a row (on a phone too); one plain line per KPI saying what moved it; the biggest movers among
campaigns and segments; and why the chosen KPI changed, as a waterfall with its summary above.
Read-only but for one export of the cards' figures, which executives may take too
(the "export_overview" right).

Every number goes through ui.format; every sentence or name that carries data (campaign and
segment names) is escaped for Markdown; the waterfall is a Vega-Lite chart, which draws names as plain
text."""
from __future__ import annotations

import streamlit as st

from core.access.auth import can
from core.analytics import decomposition
from core.analytics.metrics import METRICS, Metric
from core.analytics.presets import COMPARISONS, PRESETS, comparison_for, preset_period, versus
from ui import format as fmt
from ui import overview_data, why_data
from ui.export_tables import file_stem, overview_download
from ui.session import current_user
from ui.errors import database_guard
from ui.why_chart import WATERFALL_HEIGHT
from ui.kpi_cards import kpi_cards
from ui.widgets import TIME_ZONES, vega_chart

# The most important first: money and its return, then the volume; a row each on a desktop, two
# cards a line on a phone (ui.kpi_cards, the app's one card layout).
CARD_ROWS = [["revenue", "cost", "roi", "conversions"], ["sends", "delivered_members"]]
CARDS = [key for row in CARD_ROWS for key in row]
EXPLAINED = ["revenue", "cost", "roi", "conversions", "sends"]
WHY_KPIS = EXPLAINED + ["conversion_rate", "ctr", "open_rate", "delivery_rate"]
REACH = Metric("delivered_members", "Members reached", "count",
               help="Members reached (delivered to) from each campaign's start to the period's end. It only "
                    "grows, so it is not compared between periods.")
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
# The arguments of every cached "why" of this screen: every campaign, this period against its comparison.
compared = (period.first, period.last, tz, None, comparison.first, comparison.last) if comparison else None
st.caption(f"{period.label()} · " + (f"compared with {comparison.label()}" if comparison else "no comparison")
           + f" · days in **{tz}**")


def why_section() -> None:
    st.subheader("Why did it change")
    left, right = st.columns(2)
    kpi = left.selectbox("KPI", WHY_KPIS, format_func=lambda k: METRICS[k].label, key="overview_kpi")
    by = right.selectbox("By", list(decomposition.GROUPINGS), format_func=decomposition.GROUPINGS.get,
                         key="overview_by")
    view = why_data.why_view(*compared, kpi, by)
    st.markdown(fmt.escape_markdown(view.summary))
    vega_chart(spec=view.spec, width="stretch", height=WATERFALL_HEIGHT, key="overview_waterfall")
    st.caption(view.caption)


def body() -> None:
    numbers = overview_data.overview(period.first, period.last, tz, comparison.first if comparison else None,
                                     comparison.last if comparison else None)
    kpi_cards(CARD_ROWS, numbers.current, numbers.comparison, other_metrics={REACH.key: REACH})
    if can(current_user(), "export_overview"):
        overview_download(overview_data.figures(period.first, period.last, tz, comparison.first if comparison else None,
                                                comparison.last if comparison else None, tuple(CARDS)),
                          "Download these figures (CSV)", file_stem("overview", period.first, period.last, tz),
                          "dl_overview")
    if not numbers.current.sends and (numbers.comparison is None or not numbers.comparison.sends):
        st.info("No campaign sent anything in these days or the days compared. Pick a longer period above.")
        return
    if comparison is None:
        st.info("Pick a comparison above to see what changed and why.")
        return
    kpi = st.session_state.get("overview_kpi", "revenue")
    changed = overview_data.changes(period.first, period.last, tz, comparison.first, comparison.last, tuple(EXPLAINED),
                                    kpi, ("campaign", "segment"), MOVERS)
    st.subheader("What changed")
    lines = changed.lines + [f"Members reached {fmt.count(numbers.current.delivered_members)} since the campaigns' "
                             "start; not compared between periods (it only grows)."]
    st.markdown("\n".join(f"- {fmt.escape_markdown(line)}" for line in lines))
    st.subheader("Biggest movers")
    st.caption(f"{METRICS[kpi].label}: the campaigns and segments that moved it most ({against}); choose the KPI "
               "under “Why did it change”.")
    for column, by in zip(st.columns(2), ("campaign", "segment")):
        column.dataframe(changed.movers[by], hide_index=True, width="stretch", key=f"overview_movers_{by}")
    why_section()


with database_guard():
    body()
