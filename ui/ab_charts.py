"""The A/B tracker's tables and charts of one test's view, built once per view and data and shared
by every session (ui.shared: st.cache_resource keyed on the data caches' epoch and on the time
of the stored analysis they show): building the figures took most of a rerun of the screen
(issue 15). The charts are Vega-Lite specs, plain dicts (ui.vega's conventions), with their data
inline in each layer. The objects returned are shared: treat them as read-only.

Variant names from data are drawn by Vega as plain text: no escaping here."""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import streamlit as st

from core.experiments import results as tracker
from core.experiments.outcomes import OUTCOMES
from ui import ab_data, vega
from ui.format import BLUE, GREY, MISSING, RED, count, decimal, outcome_value, p_value, percent, points, probability
from ui.html_table import markup
from ui.errors import DATABASE_ERRORS
from ui.shared import served, shared

# Colour-blind-safe qualitative palette (Plotly's "Safe", the colours the treatments had before)
COLORS = ["#88ccee", "#cc6677", "#ddcc77", "#117733", "#332288", "#aa4499", "#44aa99", "#999933", "#882255",
          "#661100", "#888888"]
INTERVALS = {"sequential": "always-valid interval", "frequentist": "confidence interval",
             "bayesian": "credible interval"}
VIEWS = 256  # (test, method, CUPED, lift) views kept
FOREST = "Lift per metric, treatment vs control"
SAMPLE = "Sample size reached against needed"
OVER_TIME = "Estimate and interval over time"
OVER_TIME_HEIGHT = 320


log = logging.getLogger("ui.ab_charts")
# A method's view was built when the reader switched to it: 350-510 ms to draw a view not seen yet
# against 116-153 ms for one seen (issue 15). The other methods' views of what a reader looks at
# are built in the background instead, by one thread for the whole server (it never takes more
# than one core from the pages), after the page has had PREFETCH_AFTER_SECONDS to draw itself.
_OTHER_METHODS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ab-other-methods")
PREFETCH_AFTER_SECONDS = 0.3


def prefetch_other_methods(test_id: int, metric: str, method: str, cuped: bool, difference: str) -> list[Future]:
    """Build the views of the test by the methods other than `method` (same metric, CUPED and
    lift) in the background, when a reader's page asks (`served`); the futures of the builds."""
    if not served():
        return []
    asked_at = time.monotonic()
    return [_OTHER_METHODS.submit(_build_later, asked_at, test_id, metric, other, cuped, difference)
            for other in tracker.METHODS if other != method]


def _build_later(asked_at: float, *view) -> None:
    time.sleep(max(0.0, asked_at + PREFETCH_AFTER_SECONDS - time.monotonic()))
    try:
        build_view(*view)
    except DATABASE_ERRORS as error:  # the reader's own switch reads again and the screen says what is wrong
        log.info("building another method's view failed: %s", error)
    except Exception:  # noqa: BLE001 — a bug here shows on the reader's own switch; the log says it first
        log.exception("building another method's view failed")


@st.cache_resource(ttl=60, max_entries=VIEWS, show_spinner=False)
def build_view(test_id: int, metric: str, method: str, cuped: bool, difference: str) -> None:
    """Everything the results section draws for this view, into the caches it reads from (a
    cached function itself, so that the reads inside show no spinner in a page, and a view
    asked for again within a minute is not built again)."""
    outcome = ab_data.results(test_id, method, cuped, difference)
    view = (test_id, method, cuped, difference, as_of_key(outcome))
    for build in (variant_table, forest_plot, sample_chart, export_frame):
        build(*view)
    if not ab_data.over_time(test_id, metric, method, cuped, difference).empty:
        over_time_chart(test_id, metric, method, cuped, difference)


def as_of_key(outcome: tracker.TrackerResults) -> str:
    """The time of the data a view shows (the snapshot job's run, else "live"): part of the key,
    so a figure is never older than the results it is drawn beside."""
    return "live" if outcome.as_of is None else str(outcome.as_of)


