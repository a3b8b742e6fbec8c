"""Small tables as one HTML block (st.html) instead of st.dataframe's grid (issue 15).

A grid draws on a canvas and is a widget of its own (toolbar, column menus, scrolling); an HTML
table is text painted with the rest of the page, read, selected and printed as such. (The grid
also rewrites its hidden accessibility table about 200–300 ms after every redraw; that is not
painted, and bench/bench_browser.py no longer counts it.) The grid stays where it earns its
weight: long tables a reader sorts, searches or scrolls (the portfolio at 1,500 campaigns,
histories, audit logs). Here go the short ones read at a glance: breakdowns, notes, a test's
variants, guardrails and audit trail.

Every cell is text: values are formatted (ui.format) and escaped as HTML here, so nothing from
data is markup. Numbers are right-aligned in tabular figures; a missing value is "—"; the
header stays in view while a long table scrolls inside its frame, and a wide one scrolls
sideways on a phone with its first column (what the row is) kept in view."""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from core.analytics.metrics import METRICS
from ui import format as fmt

STYLE = """<style>
.html-table-frame {overflow: auto; max-height: 26rem;}
.html-table {border-collapse: collapse; width: 100%; font-size: 0.875rem; line-height: 1.4;}
.html-table th, .html-table td {border-bottom: 1px solid rgba(49, 51, 63, 0.1); padding: 0.3rem 0.5rem;
  text-align: left; vertical-align: top;}
.html-table th {position: sticky; top: 0; z-index: 1; background: white; font-weight: 600; color: rgba(49, 51, 63, 0.7);}
.html-table td:first-child, .html-table th:first-child {position: sticky; left: 0; background: white;}
.html-table th:first-child {z-index: 2;}
.html-table .number {text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums;}
</style>"""


@dataclass(frozen=True)
class Column:
    """How one column is shown: its header, how a value is written, and whether it is a number
    (right-aligned)."""
    label: str
    write: Callable[[object], str] = str
    number: bool = False


def cell_text(value) -> str:
    """A cell already written, as shown: text as it is, a count with thousands separators, a
    missing value as "—"."""
    if fmt.is_missing(value):
        return fmt.MISSING
    return fmt.count(value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else str(value)


def text(label: str) -> Column:
    return Column(label, cell_text)


def metric_column(key: str) -> Column:
    """A campaign metric (core.analytics.metrics) in full (ui.format.metric_in_full: each cell
    carries its unit, so the header does not repeat it)."""
    return Column(METRICS[key].label, partial(fmt.metric_in_full, key), number=True)


def markup(header: Iterable[str], rows: Iterable[Iterable[str]], numbers: Iterable[bool], css_class: str = "") -> str:
    """The table of already written cells (escaped here), the style included."""
    numbers = list(numbers)
    align = [' class="number"' if number else "" for number in numbers]
    head = "".join(f"<th{a}>{html.escape(name)}</th>" for a, name in zip(align, header))
    body = "".join("<tr>" + "".join(f"<td{a}>{html.escape(cell)}</td>" for a, cell in zip(align, row)) + "</tr>"
                   for row in rows)
    classes = " ".join(["html-table", *css_class.split()])
    return (f'{STYLE}<div class="html-table-frame"><table class="{classes}">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def frame_markup(frame: pd.DataFrame, columns: dict[str, Column], css_class: str = "") -> str:
    """`frame`'s `columns` (in that order) as an HTML table."""
    writers = [(frame[key].tolist(), column) for key, column in columns.items()]
    rows = zip(*[[column.write(value) for value in values] for values, column in writers]) if writers else []
    return markup([c.label for c in columns.values()], rows, [c.number for c in columns.values()], css_class)


def html_table(frame: pd.DataFrame, columns: dict[str, Column], css_class: str = "") -> None:
    st.html(frame_markup(frame, columns, css_class))


def written_markup(frame: pd.DataFrame, numbers: Iterable[str] = (), css_class: str = "") -> str:
    """A frame whose cells are already written (cell_text), its column names as the header;
    `numbers` are right-aligned."""
    numbers = set(numbers)
    return frame_markup(frame, {c: Column(str(c), cell_text, c in numbers) for c in frame.columns}, css_class)
