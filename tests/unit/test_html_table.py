"""ui.html_table: the short tables drawn as HTML — every cell escaped text, numbers written as
ui.format writes them and right-aligned, a missing value as "—"."""
from __future__ import annotations

import math
from html.parser import HTMLParser

import numpy as np
import pandas as pd

from ui import format as fmt
from ui.html_table import Column, frame_markup, markup, metric_column, text, written_markup

PAYLOADS = ["<img src=x onerror=alert(1)>", "<b>bold</b> & co", "[link](http://127.0.0.1:9/)", "\"quoted' text"]


class Cells(HTMLParser):
    """(tag, text, class) of every th/td, and every other tag met."""

    def __init__(self):
        super().__init__()
        self.cells: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self._open: tuple[str, str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("th", "td"):
            self._open = (tag, dict(attrs).get("class") or "", [])
        else:
            self.tags.append(tag)

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._open:
            self.cells.append((tag, "".join(self._open[2]), self._open[1]))
            self._open = None

    def handle_data(self, data):
        if self._open:
            self._open[2].append(data)


def parse(html: str) -> Cells:
    cells = Cells()
    cells.feed(html)
    return cells


def test_cells_and_headers_are_text_not_markup():
    html = markup(["Name <i>", "Count"], [[payload, "1"] for payload in PAYLOADS], [False, True], css_class="x y")
    cells = parse(html)
    assert [c[1] for c in cells.cells if c[0] == "th"] == ["Name <i>", "Count"]
    assert [c[1] for c in cells.cells if c[0] == "td"][::2] == PAYLOADS          # shown as the characters
    assert set(cells.tags) == {"style", "div", "table", "thead", "tbody", "tr"}  # no tag came from the data
    assert '<table class="html-table x y">' in html


def test_numbers_are_right_aligned_and_text_is_not():
    cells = parse(markup(["a", "b"], [["x", "1"]], [False, True]))
    assert [c[2] for c in cells.cells] == ["", "number", "", "number"]


def test_metric_columns_write_rates_money_and_counts_in_full():
    frame = pd.DataFrame({"segment": ["deal_seeker", None], "open_rate": [0.123456, np.nan],
                          "revenue": [1234567.891, -5.5], "sends": [1234567, 0], "roi": [0.25, math.inf]})
    html = frame_markup(frame, {"segment": text("Segment"), **{k: metric_column(k) for k in ("open_rate", "revenue",
                                                                                             "sends", "roi")}})
    cells = parse(html)
    header = [c[1] for c in cells.cells if c[0] == "th"]
    rows = [c[1] for c in cells.cells if c[0] == "td"]
    assert header == ["Segment", "Open rate", "Revenue", "Sends", "ROI"]     # each cell carries its unit
    assert rows[:5] == ["deal_seeker", fmt.percent(0.123456, 2), "$1,234,567.89", "1,234,567", fmt.percent(0.25, 1)]
    assert rows[5:] == [fmt.MISSING, fmt.MISSING, "-$5.50", "0", fmt.MISSING]   # None, NaN and ∞ are "—"


def test_written_frames_keep_their_text_and_write_counts_with_separators():
    frame = pd.DataFrame({"Variant": ["control (control)", PAYLOADS[0]], "Members": [12345, 7],
                          "Lift": ["+1.2% [−0.1%, +2.5%]", None]})
    cells = parse(written_markup(frame, numbers=["Members", "Lift"]))
    assert [c[1] for c in cells.cells if c[0] == "td"] == ["control (control)", "12,345", "+1.2% [−0.1%, +2.5%]",
                                                          PAYLOADS[0], "7", fmt.MISSING]
    assert [c[2] for c in cells.cells[:3]] == ["", "number", "number"]


def test_a_column_writes_with_its_own_function():
    frame = pd.DataFrame({"day": pd.to_datetime(["2026-11-02"]).date})
    cells = parse(frame_markup(frame, {"day": Column("Day", lambda day: f"{day:%d %b %Y}")}))
    assert [c[1] for c in cells.cells] == ["Day", "02 Nov 2026"]
