"""Campaign analytics' charts and the tables drawn beside them, built once per data and shared by
every session (ui.shared: st.cache_resource keyed on the data caches' epoch). The charts are
Vega-Lite specs (plain dicts, ui.vega, with their data inline on a layer), so a rerun only sends
them; the tables and exports are pandas work that every rerun would otherwise repeat. The
objects returned are shared: treat them as read-only.

Names from data (campaigns, regions, notes) are plain text to Vega-Lite (it draws no markup):
they are not escaped here."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from core.analytics import campaigns as analytics
from core.analytics.metrics import METRICS
from core.analytics.periods import GRAINS
from ui import data, vega
from ui.shared import shared
from ui.export_tables import export_table
from ui.format import BLUE, GREY, RED, channel_label, metric_value, percent
from ui.why_chart import distinct
from ui.html_table import frame_markup, metric_column, text
from ui.widgets import TEXT_COLUMN_LABELS, display_metrics

PORTFOLIO_HEIGHT = 420
SERIES_HEIGHT = 360
BREAKDOWN_HEIGHT = 300
MARKER_COLOURS = {"Holidays": GREY, "Notes": RED}
CHANNEL_COLOURS = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880"]
BUBBLE_MAX_AREA = 320  # px², a circle about 20 px across for the campaign with the most sends
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


def axis_format_of(metric: str) -> str:
    """Tick labels in the metric's unit (the axis title says it): $40k, 6k, 12.5."""
    return {"USD": "$~s", "count": "~s"}.get(METRICS[metric].unit, ",.4~f")


def finite_or_none(values) -> list[float | None]:
    """Numbers for a spec: NaN and infinities become None (no mark), never "NaN" in JSON."""
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=float)]


# --- the portfolio ------------------------------------------------------------------------------

def roi_colour_range(roi: pd.Series) -> float:
    """Half-width of a diverging ROI scale centred on 0: the larger of the 5th and 95th
    percentiles' distance from 0, so a few extreme campaigns do not wash out the rest."""
    values = roi.astype(float).to_numpy()
    values = values[np.isfinite(values)]
    if not len(values):
        return 1.0
    return float(max(abs(np.quantile(values, 0.05)), abs(np.quantile(values, 0.95)), 0.01))


def top_campaigns_chart(active: pd.DataFrame, tz: str) -> dict:
    """The 8 campaigns with the most revenue, largest first, coloured by ROI on a red–yellow–green
    scale diverging around 0. Names on two lines (offer, then segment · channel) so they fit
    beside the bars on a phone."""
    ranked = analytics.top_campaigns(active, "revenue", 8)
    names = distinct([str(n) for n in ranked.name])
    bound = roi_colour_range(active.roi)
    rows = [{"name": name, "revenue": revenue, "roi": roi, "roi_text": percent(roi, 1), "sends": int(sends)}
            for name, revenue, roi, sends in zip(names, finite_or_none(ranked.revenue), finite_or_none(ranked.roi),
                                                 ranked.sends)]
    first_dot = "indexof(datum.label, ' · ')"
    return vega.spec(
        description="Top campaigns by revenue, coloured by ROI",
        title={"text": "Top campaigns by revenue", "subtitle": f"Days in {tz} · colour: ROI", "anchor": "start"},
        layer=[{"name": "bars", "data": {"values": rows}, "mark": {"type": "bar", "cornerRadiusEnd": 2},
                "encoding": {
                    "y": {"field": "name", "type": "nominal", "sort": names, "title": None,
                          "axis": {"labelExpr": f"{first_dot} < 0 ? datum.label : [slice(datum.label, 0, {first_dot}), "
                                                f"slice(datum.label, {first_dot} + 3)]",
                                   "labelLimit": 160, "labelFontSize": 10, "labelLineHeight": 11,
                                   "labelOverlap": False}},
                    "x": {"field": "revenue", "type": "quantitative", "title": "Revenue (USD)",
                          "axis": vega.tick_labels("$~s")},
                    "color": {"condition": {"test": "!isValid(datum.roi)", "value": GREY},
                              "field": "roi", "type": "quantitative", "title": "ROI",
                              "scale": {"scheme": "redyellowgreen", "domain": [-bound, bound], "clamp": True},
                              "legend": {"format": ".0%", "gradientLength": 160}},
                    "tooltip": [{"field": "name", "title": "Campaign"},
                                {"field": "revenue", "title": "Revenue (USD)", "format": "$,.2f"},
                                {"field": "roi_text", "title": "ROI"},
                                {"field": "sends", "title": "Sends", "format": ","}]}}])


