"""Screen 1 — Campaign analytics: portfolio, one campaign's KPIs, time series and breakdowns."""
from datetime import datetime, timezone

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core.analytics import campaigns as analytics
from core.access.auth import can
from core.analytics.metrics import METRICS
from core.analytics.periods import GRAINS, comparison_period
from ui import data
from ui.format import BLUE, channel_label, escape_markdown, percent, segment_label
from ui.session import current_user
from ui.widgets import (column_config, comparison_kind, csv_download, current_period, database_guard,
                        display_metrics, kpi_row)

CHART_METRICS = ["conversions", "revenue", "sends", "open_rate", "ctr", "conversion_rate", "delivery_rate", "roi", "cost"]
# Legends go between the title and the plot: below the x axis they collide with the axis title
# on a phone, where they wrap to two rows.
TOP_MARGIN = 100
TITLE_AT_TOP = dict(y=0.98, yref="container", yanchor="top")
LEGEND_ON_TOP = dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text="")
BREAKDOWN_COLUMNS = ["value", "sends", "delivery_rate", "open_rate", "ctr", "conversion_rate", "conversions", "revenue", "cost", "roi"]

user = current_user()
period = current_period()
st.title("Campaign analytics")
st.caption(f"{period.label()} · every time and day on this screen is in **{period.tz}**")


def portfolio_section() -> None:
    frame = data.portfolio(period.first, period.last, period.tz)
    st.subheader("Portfolio")
    active = frame[frame.sends > 0]
    if active.empty:
        st.info("No campaign sent anything in this period. Widen the date range in the sidebar.")
        return
    top = analytics.top_campaigns(active, "revenue", 8)
    left, right = st.columns([3, 2])
    with left:
        # Names on two lines (offer, then segment · channel) so they fit beside the bars on a phone.
        ranked = top.sort_values("revenue").assign(label=lambda t: t.name.str.replace(" · ", "<br>", n=1, regex=False))
        chart = px.bar(ranked, x="revenue", y="label", orientation="h", hover_name="name",
                       color="roi", color_continuous_scale="RdYlGn", range_color=(-1, 3),
                       labels={"revenue": "Revenue (USD)", "label": "", "roi": "ROI"},
                       title=f"Top campaigns by revenue · {period.tz}")
        chart.update_layout(height=420, margin=dict(l=0, r=0, t=40, b=0),
                            coloraxis_colorbar=dict(tickformat=".0%", thickness=12))
        st.plotly_chart(chart, width="stretch")
    with right:
        by_roi = active.assign(roi_pct=active.roi * 100)
        chart = px.scatter(by_roi, x="cost", y="revenue", color="channel", hover_name="name", size="sends",
                           labels={"cost": "Cost (USD)", "revenue": "Revenue (USD)"}, title="Revenue against cost")
        limit = float(by_roi.cost.max())  # the line spans the costs only, so it does not squash the points
        chart.add_trace(go.Scatter(x=[0, limit], y=[0, limit], mode="lines", name="break-even",
                                   line=dict(dash="dot", color="grey")))
        chart.update_layout(height=420, margin=dict(l=0, r=0, t=TOP_MARGIN, b=0), legend=LEGEND_ON_TOP,
                            title=TITLE_AT_TOP)
        st.plotly_chart(chart, width="stretch")

    columns = ["name", "channel", "segment", "status", "sends", "delivery_rate", "open_rate", "ctr",
               "conversion_rate", "conversions", "revenue", "cost", "roi"]
    shown = display_metrics(frame.sort_values("revenue", ascending=False), columns)
    st.dataframe(shown, hide_index=True, width="stretch", column_config=column_config(columns), height=420)
    if can(user, "export"):
        csv_download(shown, "Download portfolio (CSV)", f"portfolio_{period.first}_{period.last}_{period.tz.replace('/', '-')}", "dl_portfolio")


