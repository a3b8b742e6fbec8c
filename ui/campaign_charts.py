"""Campaign analytics' charts and the tables drawn beside them, built once per data and shared by
every session (ui.shared: st.cache_resource keyed on the data caches' epoch): building a
Plotly figure costs tens of milliseconds (Plotly Express several times that), which every rerun
of the screen would otherwise repeat. Figures are made with plotly.graph_objects directly. The
objects returned are shared: treat them as read-only.

Names from data (campaigns, regions, notes) go into Plotly labels and hovers HTML-escaped:
Plotly renders tags and links in them."""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.analytics import campaigns as analytics
from core.analytics.metrics import METRICS
from core.analytics.periods import GRAINS
from ui import data
from ui.shared import shared
from ui.export_tables import export_table
from ui.format import BLUE, GREY, RED, percent
from ui.widgets import display_metrics

TOP_MARGIN = 100
TITLE_AT_TOP = dict(y=0.98, yref="container", yanchor="top")
LEGEND_ON_TOP = dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text="")
MARKER_COLOURS = {"holiday": GREY, "note": RED}
CHANNEL_COLOURS = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880"]
BUBBLE_MAX_PX = 20
SERIES_METRICS = ["conversions", "revenue", "sends", "open_rate", "ctr", "conversion_rate", "delivery_rate", "roi", "cost"]
PORTFOLIO_METRICS = ["sends", "delivery_rate", "open_rate", "ctr", "conversion_rate", "conversions", "revenue", "cost",
                     "roi"]
CHANGE_COLUMNS = ["conversions_change", "conversions_change_rel", "revenue_change", "revenue_change_rel", "roi_change"]
BREAKDOWN_DIMENSIONS = ["segment", "device", "region", "channel"]
BREAKDOWN_COLUMNS = ["value", "sends", "delivery_rate", "open_rate", "ctr", "conversion_rate", "conversions", "revenue",
                     "cost", "roi"]


def unit_suffix(metric: str) -> str:
    return {"%": " (%)", "ratio": " (%)", "USD": " (USD)"}.get(METRICS[metric].unit, "")


def shown_values(values: pd.Series, metric: str) -> pd.Series:
    """Rates and ROI in percent, the rest as they are."""
    return values.astype(float) * (100 if METRICS[metric].unit in ("%", "ratio") else 1)


# --- the portfolio ------------------------------------------------------------------------------

def roi_colour_range(roi: pd.Series) -> float:
    """Half-width of a diverging ROI scale centred on 0: the larger of the 5th and 95th
    percentiles' distance from 0, so a few extreme campaigns do not wash out the rest."""
    values = roi.astype(float).to_numpy()
    values = values[np.isfinite(values)]
    if not len(values):
        return 1.0
    return float(max(abs(np.quantile(values, 0.05)), abs(np.quantile(values, 0.95)), 0.01))


def top_campaigns_chart(active: pd.DataFrame, tz: str) -> go.Figure:
    """The 8 campaigns with the most revenue, coloured by ROI on a scale diverging around 0.
    Names on two lines (offer, then segment · channel) so they fit beside the bars on a phone."""
    ranked = analytics.top_campaigns(active, "revenue", 8).sort_values("revenue")
    names = [html.escape(str(n)) for n in ranked.name]
    bound = roi_colour_range(active.roi)
    figure = go.Figure(go.Bar(
        x=ranked.revenue.astype(float), y=[n.replace(" · ", "<br>", 1) for n in names], orientation="h",
        marker=dict(color=ranked.roi.astype(float), coloraxis="coloraxis"), hovertext=names,
        customdata=ranked.roi.astype(float),
        hovertemplate="<b>%{hovertext}</b><br>Revenue (USD) %{x:,.2f}<br>ROI %{customdata:.1%}<extra></extra>"))
    figure.update_layout(title=f"Top campaigns by revenue · {tz}", height=420, margin=dict(l=0, r=0, t=40, b=0),
                         xaxis_title="Revenue (USD)",
                         coloraxis=dict(colorscale="RdYlGn", cmin=-bound, cmax=bound,
                                        colorbar=dict(title="ROI", tickformat=".0%", thickness=12)))
    return figure


def revenue_cost_chart(active: pd.DataFrame) -> go.Figure:
    """Every active campaign's revenue against its cost (bubble area: sends), one colour per
    channel, with the break-even line over the costs only (so it does not squash the points)."""
    figure = go.Figure()
    size_ref = 2.0 * float(active.sends.max()) / BUBBLE_MAX_PX ** 2 or 1.0
    for number, (channel, part) in enumerate(active.groupby("channel", sort=True)):
        figure.add_trace(go.Scatter(
            x=part.cost.astype(float), y=part.revenue.astype(float), mode="markers", name=html.escape(str(channel)),
            marker=dict(size=part.sends.astype(float), sizemode="area", sizeref=size_ref, sizemin=2,
                        color=CHANNEL_COLOURS[number % len(CHANNEL_COLOURS)]),
            hovertext=[html.escape(str(n)) for n in part.name],
            hovertemplate="<b>%{hovertext}</b><br>Cost (USD) %{x:,.2f}<br>Revenue (USD) %{y:,.2f}<extra></extra>"))
    limit = float(active.cost.max())
    figure.add_trace(go.Scatter(x=[0, limit], y=[0, limit], mode="lines", name="break-even",
                                line=dict(dash="dot", color="grey")))
    figure.update_layout(title=dict(TITLE_AT_TOP, text="Revenue against cost"), height=420,
                         margin=dict(l=0, r=0, t=TOP_MARGIN, b=0), legend=LEGEND_ON_TOP,
                         xaxis_title="Cost (USD)", yaxis_title="Revenue (USD)")
    return figure