def revenue_cost_chart(active: pd.DataFrame) -> dict:
    """Every active campaign's revenue against its cost (bubble area: sends), one colour per
    channel, with the break-even line over the costs only (so it does not squash the points)."""
    channels = sorted(active.channel.astype(str).unique())
    labels = [channel_label(c) for c in channels]
    rows = [{"name": str(name), "channel": channel_label(channel), "cost": cost, "revenue": revenue,
             "sends": int(sends), "roi_text": percent(roi, 1)}
            for name, channel, cost, revenue, sends, roi in zip(
                active.name, active.channel.astype(str), finite_or_none(active.cost), finite_or_none(active.revenue),
                active.sends, active.roi)]
    limit = float(active.cost.max())
    x = {"field": "cost", "type": "quantitative", "title": "Cost (USD)", "axis": vega.tick_labels("$~s")}
    y = {"field": "revenue", "type": "quantitative", "title": "Revenue (USD)", "axis": vega.tick_labels("$~s")}
    line = [{"cost": 0.0, "revenue": 0.0}, {"cost": limit, "revenue": limit}]
    return vega.spec(
        description="Revenue against cost per campaign, by channel", marks=len(rows),
        title={"text": "Revenue against cost", "subtitle": "Bubble area: sends; dotted: break-even (revenue = cost)",
               "anchor": "start"},
        layer=[
            {"name": "break_even", "data": {"values": line},
             "mark": {"type": "line", "color": "grey", "strokeDash": [2, 3], "strokeWidth": 1.5},
             "encoding": {"x": x, "y": y}},
            {"data": {"values": line[1:]},
             "mark": {"type": "text", "text": "break-even", "align": "right", "baseline": "bottom", "dy": -4,
                      "color": "grey", "fontSize": 11},
             "encoding": {"x": x, "y": y}},
            {"name": "campaigns", "data": {"values": rows},
             "mark": {"type": "circle", "opacity": 0.75, "stroke": "white", "strokeWidth": 0.5},
             "encoding": {
                 "x": x, "y": y,
                 "size": {"field": "sends", "type": "quantitative", "legend": None,
                          "scale": {"domain": [0, max(int(active.sends.max()), 1)], "range": [4, BUBBLE_MAX_AREA]}},
                 "color": {"field": "channel", "type": "nominal", "title": "Channel",
                           "scale": {"domain": labels,
                                     "range": [CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)] for i in range(len(labels))]}},
                 "tooltip": [{"field": "name", "title": "Campaign"}, {"field": "channel", "title": "Channel"},
                             {"field": "cost", "title": "Cost (USD)", "format": "$,.2f"},
                             {"field": "revenue", "title": "Revenue (USD)", "format": "$,.2f"},
                             {"field": "roi_text", "title": "ROI"},
                             {"field": "sends", "title": "Sends", "format": ","}]}},
        ])


@shared(max_entries=32)
def portfolio_charts(first: date, last: date, tz: str, compared_first: date | None,
                     compared_last: date | None) -> tuple[dict, dict] | None:
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

TIME_FORMATS = {"hour": ("%d %b %H:%M", "%a %d %b %Y %H:%M"), "day": ("%d %b %Y", "%a %d %b %Y"),
                "week": ("%d %b %Y", "week of %a %d %b %Y")}
NARROW_LEGEND = {"expr": "width < 520 ? 1 : 0"}  # a phone: one entry a line (a row would run off the chart)
MARKER_LEGEND = {"symbolType": "triangle-down", "title": None, "columns": NARROW_LEGEND}


def time_axis(field: str, title: str, label_format: str, **extra) -> dict:
    """ui.vega.time_encoding with the tick labels written by utcFormat in a label expression: in
    Streamlit 1.67's Vega-Lite an axis "format" with "formatType": "utc" is ignored (default
    labels), and a tooltip's reads "NaN" (so tooltips here show times written by Python)."""
    encoding = vega.time_encoding(field, title, label_format, **extra)
    encoding["axis"] = {"labelExpr": f"utcFormat(datum.value, '{label_format}')", "labelOverlap": True}
    return encoding