@shared(VIEWS)
def variant_table(test_id: int, method: str, cuped: bool, difference: str, as_of: str) -> pd.DataFrame:
    return _variant_table(ab_data.results(test_id, method, cuped, difference))


@shared(VIEWS)
def forest_plot(test_id: int, method: str, cuped: bool, difference: str, as_of: str) -> dict:
    return _forest_plot(ab_data.results(test_id, method, cuped, difference))


@shared(VIEWS)
def sample_chart(test_id: int, method: str, cuped: bool, difference: str, as_of: str) -> dict:
    return _sample_chart(ab_data.results(test_id, method, cuped, difference))


@shared(VIEWS)
def export_frame(test_id: int, method: str, cuped: bool, difference: str, as_of: str) -> pd.DataFrame:
    return tracker.export_frame(ab_data.results(test_id, method, cuped, difference))


@shared(VIEWS)
def over_time_chart(test_id: int, metric: str, method: str, cuped: bool, difference: str) -> dict:
    return _over_time_chart(ab_data.over_time(test_id, metric, method, cuped, difference), metric, difference)


def change_text(value, difference: str, metric: str, unit_suffix: bool = True) -> str:
    """A treatment's change against control: relative in %, absolute in the metric's unit
    (percentage points for rates; " USD" after money unless unit_suffix is False)."""
    if difference == "relative":
        return percent(value, signed=True)
    unit = OUTCOMES[metric].unit
    if unit == "%":
        return points(value, 2)
    return decimal(value, 2, True) + (" USD" if unit == "USD" and unit_suffix and pd.notna(value) else "")


def lift_text(row, difference: str, metric: str) -> str:
    if pd.isna(row.get("estimate")):
        return MISSING
    low, estimate, high = (change_text(row[k], difference, metric, unit_suffix=False) for k in ("ci_low", "estimate", "ci_high"))
    suffix = " USD" if difference != "relative" and OUTCOMES[metric].unit == "USD" else ""
    return f"{estimate} [{low}, {high}]{suffix}"


def guardrail_table(outcome: tracker.TrackerResults) -> str:
    """The guardrails' checks as an HTML table: each change and its worst case in the view's
    difference (relative or absolute), and the status."""
    rows = [[OUTCOMES[g.metric].label, str(g.variant), change_text(g.estimate, outcome.difference, g.metric),
             change_text(g.harm_bound, outcome.difference, g.metric), str(g.guardrail_status)]
            for g in outcome.guardrails.itertuples()]
    return markup(["Metric", "Variant", "Difference", "Worst case still compatible", "Status"], rows,
                  [False, False, True, True, False], css_class="guardrails")


def _variant_table(outcome: tracker.TrackerResults) -> pd.DataFrame:
    table = tracker.metrics_table(outcome)
    primary = table[table.metric == outcome.primary]
    shown = pd.DataFrame({
        "Variant": primary.variant + np.where(primary.is_control, " (control)", ""),
        "Members": primary.n.astype(int),
        OUTCOMES[outcome.primary].label: [outcome_value(outcome.primary, v) for v in primary["mean"]],
        f"Lift, {outcome.difference} ({1 - float(outcome.test.alpha):.0%} interval)":
            [lift_text(r, outcome.difference, outcome.primary) for _, r in primary.iterrows()],
    })
    if outcome.method == "bayesian":
        shown["Chance to beat control"] = [probability(v) if not c else MISSING for v, c in
                                           zip(primary.get("chance_to_win", np.nan), primary.is_control)]
    else:
        column = "adjusted_p_value" if "adjusted_p_value" in primary else "p_value"
        shown["p-value (Holm)" if column == "adjusted_p_value" else "p-value"] = [p_value(v) for v in primary[column]]
    return shown


def _treatment_colors(treatments: list[str]) -> dict:
    return {"field": "variant", "type": "nominal", "title": "Treatment", "sort": treatments,
            "scale": {"domain": treatments, "range": [COLORS[i % len(COLORS)] for i in range(len(treatments))]}}


