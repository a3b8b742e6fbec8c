"""Campaign analytics, the Campaign detail tab: KPI cards against the comparison period, the
time series with annotations (over_time.py), why a KPI changed (the decomposition's summary and
waterfall, as on the Overview) and breakdowns over the period's local days."""
from __future__ import annotations

import plotly.express as px
import streamlit as st

from core.access.auth import User, can
from core.analytics import decomposition
from core.analytics.decomposition import decompose_frames
from core.analytics.metrics import METRICS
from core.analytics.periods import Period
from core.analytics.presets import versus
from screens.campaigns.over_time import CHART_METRICS, over_time_section
from ui import data
from ui import format as fmt
from ui.export_tables import export_table, file_stem
from ui.widgets import column_config, csv_download, display_metrics, kpi_cards
from ui.why_chart import caption, waterfall

# The most important first: outcomes and money, then the funnel from sends to conversions. A row
# each on a desktop, two cards a line on a phone (ui.widgets.kpi_cards).
CARD_ROWS = [["conversions", "revenue", "roi", "cost"],
             ["sends", "delivery_rate", "open_rate", "ctr", "conversion_rate", "reach_conversion"]]
CARDS = [key for row in CARD_ROWS for key in row]
NOT_COMPARED = {"reach_conversion": "counted from each campaign's start to the period's end, so it always looks "
                                    "like growth against an earlier period"}
WHY_KPIS = ["conversions", "revenue", "roi", "cost", "sends", "conversion_rate", "ctr", "open_rate", "delivery_rate"]
BREAKDOWN_COLUMNS = ["value", "sends", "delivery_rate", "open_rate", "ctr", "conversion_rate", "conversions", "revenue", "cost", "roi"]


def kpi_section(period: Period, comparison: Period | None, campaign_ids) -> None:
    st.subheader("KPIs")
    summed = data.summaries(period.first, period.last, period.tz, campaign_ids,
                            comparison.first if comparison else None, comparison.last if comparison else None)
    if comparison:
        st.caption(f"Change against {comparison.label()}: rates and ROI in percentage points, counts and money "
                   "in % and absolute. Reach conversion is cumulative, so it is not compared.")
    kpi_cards(CARD_ROWS, summed["current"], summed.get("comparison"), NOT_COMPARED)


def why_section(period: Period, comparison: Period | None, campaign_ids) -> None:
    st.subheader("Why did this change")
    if comparison is None:
        st.info("Pick a comparison in the sidebar to see what changed and why.")
        return
    groupings = [g for g in decomposition.GROUPINGS if not (campaign_ids and len(campaign_ids) == 1 and g == "campaign")]
    left, right = st.columns(2)
    kpi = left.selectbox("KPI", WHY_KPIS, format_func=lambda k: METRICS[k].label, key="why_kpi")
    by = right.selectbox("By", groupings, format_func=decomposition.GROUPINGS.get, key="why_by")
    before, after, labels = data.grouped(period.first, period.last, period.tz, campaign_ids,
                                         comparison.first, comparison.last, by)
    result = decompose_frames(before, after, kpi, by, labels)
    st.markdown(fmt.escape_markdown(decomposition.summary(result, fmt, versus(period, comparison))))
    st.plotly_chart(waterfall(result, period.tz), width="stretch", key="why_waterfall")
    st.caption(caption(result))


def breakdown_section(user: User, period: Period, campaign_ids) -> None:
    st.subheader("Breakdown")
    table = data.breakdown(period.first, period.last, period.tz, campaign_ids)
    st.caption(f"Local days {period.label()}, as the KPI cards: each tab's rows add up to their totals.")
    if table.empty:
        st.info("No activity in these days.")
        return
    metric_b = st.selectbox("Breakdown metric", CHART_METRICS, index=CHART_METRICS.index("conversion_rate"),
                            format_func=lambda k: METRICS[k].label, key="breakdown_metric")
    tabs = st.tabs(["Segment", "Device", "Region", "Channel"])
    for tab, dimension in zip(tabs, ["segment", "device", "region", "channel"]):
        with tab:
            part = table[table.dimension == dimension].sort_values(metric_b, ascending=False)
            spec = METRICS[metric_b]
            scale = 100 if spec.unit in ("%", "ratio") else 1
            chart = px.bar(part.assign(shown=part[metric_b].astype(float) * scale), x="value", y="shown",
                           labels={"value": dimension.title(), "shown": spec.label + {"%": " (%)", "ratio": " (%)", "USD": " (USD)"}.get(spec.unit, "")},
                           title=f"{spec.label} by {dimension}")
            chart.update_layout(height=300, margin=dict(l=0, r=0, t=40, b=0))
            st.plotly_chart(chart, width="stretch", key=f"breakdown_chart_{dimension}")
            shown = display_metrics(part, BREAKDOWN_COLUMNS).rename(columns={"value": dimension})
            st.dataframe(shown, hide_index=True, width="stretch",
                         column_config=column_config(list(shown.columns)))
            if can(user, "export"):
                csv_download(export_table(part, BREAKDOWN_COLUMNS).rename(columns={"value": dimension}),
                             f"Download {dimension} breakdown (CSV)",
                             file_stem(f"breakdown_{dimension}", period.first, period.last, period.tz),
                             f"dl_breakdown_{dimension}")


def detail_section(user: User, period: Period, comparison: Period | None, campaign_ids) -> None:
    kpi_section(period, comparison, campaign_ids)
    over_time_section(user, period, campaign_ids)
    why_section(period, comparison, campaign_ids)
    breakdown_section(user, period, campaign_ids)
