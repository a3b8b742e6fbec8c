"""Vega-Lite conventions shared by every chart of the app (st.vega_lite_chart with a plain spec).

Why Vega-Lite and not Plotly: in the browser, the first Plotly chart of a page costs about 2 s of
the main thread on this kind of machine (loading and evaluating its 4 MB chunk, then drawing),
where a first Vega-Lite chart costs about 0.3 s and each further one well under 0.1 s
(issue 15: every screen must be painted no later than a small page with one Plotly chart).
Vega-Lite charts also update in place when only their numbers change, where a Plotly chart is
mounted afresh — provided the numbers travel beside the spec, not in it: every chart is drawn
through ui.widgets.vega_chart, which moves the layers' rows to named datasets (`named_datasets`).

Times: Vega-Lite draws a timestamp in the *browser's* time zone unless told otherwise, while the
app shows every time in the zone the reader chose in the sidebar. So a chart gets local wall-clock
times as naive timestamps (`wall_clock`), read and shown as UTC (`time_encoding`): what is drawn
is the local wall clock, whatever the browser's zone.

Text: Vega-Lite draws labels as plain text (no markup), so names from data need no escaping here
(unlike Plotly's labels, which read HTML tags).

May import pandas only (no Streamlit: specs are plain dicts, built and cached by the ui modules;
the colours are ui.format's).
"""
from __future__ import annotations

import json

import pandas as pd



def wall_clock(times: pd.Series) -> pd.Series:
    """Timestamps as naive local wall-clock times (a zone-aware series keeps its own zone's clock)."""
    times = pd.to_datetime(times)
    return times.dt.tz_localize(None) if times.dt.tz is not None else times


def time_encoding(field: str, title: str, label_format: str = "%d %b", **extra) -> dict:
    """An x (or y) encoding of wall-clock times from `wall_clock`, drawn as they are: a UTC scale
    formats its labels in UTC, so the browser's own zone plays no part. (A "formatType": "utc"
    beside it made Vega ignore the label format.)"""
    return {"field": field, "type": "temporal", "title": title, "scale": {"type": "utc"},
            "axis": {"format": label_format, "labelOverlap": True}, **extra}


def time_tooltip(field: str, title: str, label_format: str = "%a %d %b %Y",
                 time_unit: str = "utcyearmonthdatehoursminutes") -> dict:
    """A tooltip line for a wall-clock time from `wall_clock`, read in UTC through a UTC time
    unit (a tooltip with "formatType": "utc" read "NaN" in this Streamlit's Vega)."""
    return {"field": field, "type": "temporal", "timeUnit": time_unit, "title": title, "format": label_format}


# Above this many marks a chart is drawn on a canvas: as SVG, each mark is DOM nodes the browser
# builds and styles (the portfolio's 1,500 bubbles: about 17,000 DOM changes and 150 ms of a
# rerun, issue 15), where a canvas is one node. Tooltips work the same; Streamlit's own
# threshold (2,000 data per mark) is past the portfolio's size.
CANVAS_ABOVE_MARKS = 300


def spec(description: str, marks: int = 0, **parts) -> dict:
    """A Vega-Lite spec named by `description` (read aloud by screen readers, and how tests find
    a chart), with the app's defaults: legend below the plot; drawn on a canvas when it has
    more than CANVAS_ABOVE_MARKS `marks`."""
    drawn = {"description": description, "config": {"legend": {"orient": "bottom"}}, **parts}
    if marks > CANVAS_ABOVE_MARKS:
        drawn["usermeta"] = {"embedOptions": {"renderer": "canvas"}}
    return drawn


def records(frame: pd.DataFrame) -> dict:
    """Inline data for a spec (a layer's "data"): plain JSON records, wall-clock times as ISO strings marked UTC (see above)."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = wall_clock(out[column]).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"values": out.astype(object).where(out.notna(), None).to_dict("records")}


def tick_labels(number_format: str) -> dict:
    """Axis properties that format each tick alone with a d3 `number_format` (e.g. "$~s"): an
    axis' own "format" shares one SI prefix across its ticks and writes the zero as "$0k"."""
    return {"labelExpr": f"format(datum.value, {json.dumps(number_format)})"}



# The prefix of the datasets named_datasets makes: Vega-Lite names its own data sources data_0,
# data_1, … and Vega refuses a second data set of the same name (a blank chart).
DATASET_PREFIX = "rows_"


def named_datasets(drawn: dict) -> dict:
    """The spec with every layer's inline rows moved to its top-level "datasets", each named by
    its place (rows_0, rows_1, … in the order they appear), as a DataFrame.

    Why: Streamlit's Vega-Lite element builds a new view — Vega-Lite's compiler, Vega's parser,
    every mark drawn afresh — whenever the spec's text changes, and inline rows are part of that
    text; named datasets travel beside the spec (as Arrow), and when only they change the
    browser swaps the rows into the view it has. A change of campaign or period, or the next
    page of cards, changes the numbers, not the chart (issue 15: the series chart's rebuild was
    most of the Vega-Lite time of a change of campaign).

    Rows are moved only when they are flat records whose every column holds one kind of value
    (numbers, text or booleans, with gaps): a GeoJSON shape, an empty list or a column mixing
    kinds stays inline, drawn as before. The spec given is not changed."""
    datasets: dict[str, pd.DataFrame] = {}

    def moved(node):
        if isinstance(node, list):
            return [moved(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: moved(value) for key, value in node.items() if key != "data"}
        if "data" in node:
            data = node["data"]
            if isinstance(data, dict) and _flat_records(data.get("values")):
                name = f"{DATASET_PREFIX}{len(datasets)}"
                datasets[name] = pd.DataFrame.from_records(data["values"])
                out["data"] = {"name": name, **{k: v for k, v in data.items() if k != "values"}}
            else:
                out["data"] = data
        return out

    drawn = moved(drawn)
    if datasets:
        drawn["datasets"] = {**drawn.get("datasets", {}), **datasets}
    return drawn


def _kind(value) -> str | None:
    if value is None or isinstance(value, float) and value != value:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    return "other"


def _flat_records(values) -> bool:
    """True for a non-empty list of dicts whose columns each hold one kind of scalar."""
    if not isinstance(values, list) or not values or not all(isinstance(row, dict) and row for row in values):
        return False
    kinds: dict[str, str] = {}
    for row in values:
        for column, value in row.items():
            kind = _kind(value)
            if kind == "other":
                return False
            if kind is not None and kinds.setdefault(column, kind) != kind:
                return False
    return True