def utc_datetime(moment) -> dict:
    """A wall-clock time as a Vega-Lite DateTime read as UTC (ui.vega: the clock as given)."""
    moment = pd.Timestamp(moment)
    return {"year": moment.year, "month": moment.month, "date": moment.day, "hours": moment.hour, "utc": True}


def marker_layers(marks: pd.DataFrame, x: dict) -> dict | None:
    """Each holiday and note as a dashed vertical line at the start of its day, with a triangle on
    top that shows the text on hover (the legend names the two kinds). Stroke and fill of a field
    of their own, not colour: the line's colour and dash share a legend, and Vega-Lite merges
    the legends of every channel on one field (a legend disabled on one hides them all)."""
    if marks.empty:
        return None
    days = pd.to_datetime(marks.day)
    holidays = marks.kind == "holiday"
    rows = {
        "Holidays": pd.DataFrame({"bucket": days[holidays], "when": days[holidays].dt.strftime("%a %d %b %Y"),
                                  "marker": "Holidays", "text": marks.text[holidays].astype(str)}),
        "Notes": pd.DataFrame({"bucket": days[~holidays], "when": days[~holidays].dt.strftime("%a %d %b %Y"),
                               "marker": "Notes", "text": marks.text[~holidays].astype(str),
                               "by": [f"{who}, {pd.Timestamp(when):%Y-%m-%d %H:%M} UTC" for who, when in
                                      zip(marks.created_by[~holidays], marks.created_at[~holidays])]}),
    }
    kinds = [kind for kind, part in rows.items() if len(part)]
    colour = {"field": "marker", "type": "nominal", "title": None,
              "scale": {"domain": kinds, "range": [MARKER_COLOURS[k] for k in kinds]}}
    tooltips = {"Holidays": [{"field": "when", "title": "Day"}, {"field": "text", "title": "Holiday"}],
                "Notes": [{"field": "when", "title": "Day"}, {"field": "text", "title": "Note"},
                          {"field": "by", "title": "Written by"}]}
    layers = []
    for kind in kinds:
        layers += [
            {"name": kind.lower(), "data": vega.records(rows[kind]),
             "mark": {"type": "rule", "strokeDash": [4, 3], "strokeWidth": 1},
             "encoding": {"x": x, "stroke": {**colour, "legend": MARKER_LEGEND}}},
            {"data": vega.records(rows[kind]),
             "mark": {"type": "point", "shape": "triangle-down", "filled": True, "size": 110, "opacity": 1,
                      "strokeWidth": 0},
             "encoding": {"x": x, "y": {"value": 6},
                          "fill": {**colour, "legend": MARKER_LEGEND},
                          "tooltip": tooltips[kind]}},
        ]
    return {"name": "markers", "layer": layers}


