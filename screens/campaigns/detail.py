"""Campaign analytics, the Campaign detail tab: KPI cards against the comparison period, the
time series with annotations (over_time.py), why a KPI changed (the decomposition's summary and
waterfall, as on the Overview) and breakdowns over the period's local days."""
from __future__ import annotations

import streamlit as st

from core.access.auth import User, can
from core.analytics import decomposition
from core.analytics.metrics import METRICS
from core.analytics.periods import Period
from screens.campaigns.over_time import CHART_METRICS, over_time_section
from ui import campaign_charts, data, why_data
from ui import format as fmt
from ui.export_tables import file_stem
from ui.why_chart import WATERFALL_HEIGHT
from ui.kpi_cards import kpi_cards
from ui.widgets import csv_download, lazy_tabs, vega_chart

# The most important first: outcomes and money, then the funnel from sends to conversions. A row
# each on a desktop, two cards a line on a phone (ui.kpi_cards).
CARD_ROWS = [["conversions", "revenue", "roi", "cost"],
             ["sends", "delivery_rate", "open_rate", "ctr", "conversion_rate", "reach_conversion"]]
CARDS = [key for row in CARD_ROWS for key in row]
NOT_COMPARED = {"reach_conversion": "counted from each campaign's start to the period's end, so it always looks "
                                    "like growth against an earlier period"}
WHY_KPIS = ["conversions", "revenue", "roi", "cost", "sends", "conversion_rate", "ctr", "open_rate", "delivery_rate"]


def kpi_section(period: Period, comparison: Period | None, campaign_ids) -> None:
    st.subheader("KPIs")
    summed = data.summaries(period.first, period.last, period.tz, campaign_ids,
                            comparison.first if comparison else None, comparison.last if comparison else None)
    if comparison:
        st.caption(f"Change against {comparison.label()}: rates and ROI in percentage points, counts and money "
                   "in % and absolute. Reach conversion is cumulative, so it is not compared.")
    kpi_cards(CARD_ROWS, summed["current"], summed.get("comparison"), NOT_COMPARED)


def why_section(period: Period, comparison: Period | None, campaign_ids) -> None:
    if comparison is None:
        st.info("Pick a comparison in the sidebar to see what changed and why.")
        return
    groupings = [g for g in decomposition.GROUPINGS if not (campaign_ids and len(campaign_ids) == 1 and g == "campaign")]
    left, right = st.columns(2)
    kpi = left.selectbox("KPI", WHY_KPIS, format_func=lambda k: METRICS[k].label, key="why_kpi")
    by = right.selectbox("By", groupings, format_func=decomposition.GROUPINGS.get, key="why_by")
    view = why_data.why_view(period.first, period.last, period.tz, campaign_ids, comparison.first, comparison.last,
                             kpi, by)
    st.markdown(fmt.escape_markdown(view.summary))
    vega_chart(spec=view.spec, width="stretch", height=WATERFALL_HEIGHT, key="why_waterfall")
    st.caption(view.caption)


def breakdown_section(user: User, period: Period, campaign_ids) -> None:
    st.caption(f"Local days {period.label()}, as the KPI cards: each tab's rows add up to their totals.")
    metric_b = st.selectbox("Breakdown metric", CHART_METRICS, index=CHART_METRICS.index("conversion_rate"),
                            format_func=lambda k: METRICS[k].label, key="breakdown_metric")
    views = campaign_charts.breakdown_views(period.first, period.last, period.tz, campaign_ids, metric_b)
    if views is None:
        st.info("No activity in these days.")
        return
    # Only the open tab is drawn: each is a chart, a table and an export, and drawing all
    # four on every run cost the browser time for three nobody sees (issue 15). The views are
    # built together and cached, so a click on another tab (a rerun) only draws it. Bound to the
    # URL (breakdown_tab), so a link opens the same breakdown.
    tabs = st.tabs([dimension.title() for dimension in views], key="breakdown_tab", bind="query-params")
    for tab, (dimension, view) in zip(tabs, views.items()):
        if tab.open:
            with tab:
                vega_chart(spec=view.spec, width="stretch", height=campaign_charts.BREAKDOWN_HEIGHT,
                                   key=f"breakdown_chart_{dimension}")
                st.html(view.table)
                if can(user, "export"):
                    csv_download(view.export, f"Download {dimension} breakdown (CSV)",
                                 file_stem(f"breakdown_{dimension}", period.first, period.last, period.tz),
                                 f"dl_breakdown_{dimension}")


def detail_section(user: User, period: Period, comparison: Period | None, campaign_ids) -> None:
    """The KPI cards, then one section at a time. Only the open section is drawn, as with the
    screen's own tabs: each is about ten elements the browser re-renders at every change of
    campaign, and drawing all three took a change 550–610 ms against 340 ms for one (issue 15;
    measured to the last DOM change of any kind, before bench/bench_browser.py timed the last
    painted one). Bound to the URL (detail_view), so a link opens the same section. The sections
    have no subheader of their own: their tab names them just above."""
    kpi_section(period, comparison, campaign_ids)
    lazy_tabs({"Over time": lambda: over_time_section(user, period, campaign_ids),
               "Why did this change": lambda: why_section(period, comparison, campaign_ids),
               "Breakdown": lambda: breakdown_section(user, period, campaign_ids)}, key="detail_view")