def series_chart(frame: pd.DataFrame, metric: str, grain: str) -> go.Figure:
    spec = METRICS[metric]
    values = frame[metric].astype(float) * (100 if spec.unit in ("%", "ratio") else 1)
    unit = {"%": " (%)", "ratio": " (%)", "USD": " (USD)"}.get(spec.unit, "")
    figure = go.Figure()
    complete = ~frame.incomplete
    figure.add_trace(go.Scatter(x=frame.bucket[complete], y=values[complete], mode="lines+markers",
                                name=spec.label, line=dict(color=BLUE)))
    if frame.incomplete.any():
        tail = frame.index[frame.incomplete]
        joined = frame.index[complete][-1:].append(tail) if complete.any() else tail
        figure.add_trace(go.Scatter(x=frame.bucket[joined], y=values[joined], mode="lines+markers",
                                    name=f"{spec.label} (incomplete {grain})",
                                    line=dict(color=BLUE, dash="dot"), marker=dict(symbol="circle-open")))
    figure.update_layout(title=dict(TITLE_AT_TOP, text=f"{spec.label} per {grain} · {period.tz}"), height=360,
                         margin=dict(l=0, r=0, t=TOP_MARGIN if len(figure.data) > 1 else 40, b=0),  # legend: 2 lines only
                         yaxis_title=f"{spec.label}{unit}",
                         xaxis_title=f"{GRAINS[grain]} ({period.tz})", legend=LEGEND_ON_TOP)
    return figure


def detail_section(campaign_ids) -> None:
    comparison = comparison_kind()
    other = comparison_period(period, comparison)
    st.subheader("KPIs")
    if other:
        st.caption(f"Change against {other.label()}")
    kpi_row(data.kpi_cards(period.first, period.last, period.tz, campaign_ids, comparison))

    st.subheader("Over time")
    c1, c2 = st.columns([1, 1])
    grain = c1.segmented_control("Grain", list(GRAINS), default="day", format_func=GRAINS.get, key="grain") or "day"
    metric = c2.selectbox("Metric", CHART_METRICS, format_func=lambda k: METRICS[k].label, key="series_metric")
    frame = data.series(period.first, period.last, period.tz, campaign_ids, grain)
    if frame.empty:
        st.info("No activity in this period.")
    else:
        st.plotly_chart(series_chart(frame, metric, grain), width="stretch")
        if grain == "day":
            fitted = analytics.trend(frame, metric)
            if fitted:
                arrow = {"up": "trending up", "down": "trending down", "flat": "no clear trend"}[fitted.direction]
                st.caption(f"Trend: {METRICS[metric].label} {arrow} — fitted {percent(fitted.slope_per_week, signed=True)} per week "
                           f"(p = {fitted.p_value:.3f}, complete days only).")
        if frame.incomplete.any():
            st.caption(f"The dotted end of the line is the current {grain}, not finished yet.")
        if can(user, "export"):
            columns = ["bucket"] + [c for c in CHART_METRICS if c in frame]
            export = display_metrics(frame, columns[1:]).assign(bucket=frame.bucket.astype(str))[columns]
            csv_download(export.rename(columns={"bucket": f"{grain}_start_{period.tz}"}), "Download series (CSV)",
                         f"series_{grain}_{period.first}_{period.last}", "dl_series")

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
            st.plotly_chart(chart, width="stretch")
            shown = display_metrics(part, BREAKDOWN_COLUMNS).rename(columns={"value": dimension})
            st.dataframe(shown, hide_index=True, width="stretch",
                         column_config=column_config(list(shown.columns)))
            if can(user, "export"):
                csv_download(shown, f"Download {dimension} breakdown (CSV)", f"breakdown_{dimension}_{period.first}_{period.last}",
                             f"dl_breakdown_{dimension}")


with database_guard():
    portfolio_tab, detail_tab = st.tabs(["Portfolio", "Campaign detail"])
    with portfolio_tab:
        portfolio_section()
    with detail_tab:
        campaigns = data.campaigns()
        options = [None] + campaigns.campaign_id.tolist()
        names = dict(zip(campaigns.campaign_id, campaigns.name))
        chosen = st.selectbox("Campaign", options, format_func=lambda i: "All campaigns" if i is None else names[i],
                              key="campaign_id")
        campaign_ids = None if chosen is None else (int(chosen),)
        if chosen is not None:
            row = campaigns.set_index("campaign_id").loc[chosen]
            st.caption(f"{escape_markdown(channel_label(row.channel))} · segment {escape_markdown(segment_label(row.segment))} · "
                       f"offer {escape_markdown(row.offer)} · status **{escape_markdown(row.status)}** · "
                       f"sends at {row.send_hour:02d}:00 member-local · "
                       f"{row.starts_at:%d %b %Y} – {row.ends_at:%d %b %Y}")
        live = (chosen is None and (campaigns.status == "live").any()) or (chosen is not None and row.status == "live")
        now_local = datetime.now(timezone.utc)
        if live and period.is_incomplete(now_local):
            st.caption(":green[●] Live — this section refreshes every 30 seconds.")
            st.fragment(run_every=30)(detail_section)(campaign_ids)
        else:
            detail_section(campaign_ids)
