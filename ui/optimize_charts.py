"""Recommendations' charts as Vega-Lite specs (plain dicts, ui.vega's conventions), and the
pieces the screen's tabs build theirs from (reference lines, estimates with 90 % intervals).

A card's projection is built once per card and shared by every session (ui.shared:
st.cache_resource keyed on the data caches' epoch): it never changes once the card is written,
and building its chart took most of a rerun of the screen (issue 15). The specs returned are
shared: treat them as read-only."""
from __future__ import annotations

import json
import math

from ui import optimize_data as opt
from ui import vega
from ui.format import BLUE, GREY, percent
from ui.shared import shared

DOTTED = [4, 4]
# Row labels (names of cards, offers, segments) as long as 40 % of the chart's width allows, so a
# phone keeps room for the plot; the full name is in each row's tooltip.
ROW_LABELS = {"labelLimit": {"expr": "max(90, containerSize()[0] * 0.4)"}}
LINE_LEGEND = {"title": None, "symbolType": "stroke", "symbolStrokeWidth": 2, "symbolSize": 300, "symbolOpacity": 1,
               "labelLimit": 320}
SCENARIOS = (("current", "As is", GREY, [2, 3]), ("with_change", "With the change", BLUE, [1, 0]))


def legend_columns(entry_width: int) -> dict:
    """As many legend columns as entries `entry_width` pixels wide fit in the chart's width (a
    legend does not wrap by itself, and one row of five entries runs off a phone)."""
    return {"expr": f"max(1, floor(containerSize()[0] / {entry_width}))"}


def chart_spec(description: str, plot_height: int, **parts) -> dict:
    """`ui.vega.spec` with a plot `plot_height` pixels high and as wide as its container, its
    title, axes and legend around it: st.vega_lite_chart draws it at its own height (height
    "content"). Streamlit's default sizing ("fit" into the element's height) squeezes a titled
    chart's plot and cuts the top of its title."""
    return vega.spec(description=description, height=plot_height, autosize={"type": "fit-x", "contains": "padding"},
                     **parts)


def reference_rule(channel: str, value: float, colour: str = GREY) -> dict:
    """A layer: a dotted reference line at `value` on the x ("x") or y ("y") scale of the chart."""
    return {"data": {"values": [{}]}, "mark": {"type": "rule", "color": colour, "strokeDash": DOTTED, "tooltip": None},
            "encoding": {channel: {"datum": value, "type": "quantitative"}}}


def interval_layers(data: dict, y: dict, x: dict, low: str, high: str, colour: dict, tooltip: list[dict],
                    shape: str | dict = "circle", offset: float = 0) -> list[dict]:
    """Two layers on a horizontal value axis: each row's interval (a line from `low` to `high`)
    and its estimate (a dot on `x`, of a fixed `shape` or a shape encoding), on the row named by
    `y`; `offset` moves both up (−) or down (+) by that many pixels, so two series can share a row."""
    dot = {"type": "point", "filled": True, "size": 110, "opacity": 1, "yOffset": offset}
    encoding = {"y": y, "x": x, "color": colour, "tooltip": tooltip}
    if isinstance(shape, dict):
        encoding["shape"] = shape
    else:
        dot["shape"] = shape
    return [
        {"data": data, "mark": {"type": "rule", "strokeWidth": 2, "yOffset": offset},
         "encoding": {"y": y, "x": {**x, "field": low}, "x2": {"field": high}, "color": colour, "tooltip": tooltip}},
        {"data": data, "mark": dot, "encoding": encoding},
    ]


@shared(512)
def projection_chart(recommendation_id: int) -> tuple[dict | None, str]:
    """The card's 8-week projection and its ROI in words (None, "" for a card no longer open)."""
    cards = opt.recommendations(None, None, None)
    found = cards[cards.recommendation_id == recommendation_id]
    if found.empty:
        return None, ""
    details = found.iloc[0].details
    if isinstance(details, str):
        details = json.loads(details) if details else {}
    return _projection_chart(recommendation_id, details if isinstance(details, dict) else {})


def _finite(*values) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def _projection_chart(recommendation_id: int, details: dict) -> tuple[dict | None, str]:
    """The card's 8-week projection (cumulative profit as is and with the change, each with its
    90 % band) and its ROI in words."""
    p = details.get("projection")
    if not p:
        return None, ""
    rows = [{"week": int(week), "scenario": name, "profit": profit, "low": low, "high": high}
            for key, name, _, _ in SCENARIOS
            for week, profit, low, high in zip(p["weeks"], p[f"{key}_profit"], p[f"{key}_profit_low"],
                                               p[f"{key}_profit_high"])
            if _finite(week, profit, low, high)]
    if not rows:
        return None, ""
    data = {"values": rows}
    names = [name for _, name, _, _ in SCENARIOS]
    colour = {"field": "scenario", "type": "nominal", "title": "Projection", "legend": LINE_LEGEND,
              "scale": {"domain": names, "range": [c for _, _, c, _ in SCENARIOS]}}
    weeks = [row["week"] for row in rows]
    x = {"field": "week", "type": "quantitative", "title": "Weeks from now",
         "scale": {"domain": [min(weeks), max(weeks)], "nice": False}, "axis": {"tickMinStep": 1, "format": "d"}}
    y_title, money_axis = "Cumulative profit (USD)", {"format": "$,.0f"}
    chart = chart_spec(
        f"ROI projection of card #{recommendation_id}: cumulative profit over the next 8 weeks, "
        "as is and with the change, with 90 % bands", 170,
        title="ROI projection, next 8 weeks",
        layer=[
            {"data": data, "mark": {"type": "area", "opacity": 0.2, "tooltip": None},
             "encoding": {"x": x, "y": {"field": "low", "type": "quantitative", "title": y_title, "axis": money_axis},
                          "y2": {"field": "high"}, "color": colour}},
            {"data": data, "mark": {"type": "line", "point": True},
             "encoding": {
                 "x": x, "y": {"field": "profit", "type": "quantitative", "title": y_title, "axis": money_axis},
                 "color": colour,
                 "strokeDash": {"field": "scenario", "type": "nominal", "title": "Projection", "legend": LINE_LEGEND,
                                "scale": {"domain": names, "range": [d for _, _, _, d in SCENARIOS]}},
                 "tooltip": [{"field": "scenario", "title": "Projection"},
                             {"field": "week", "title": "Weeks from now", "format": "d"},
                             {"field": "profit", "title": "Cumulative profit (USD)", "format": "$,.2f"},
                             {"field": "low", "title": "90 % low (USD)", "format": "$,.2f"},
                             {"field": "high", "title": "90 % high (USD)", "format": "$,.2f"}]}},
        ],
    )
    roi_now, roi_new = p.get("current_roi"), p.get("with_change_roi")
    words = ""
    if roi_now is not None and roi_new is not None:
        words = (f"ROI {percent(roi_now, 0, True)} as is → {percent(roi_new, 0, True)} with the change "
                 f"(90 %: {percent(p['with_change_roi_low'], 0, True)} to {percent(p['with_change_roi_high'], 0, True)}); "
                 "cost changes included.")
    elif roi_now is not None:
        words = f"ROI {percent(roi_now, 0, True)} as is; with the change the campaign spends nothing (ROI undefined)."
    return chart, words
