""""Why did this change", drawn: the decomposition's waterfall (before, each group's
contribution, now) and the words that go with it — one definition, shared by the Overview and
a campaign's detail on Campaign analytics.

The waterfall is a Vega-Lite spec (ui.vega): each bar's start and end are computed here (so the
data in the spec is exactly what is drawn), names from data are plain text (Vega draws no
markup, so they are not escaped)."""
from __future__ import annotations

from core.analytics.decomposition import GROUPINGS, Decomposition
from core.analytics.metrics import METRICS
from ui import format as fmt
from ui import vega

WATERFALL_BARS = 8
WATERFALL_HEIGHT = 420
LABEL_CHARACTERS = 28
LABEL_WIDTH_PX = 56     # room a bar needs for its value written over it ("+$17,406")


def as_points(kpi: str) -> bool:
    return METRICS[kpi].unit in ("%", "ratio")


def contribution_text(kpi: str, value) -> str:
    """A contribution in the KPI's unit of change: points for rates and ROI, else signed."""
    if as_points(kpi):
        return fmt.points(value)
    return fmt.money(value, signed=True) if METRICS[kpi].unit == "USD" else fmt.decimal(value, 0, signed=True)


def short_label(value, limit: int = LABEL_CHARACTERS) -> str:
    """A name from data short enough for an axis label: its start and its end (where campaign
    names differ: "… push #21") around an ellipsis."""
    text = str(value)
    if len(text) <= limit:
        return text
    tail = limit // 3
    return f"{text[:limit - tail - 1].rstrip()}…{text[-tail:].lstrip()}"