def _zero_rule(channel: str) -> dict:
    """The dotted line of no difference."""
    return {"data": {"values": [{}]}, "mark": {"type": "rule", "strokeDash": [2, 3], "color": GREY, "size": 1.5},
            "encoding": {channel: {"datum": 0}}}


def _forest_plot(outcome: tracker.TrackerResults) -> dict:
    """Every treatment's lift (a dot) and interval (a line) per metric, the primary metric (★) on top,
    the treatments side by side within a metric's row, and the dotted line of no difference."""
    rows = outcome.analysis.dropna(subset=["estimate"])
    metrics = [outcome.primary] + [m for m in rows.metric.unique() if m != outcome.primary]
    labels = [OUTCOMES[m].label + (" ★" if m == outcome.primary else "") for m in metrics]
    treatments = [str(v) for v in dict.fromkeys(rows.variant)]
    relative = outcome.difference == "relative"
    frame = pd.DataFrame({
        "metric": rows.metric.map(dict(zip(metrics, labels))),
        "variant": rows.variant.astype(str),
        "estimate": rows.estimate.astype(float),
        "ci_low": rows.ci_low.astype(float),
        "ci_high": rows.ci_high.astype(float),
        "lift": [lift_text(r, outcome.difference, r["metric"]) for _, r in rows.iterrows()],
    })
    title = "Relative lift (%)" if relative else "Absolute difference (metric units; rates as fractions)"
    x_axis = {"title": title, "format": ".0%" if relative else "~g"}
    rows_encoding = {"y": {"field": "metric", "type": "nominal", "sort": labels, "title": None,
                           "axis": {"labelLimit": 180, "labelOverlap": False}},
                     "yOffset": {"field": "variant", "type": "nominal", "sort": treatments},
                     "color": _treatment_colors(treatments),
                     "tooltip": [{"field": "metric", "title": "Metric"}, {"field": "variant", "title": "Treatment"},
                                 {"field": "lift", "title": f"Lift, {outcome.difference} [interval]"}]}
    data = vega.records(frame)
    return vega.spec(
        description=FOREST, height=110 + 50 * len(metrics),
        layer=[
            _zero_rule("x"),
            {"data": data, "mark": {"type": "rule", "size": 2},
             "encoding": {"x": {"field": "ci_low", "type": "quantitative", "axis": x_axis},
                          "x2": {"field": "ci_high"}, **rows_encoding}},
            {"data": data, "mark": {"type": "point", "filled": True, "size": 90, "opacity": 1},
             "encoding": {"x": {"field": "estimate", "type": "quantitative", "axis": x_axis}, **rows_encoding}},
        ])


def _sample_chart(outcome: tracker.TrackerResults) -> dict:
    """Members reached per arm (bars, each with its count), against the sample per arm the plan
    needs (the red dashed line, labelled above the plot)."""
    frame = outcome.n_per_arm.rename_axis("variant").reset_index(name="members")
    frame = pd.DataFrame({"variant": frame.variant.astype(str), "members": frame.members.astype(int)})
    needed = outcome.needed_per_arm
    # the axis reaches past the larger of the bars and the needed line (and its label), whichever is
    # further: an axis fitted to the bars alone would leave the line off the chart when no arm reached it
    top = max(float(frame.members.max()) if len(frame) else 0.0, float(needed or 0))
    x = {"type": "quantitative", "title": "Members reached", "scale": {"domain": [0, (top or 1) * 1.1], "nice": False},
         "axis": {"format": ",d", "labelOverlap": True}}
    arms = {"field": "variant", "type": "nominal", "sort": frame.variant.tolist(), "title": None,
            "axis": {"labelLimit": 140}}
    tooltip = [{"field": "variant", "title": "Arm"}, {"field": "members", "title": "Members reached", "format": ","}]
    bars = vega.records(frame)
    layer = [
        {"data": bars, "mark": {"type": "bar", "color": BLUE, "cornerRadiusEnd": 2},
         "encoding": {"x": {"field": "members", **x}, "y": arms, "tooltip": tooltip}},
        {"data": bars, "mark": {"type": "text", "align": "left", "baseline": "middle", "dx": 4, "color": "#111827"},
         "encoding": {"x": {"field": "members", **x}, "y": arms, "text": {"field": "members", "format": ","},
                      "tooltip": tooltip}},
    ]
    if needed:
        line = {"values": [{"needed": int(needed), "label": f"needed {count(needed)}"}]}
        needed_tooltip = [{"field": "needed", "title": "Needed per arm", "format": ","}]
        layer += [
            {"data": line, "mark": {"type": "rule", "color": RED, "strokeDash": [6, 4], "size": 2},
             "encoding": {"x": {"field": "needed", **x}, "tooltip": needed_tooltip}},
            # the label above the plot, ending at the line: inside it, it would sit on a bar past the line
            {"data": line, "mark": {"type": "text", "color": RED, "align": "right", "baseline": "bottom", "dx": 2,
                                   "y": 0, "dy": -3},
             "encoding": {"x": {"field": "needed", **x}, "text": {"field": "label"}, "tooltip": needed_tooltip}},
        ]
    return vega.spec(description=SAMPLE, height=110 + 40 * len(frame), layer=layer)


