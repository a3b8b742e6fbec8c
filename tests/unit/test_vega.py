"""ui.vega's spec defaults: which charts are drawn on a canvas; rows moved to named datasets."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from tests.app.conftest import inline_datasets
from ui import vega
from ui.campaign_charts import revenue_cost_chart


def campaigns(count: int) -> pd.DataFrame:
    generator = np.random.default_rng(3)
    cost = generator.uniform(10, 1_000, count)
    revenue = generator.uniform(0, 2_000, count)
    return pd.DataFrame({"name": [f"Campaign {i}" for i in range(count)], "channel": ["push", "email"] * (count // 2),
                         "cost": cost, "revenue": revenue, "sends": generator.integers(1, 10_000, count),
                         "roi": (revenue - cost) / cost})


def test_a_chart_of_many_marks_is_drawn_on_a_canvas_and_a_small_one_as_svg():
    assert "usermeta" not in vega.spec("few", marks=vega.CANVAS_ABOVE_MARKS)
    assert vega.spec("many", marks=vega.CANVAS_ABOVE_MARKS + 1)["usermeta"] == {"embedOptions": {"renderer": "canvas"}}
    assert "usermeta" not in vega.spec("unsaid")


def test_the_portfolio_bubbles_go_on_a_canvas_at_1500_campaigns_not_at_40():
    """1,500 bubbles as SVG were about 17,000 DOM changes per rerun (issue 15)."""
    assert revenue_cost_chart(campaigns(1_500))["usermeta"]["embedOptions"]["renderer"] == "canvas"
    assert "usermeta" not in revenue_cost_chart(campaigns(40))


# --- rows as named datasets ----------------------------------------------------------------------

def series(conversions: list[float]) -> dict:
    from ui.campaign_charts import series_chart
    days = pd.date_range("2026-11-01", periods=len(conversions), freq="D", tz="America/New_York")
    frame = pd.DataFrame({"bucket": days, "conversions": conversions, "incomplete": [False] * (len(days) - 1) + [True]})
    marks = pd.DataFrame({"day": [days[2].date()], "kind": ["holiday"], "text": ["Veterans Day"],
                          "created_by": [None], "created_at": [None]})
    return series_chart(frame, "conversions", "day", "America/New_York", marks)


def without_rows(spec: dict) -> str:
    return json.dumps({key: value for key, value in spec.items() if key != "datasets"}, sort_keys=True)


def inline_again(spec: dict) -> dict:
    """The datasets put back where they were named (what the browser's view reads)."""
    return inline_datasets(spec, spec.get("datasets", {}))


def test_two_campaigns_series_differ_in_their_rows_only():
    """Another campaign's numbers: the same spec text, so the browser swaps the rows into the
    chart it has instead of compiling and drawing a new one (issue 15)."""
    first, second = series([3, 5, 8, 13, 21]), series([2, 4, 4, 1, None])
    assert json.dumps(first, sort_keys=True) != json.dumps(second, sort_keys=True)      # inline: two specs
    assert without_rows(vega.named_datasets(first)) == without_rows(vega.named_datasets(second))
    assert not vega.named_datasets(second).get("datasets", {}).keys() - {"rows_0", "rows_1", "rows_2"}


def test_moved_rows_are_the_rows_drawn_before_and_the_spec_given_is_unchanged():
    drawn = series([3, 5, None, 13, 21])
    before = json.dumps(drawn, sort_keys=True)
    moved = vega.named_datasets(drawn)
    assert json.dumps(drawn, sort_keys=True) == before
    assert inline_again(moved) == drawn
    assert all(name.startswith(vega.DATASET_PREFIX) and not name.startswith("data_") for name in moved["datasets"])


def test_shapes_empty_rows_and_mixed_columns_stay_inline():
    shape = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1], [0, 0]]]}}
    spec = {"layer": [{"data": {"values": [shape]}, "mark": "geoshape"},
                      {"data": {"values": []}, "mark": "point"},
                      {"data": {"values": [{}]}, "mark": "text"},
                      {"data": {"values": [{"a": 1}, {"a": "one"}]}, "mark": "point"},
                      {"data": {"values": [{"a": 1.5, "b": "x", "c": True}, {"a": None, "b": None, "c": False}]},
                       "mark": "line"}]}
    moved = vega.named_datasets(spec)
    assert [layer["data"] for layer in moved["layer"][:4]] == [layer["data"] for layer in spec["layer"][:4]]
    assert moved["layer"][4]["data"] == {"name": "rows_0"} and list(moved["datasets"]) == ["rows_0"]
    assert inline_again(moved) == spec