def distinct(labels: list[str]) -> list[str]:
    """The labels made distinct (they are the bars' categories): a repeat gets its number."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def waterfall_rows(result: Decomposition) -> list[dict]:
    """One row per bar, in order: Before, the groups (the largest WATERFALL_BARS, then the rest
    together), Now; `start` and `end` in the axis' unit (rates and ROI in percent), `amount` the
    bar's own value (the KPI before or now, or a contribution) in the KPI's unit."""
    metric = METRICS[result.kpi]
    scale = 100 if as_points(result.kpi) else 1          # rates and ROI in percent and points
    shown = result.groups.head(WATERFALL_BARS)
    rest = result.groups.iloc[WATERFALL_BARS:]
    names = [fmt.segment_label(v) if result.by == "segment" else str(v) for v in shown.label]
    rows = [{"kind": "before", "name": f"{metric.label} before", "amount": fmt.finite(result.before),
             "text": fmt.metric_value(result.kpi, result.before), "interval": ""}]
    for name, contribution, low, high, beyond in zip(names, shown.contribution, shown.low, shown.high,
                                                     shown.exceeds_noise):
        rows.append({"kind": "step", "name": name, "label": short_label(name) + ("" if beyond else " (noise)"),
                     "amount": fmt.finite(contribution), "text": contribution_text(result.kpi, contribution),
                     "interval": f"{contribution_text(result.kpi, low)} to {contribution_text(result.kpi, high)}"
                                 + ("" if beyond else " (includes zero: noise)")})
    if len(rest):
        together = float(rest.contribution.sum())
        rows.append({"kind": "others", "name": f"{len(rest)} other {result.by}s together",
                     "label": f"{len(rest)} other{'s' if len(rest) > 1 else ''}", "amount": fmt.finite(together),
                     "text": contribution_text(result.kpi, together), "interval": ""})
    rows.append({"kind": "now", "name": f"{metric.label} now", "amount": fmt.finite(result.after),
                 "text": fmt.metric_value(result.kpi, result.after),
                 "interval": f"{contribution_text(result.kpi, result.change)} ({contribution_text(result.kpi, result.change_low)} "
                             f"to {contribution_text(result.kpi, result.change_high)}, 95 %)"})
    rows[0]["label"], rows[-1]["label"] = "Before", "Now"
    level = 0.0
    for row in rows:
        amount = row["amount"]
        if row["kind"] in ("before", "now"):
            row["start"], row["end"] = 0.0, None if amount is None else amount * scale
        else:
            row["start"], row["end"] = level, None if amount is None else level + amount * scale
        level = row["end"] if row["end"] is not None else level
        row["direction"] = "total" if row["kind"] in ("before", "now") else "up" if (amount or 0) >= 0 else "down"
    labels = distinct([row["label"] for row in rows])
    for row, label, following in zip(rows, labels, labels[1:] + [None]):
        row["label"], row["next"] = label, following
        row["top"] = None if row["end"] is None else max(row["start"], row["end"])
        row["bottom"] = None if row["end"] is None else min(row["start"], row["end"])
    return rows


def waterfall(result: Decomposition, tz: str) -> dict:
    """Before (blue), each group's contribution (green where it helped, red where it hurt —
    for cost the other way round), the rest together, and now (blue), joined by grey
    connectors; each bar labelled with its value, the hover giving the full name and the 95 %
    interval. A Vega-Lite spec with the data inline (layer "waterfall": one row per bar,
    waterfall_rows)."""
    metric = METRICS[result.kpi]
    rows = waterfall_rows(result)
    order = [row["label"] for row in rows]
    good, bad = (fmt.GREEN, fmt.RED) if metric.higher_is_better else (fmt.RED, fmt.GREEN)
    unit = {"%": " (%)", "ratio": " (%)", "USD": " (USD)"}.get(metric.unit, "")
    axis_format = {"USD": "$~s", "count": "~s"}.get(metric.unit, ",.4~f")
    x = {"field": "label", "type": "nominal", "sort": order, "title": None,
         "axis": {"labelAngle": -40, "labelLimit": 200, "labelOverlap": False}}
    y = {"field": "start", "type": "quantitative", "title": metric.label + unit,
         "axis": vega.tick_labels(axis_format)}
    colour = {"field": "direction", "type": "nominal", "legend": None,
              "scale": {"domain": ["total", "up", "down"], "range": [fmt.BLUE, good, bad]}}

    def bars(kind: str, tooltip: list[dict]) -> dict:
        return {"transform": [{"filter": f"datum.kind === '{kind}'"}], "mark": {"type": "bar"},
                "encoding": {"x": x, "y": y, "y2": {"field": "end"}, "color": colour, "tooltip": tooltip}}

    tooltips = {   # a layer per kind of bar present (an empty layer has no extent), each with its hover
        "before": [{"field": "name", "title": "Bar"}, {"field": "text", "title": metric.label}],
        "step": [{"field": "name", "title": GROUPINGS[result.by]}, {"field": "text", "title": "Contribution"},
                 {"field": "interval", "title": "95 % interval"}],
        "others": [{"field": "name", "title": "Bar"}, {"field": "text", "title": "Contribution"}],
        "now": [{"field": "name", "title": "Bar"}, {"field": "text", "title": metric.label},
                {"field": "interval", "title": "Change (95 % interval)"}],
    }

    # The values over the bars only where they fit side by side (not on a phone: hover or tap there).
    readable = {"expr": f"width / {len(rows)} >= {LABEL_WIDTH_PX} ? 1 : 0"}

    def labels(direction: str) -> dict:
        above = direction != "down"
        return {"transform": [{"filter": f"datum.direction {'!' if above else '='}== 'down'"}],
                "mark": {"type": "text", "baseline": "bottom" if above else "top", "dy": -3 if above else 3,
                         "fontSize": 11, "color": "#475569", "opacity": readable},
                "encoding": {"x": x, "y": {"field": "top" if above else "bottom", "type": "quantitative"},
                             "text": {"field": "text"}}}

    return vega.spec(
        description=f"Waterfall: {metric.label} by {result.by}, from before to now",
        title={"text": f"{metric.label} by {result.by} · {tz}", "anchor": "start"},
        # The data on a layer, not on the spec: Streamlit would move top-level data out of the spec.
        layer=[{"name": "waterfall", "data": {"values": rows}, "layer": [
            bars(kind, tooltips[kind]) for kind in tooltips if any(row["kind"] == kind for row in rows)] + [
            {"transform": [{"filter": "datum.next != null && datum.end != null"}],
             "mark": {"type": "rule", "color": fmt.GREY, "strokeWidth": 1},
             "encoding": {"x": {**x, "bandPosition": 1}, "x2": {"field": "next", "bandPosition": 0},
                          "y": {"field": "end", "type": "quantitative"}}},
        ] + [labels(side) for side in ("up", "down") if any((row["direction"] == "down") == (side == "down")
                                                             and row["end"] is not None for row in rows)]}])


def caption(result: Decomposition) -> str:
    """What the bars are, under the chart (our own Markdown: no data in it)."""
    return (f"Each bar is a {result.by}'s contribution to the change; they add up exactly from before to now. "
            + ("Rates and ROI: a group's rate moving (rate) and its share of the volume moving (mix). "
               if result.kind == "ratio" else "")
            + f"“(noise)” marks a contribution whose 95 % interval includes zero ({result.noise}). "
            + "Hover over (or tap) a bar for its full name, value and interval.")