UNITS = {"%": "pts", "USD": "USD per member", "count": "per member"}   # an absolute difference's unit


def _over_time_chart(frame: pd.DataFrame, metric: str, difference: str) -> dict:
    """Each treatment's estimate at the end of each UTC day (line and dots) inside its interval
    (a shaded band of the same colour, a bar on a single day), and the dotted line of no difference."""
    relative = difference == "relative"
    unit = OUTCOMES[metric].unit
    scale = 100 if not relative and unit == "%" else 1   # rate differences in points, as the table shows them
    treatments = [str(v) for v in dict.fromkeys(frame.variant)]
    data = vega.records(pd.DataFrame({
        "day": pd.to_datetime(frame.snapshot_date),   # a UTC day, drawn as it is (ui.vega)
        "variant": frame.variant.astype(str),
        "estimate": frame.estimate.astype(float) * scale,
        "ci_low": frame.ci_low.astype(float) * scale,
        "ci_high": frame.ci_high.astype(float) * scale,
        "lift": [lift_text(r, difference, metric) for _, r in frame.iterrows()],
        "members": frame.members.astype(int),
    }))
    y_title = "Relative lift (%)" if relative else f"Difference ({UNITS.get(unit, unit)})"
    y_axis = {"title": y_title, "format": ".0%" if relative else "~g"}
    day = vega.time_encoding("day", "Day (UTC)")
    color = _treatment_colors(treatments)
    tooltip = [vega.time_tooltip("day", "Day (UTC)", time_unit="utcyearmonthdate"), {"field": "variant", "title": "Treatment"},
               {"field": "lift", "title": f"Lift, {difference} [interval]"},
               {"field": "members", "title": "Members in the test", "format": ","}]
    interval = {"x": day, "y": {"field": "ci_low", "type": "quantitative", "axis": y_axis}, "y2": {"field": "ci_high"},
                "color": {**color, "legend": None}}
    # a band needs two days: a single day's interval is a line
    band = ({"type": "area", "opacity": 0.2} if frame.snapshot_date.nunique() > 1 else
            {"type": "rule", "size": 6, "opacity": 0.35})
    return vega.spec(
        description=OVER_TIME, height=OVER_TIME_HEIGHT,
        resolve={"legend": {"color": "independent"}},   # the legend is the lines' (the bands' would be faint)
        layer=[
            {"data": data, "mark": {**band, "tooltip": None}, "encoding": interval},
            _zero_rule("y"),
            {"data": data, "mark": {"type": "line", "point": {"filled": True, "size": 40}},
             "encoding": {"x": day, "y": {"field": "estimate", "type": "quantitative", "axis": y_axis},
                          "color": color, "tooltip": tooltip}},
        ])