@shared(max_entries=32)
def portfolio_charts(first: date, last: date, tz: str, compared_first: date | None,
                     compared_last: date | None) -> tuple[go.Figure, go.Figure] | None:
    """(top campaigns, revenue against cost) of the campaigns that sent in the period, or None."""
    frame = data.portfolio_comparison(first, last, tz, compared_first, compared_last).campaigns
    active = frame[frame.sends > 0]
    if active.empty:
        return None
    return top_campaigns_chart(active, tz), revenue_cost_chart(active)


@dataclass(frozen=True)
class PortfolioTables:
    campaigns: pd.DataFrame  # every campaign, sorted, as shown (rates and relative changes in percent)
    totals: pd.DataFrame     # the totals row, as shown
    export: pd.DataFrame     # both, as exported (fractions, cents)


def on_screen(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rates and relative changes in percent, ROI change in points, money rounded (the screen's
    numbers; exports keep fractions: ui.export_tables)."""
    shown = display_metrics(frame, [c for c in columns if c not in CHANGE_COLUMNS])
    for column in [c for c in columns if c in CHANGE_COLUMNS]:
        values = frame[column].astype(float)
        shown[column] = (values * 100).round(2) if column.endswith(("_rel", "roi_change")) else values.round(2)
    return shown[columns]


def totals_row(result: analytics.PortfolioComparison, count: int) -> pd.DataFrame:
    """All campaigns together: sums from SQL, ratios of the sums, changes of the totals."""
    now, before = result.totals, result.previous_totals
    row = {"name": f"Total of {count} campaigns", **{c: now[c] for c in PORTFOLIO_METRICS}}
    for key in ("conversions", "revenue"):
        row[f"{key}_change"] = now[key] - before[key] if before is not None else np.nan
        row[f"{key}_change_rel"] = (now[key] - before[key]) / before[key] if before is not None and before[key] else np.nan
    row["roi_change"] = now.roi - before.roi if before is not None else np.nan
    return pd.DataFrame([row])


@shared(max_entries=64)
def portfolio_tables(first: date, last: date, tz: str, compared_first: date | None, compared_last: date | None,
                     sort: str, order: str) -> PortfolioTables | None:
    """Every campaign with its Δ columns (when compared), sorted by `sort` ("asc" or "desc"), the
    totals row and the CSV of both; None when no campaign sent anything in the period."""
    result = data.portfolio_comparison(first, last, tz, compared_first, compared_last)
    frame = result.campaigns
    if not (frame.sends > 0).any():
        return None
    changes = list(CHANGE_COLUMNS) if compared_first else []
    columns = ["name", "channel", "segment", "status"] + PORTFOLIO_METRICS + changes
    ranked = frame.sort_values(sort, ascending=order == "asc", na_position="last")
    totals = totals_row(result, len(frame))
    return PortfolioTables(on_screen(ranked, columns), on_screen(totals, ["name"] + PORTFOLIO_METRICS + changes),
                           export_table(pd.concat([ranked, totals], ignore_index=True), columns))


# --- the time series ----------------------------------------------------------------------------

def hover_text(row) -> str:
    """A marker's hover: the text HTML-escaped (Plotly renders tags and links), a note's author."""
    text = html.escape(str(row.text))
    if row.kind == "holiday":
        return f"{row.day:%a %d %b %Y}<br>Holiday: {text}"
    return (f"{row.day:%a %d %b %Y}<br>Note: {text}<br>by {html.escape(str(row.created_by))}, "
            f"{pd.Timestamp(row.created_at):%Y-%m-%d %H:%M} UTC")


def add_markers(figure: go.Figure, marks: pd.DataFrame, values: pd.Series) -> None:
    """Each holiday and note as a dashed vertical line at the start of its day, with a marker on
    top that shows the text on hover (one trace per kind, so the legend names them)."""
    if marks.empty:
        return
    top = float(values.max()) if len(values) and pd.notna(values.max()) else 1.0
    shapes = []
    for kind, part in marks.groupby("kind", sort=False):
        days = pd.to_datetime(part.day)
        # One layout update for every line: add_vline per line re-validates the whole layout each time.
        shapes += [dict(type="line", xref="x", yref="paper", x0=day, x1=day, y0=0, y1=1,
                        line=dict(color=MARKER_COLOURS[kind], dash="dash", width=1)) for day in days]
        figure.add_trace(go.Scatter(
            x=days, y=[top] * len(part), mode="markers", name="Holidays" if kind == "holiday" else "Notes",
            marker=dict(symbol="triangle-down", size=11, color=MARKER_COLOURS[kind]),
            hovertext=[hover_text(row) for row in part.itertuples()], hoverinfo="text"))
    figure.update_layout(shapes=shapes)


def series_chart(frame: pd.DataFrame, metric: str, grain: str, tz: str, marks: pd.DataFrame) -> go.Figure:
    spec = METRICS[metric]
    values = shown_values(frame[metric], metric)
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
    add_markers(figure, marks, values)
    # Dates as dates (not Plotly's sub-second ticks around a lone point), a lone bucket padded.
    xaxis = dict(tickformat="%d %b %H:%M" if grain == "hour" else "%d %b %Y", title=f"{GRAINS[grain]} ({tz})")
    if len(frame) == 1:
        step = {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1), "week": pd.Timedelta(weeks=1)}[grain]
        xaxis["range"] = [frame.bucket.iloc[0] - step / 2, frame.bucket.iloc[0] + step / 2]
    figure.update_layout(title=dict(TITLE_AT_TOP, text=f"{spec.label} per {grain} · {tz}"), height=360,
                         margin=dict(l=0, r=0, t=TOP_MARGIN if len(figure.data) > 1 else 40, b=0),  # legend: 2 lines only
                         yaxis_title=f"{spec.label}{unit_suffix(metric)}", xaxis=xaxis, legend=LEGEND_ON_TOP)
    return figure


@dataclass(frozen=True)
class SeriesView:
    figure: go.Figure
    trend: str | None      # the fitted trend in words (daily grain, enough complete days), not escaped
    incomplete: bool       # the last bucket is still running
    export: pd.DataFrame   # every chart metric per bucket, as exported (ISO starts, zone, fractions, cents)


def series_export(frame: pd.DataFrame, grain: str, tz: str) -> pd.DataFrame:
    metrics = [c for c in SERIES_METRICS if c in frame]
    stamp = "%Y-%m-%dT%H:%M:%S" if grain == "hour" else "%Y-%m-%d"
    export = export_table(frame, metrics)
    export.insert(0, f"{grain}_start", frame.bucket.dt.strftime(stamp).to_numpy())
    export.insert(1, "time_zone", tz)
    export.insert(2, "complete", (~frame.incomplete).to_numpy())
    return export


@shared(max_entries=128)
def series_view(first: date, last: date, tz: str, campaign_ids: tuple[int, ...] | None, grain: str,
                metric: str) -> SeriesView | None:
    """The metric per grain with holidays and notes, and its trend in words; None without activity.
    Saving a note clears this cache (as it clears ui.data.annotations)."""
    frame = data.series(first, last, tz, campaign_ids, grain)
    if frame.empty:
        return None
    marks = data.annotations(first, last, tz, campaign_ids)
    trend = None
    if grain == "day" and (fitted := analytics.trend(frame, metric)):
        arrow = {"up": "trending up", "down": "trending down", "flat": "no clear trend"}[fitted.direction]
        trend = (f"Trend: {METRICS[metric].label} {arrow} — fitted {percent(fitted.slope_per_week, signed=True)} per "
                 f"week (p = {fitted.p_value:.3f}, complete days only).")
    return SeriesView(series_chart(frame, metric, grain, tz, marks), trend, bool(frame.incomplete.any()),
                      series_export(frame, grain, tz))


# --- the breakdowns -----------------------------------------------------------------------------

@dataclass(frozen=True)
class BreakdownView:
    figure: go.Figure
    table: pd.DataFrame    # as shown (rates in percent)
    export: pd.DataFrame   # as exported (fractions, cents)


def breakdown_chart(part: pd.DataFrame, dimension: str, metric: str) -> go.Figure:
    spec = METRICS[metric]
    figure = go.Figure(go.Bar(x=[html.escape(str(v)) for v in part.value], y=shown_values(part[metric], metric),
                              marker_color=CHANNEL_COLOURS[0]))
    figure.update_layout(title=f"{spec.label} by {dimension}", height=300, margin=dict(l=0, r=0, t=40, b=0),
                         xaxis_title=dimension.title(), yaxis_title=spec.label + unit_suffix(metric))
    return figure


@shared(max_entries=128)
def breakdown_views(first: date, last: date, tz: str, campaign_ids: tuple[int, ...] | None,
                    metric: str) -> dict[str, BreakdownView] | None:
    """Per dimension (segment, device, region, channel): the chart of `metric`, the table and its
    export, sorted by `metric`; None without activity."""
    table = data.breakdown(first, last, tz, campaign_ids)
    if table.empty:
        return None
    views = {}
    for dimension in BREAKDOWN_DIMENSIONS:
        part = table[table.dimension == dimension].sort_values(metric, ascending=False)
        views[dimension] = BreakdownView(
            breakdown_chart(part, dimension, metric),
            display_metrics(part, BREAKDOWN_COLUMNS).rename(columns={"value": dimension}),
            export_table(part, BREAKDOWN_COLUMNS).rename(columns={"value": dimension}))
    return views