def series_chart(frame: pd.DataFrame, metric: str, grain: str, tz: str, marks: pd.DataFrame) -> dict:
    """The metric per bucket as a blue line with a point per bucket; the bucket still running
    (and the segment leading to it) dotted, its point open; holidays and notes as markers."""
    spec = METRICS[metric]
    label, tail_label = spec.label, f"{spec.label} (incomplete {grain})"
    values = finite_or_none(shown_values(frame[metric], metric).round(4))
    axis_format, tooltip_format = TIME_FORMATS[grain]
    incomplete = frame.incomplete.astype(bool).to_numpy()
    # One row per bucket, its line's name in `series`; the dotted line starts at the last whole
    # bucket, so that bucket is repeated once in the dotted series (`joint`, no point of its own).
    rows = pd.DataFrame({"bucket": frame.bucket.to_numpy(), "when": frame.bucket.dt.strftime(tooltip_format).to_numpy(),
                         "value": values,
                         "shown": [metric_value(metric, v) for v in frame[metric]],
                         "series": np.where(incomplete, tail_label, label), "joint": False})
    if incomplete.any() and (~incomplete).any():
        joint = rows[~incomplete].tail(1).assign(series=tail_label, joint=True)
        rows = pd.concat([rows[~incomplete], joint, rows[incomplete]], ignore_index=True)
    names = [name for name, drawn in ((label, (~incomplete).any()), (tail_label, incomplete.any())) if drawn]
    x = time_axis("bucket", f"{GRAINS[grain]} ({tz})", axis_format)
    if grain == "week":  # a tick on each week's start (the axis' own ticks would be Sundays or days)
        x["axis"]["values"] = [utc_datetime(b) for b in frame.bucket]
    y = {"field": "value", "type": "quantitative", "title": f"{label}{unit_suffix(metric)}",
         "axis": vega.tick_labels(axis_format_of(metric))}
    drawn = [{"name": "values", "data": vega.records(rows), "layer": [
        {"mark": {"type": "line", "strokeWidth": 2},
         "encoding": {"x": x, "y": y,   # colour and dash on the same field: one legend, a blue line and a dotted one
                      "color": {"field": "series", "type": "nominal", "title": None, "legend": {"labelLimit": 320, "columns": NARROW_LEGEND},
                                "scale": {"domain": names, "range": [BLUE] * len(names)}},
                      "strokeDash": {"field": "series", "type": "nominal", "title": None,
                                     "scale": {"domain": names,
                                               "range": [[1, 0] if name == label else [3, 3] for name in names]}}}},
        {"transform": [{"filter": "!datum.joint"}],
         "mark": {"type": "point", "size": 40 if len(frame) <= 100 else 12, "strokeWidth": 1.5, "opacity": 1},
         "encoding": {"x": x, "y": y, "stroke": {"value": BLUE},
                      "fill": {"condition": {"test": f"datum.series !== {json.dumps(label)}", "value": "white"},
                               "value": BLUE},
                      "tooltip": [{"field": "when", "title": GRAINS[grain]}, {"field": "shown", "title": label},
                                  {"field": "series", "title": "Line"}]}},
    ]}]
    markers = marker_layers(marks, x)
    if markers:
        drawn.append(markers)
    return vega.spec(description=f"Time series: {label} per {grain}",
                     title={"text": f"{label} per {grain} · {tz}", "anchor": "start"},
                     layer=drawn)


@dataclass(frozen=True)
class SeriesView:
    spec: dict             # the chart, a Vega-Lite spec
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
    spec: dict             # the chart, a Vega-Lite spec
    table: str             # as shown: an HTML table (ui.html_table), the chart's order
    export: pd.DataFrame   # as exported (fractions, cents)


def breakdown_chart(part: pd.DataFrame, dimension: str, metric: str) -> dict:
    """The metric per value of the dimension, as bars in the table's order (the metric's, largest first)."""
    spec = METRICS[metric]
    names = distinct([str(v) for v in part.value])
    rows = [{"value": name, "metric": value, "shown": metric_value(metric, raw), "sends": int(sends)}
            for name, value, raw, sends in zip(names, finite_or_none(shown_values(part[metric], metric)), part[metric],
                                               part.sends)]
    return vega.spec(
        description=f"Breakdown: {spec.label} by {dimension}",
        title={"text": f"{spec.label} by {dimension}", "anchor": "start"},
        layer=[{"name": "bars", "data": {"values": rows}, "mark": {"type": "bar", "color": CHANNEL_COLOURS[0]},
                "encoding": {
                    "x": {"field": "value", "type": "nominal", "sort": names, "title": dimension.title(),
                          "axis": {"labelAngle": -40 if len(names) > 4 else 0, "labelLimit": 140}},
                    "y": {"field": "metric", "type": "quantitative", "title": spec.label + unit_suffix(metric),
                          "axis": vega.tick_labels(axis_format_of(metric))},
                    "tooltip": [{"field": "value", "title": dimension.title()}, {"field": "shown", "title": spec.label},
                                {"field": "sends", "title": "Sends", "format": ","}]}}])


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
            frame_markup(part, {"value": text(TEXT_COLUMN_LABELS.get(dimension, dimension.title())),
                                **{key: metric_column(key) for key in BREAKDOWN_COLUMNS[1:]}},
                         css_class=f"breakdown-{dimension}"),
            export_table(part, BREAKDOWN_COLUMNS).rename(columns={"value": dimension}))
    return views
