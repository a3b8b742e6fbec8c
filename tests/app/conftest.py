"""AppTest fixtures: the real app.py pointed at a real database, in any role, on any page.

Streamlit's caches live for the whole process, and ui.data.engine() is a cache_resource: an
engine left over from one test would talk to the previous test's database. So every switch of
DATABASE_URL empties both caches before and after.
"""
from __future__ import annotations

import ast
import io
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.analytics.periods import Period

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
UNREACHABLE_URL = "postgresql://postgres@127.0.0.1:1/x"  # nothing listens on port 1
# An identity provider's settings as st.login() reads them; no test ever reaches the provider.
AUTH_SECRETS = {"auth": {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "app-test-cookie-secret",
    "client_id": "app-test",
    "client_secret": "app-test-secret",
    "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
}}


def screens() -> list[tuple[str, str]]:
    """(path, title) of every screen app.py lists whose file exists — read from app.py's
    SCREENS, so screens added later are covered without touching the tests."""
    tree = ast.parse(APP.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SCREENS" for t in node.targets):
            listed = ast.literal_eval(node.value)
            return [(path, title) for path, title, _icon in listed if (ROOT / path).exists()]
    raise AssertionError("app.py has no SCREENS list")


def screen_path(title: str) -> str:
    """The file of the screen app.py shows under this title."""
    return dict((t, path) for path, t in screens())[title]


def clear_streamlit_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@contextmanager
def app_database(url: str):
    """Run the app against `url` (DATABASE_URL), restoring the environment afterwards."""
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    clear_streamlit_caches()
    try:
        yield url
    finally:
        clear_streamlit_caches()
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved


def database_url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def new_app(role: str = "manager", page: str | None = None) -> AppTest:
    """An AppTest of app.py in the demo role `role`, opening on `page` (not run yet)."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state["demo_role"] = role
    if page:
        at.switch_page(page)
    return at


def open_tab(at: AppTest, key: str, label: str) -> AppTest:
    """The same session on another tab of a screen whose tabs are lazy (st.tabs with `key`, or the
    A/B screen's segmented control: only the open one runs): what clicking the tab does. The tabs
    are bound to the URL, whose value wins over the session's in AppTest when the label is the
    default one: both are set."""
    at.session_state[key] = label
    at.query_params[key] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def app_env(demo_db):
    """The app pointed at the shared demo database (read-only); yields its engine."""
    with app_database(demo_db.url_for_app):
        yield demo_db


@pytest.fixture
def open_app(app_env):
    """open_app(role, page) -> an AppTest that has run once on the demo database, and did not fail."""
    def open_(role: str = "manager", page: str | None = None) -> AppTest:
        at = new_app(role, page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at
    return open_


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """file name -> bytes of every st.download_button the app shows from now on (the bytes a
    viewer would download)."""
    offered: dict[str, bytes] = {}
    original = st.download_button

    def recording(label, data, file_name=None, *args, **kwargs):
        # A callable is what Streamlit runs when the viewer clicks (the export's check, masking
        # and audit in core): call it, as the click would.
        offered[file_name] = data() if callable(data) else data
        return original(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", recording)
    return offered


def formula_cells(csv: bytes) -> list[str]:
    """Cells (headers too) of a CSV that a spreadsheet would run as a formula: text starting
    with = + - @ tab or carriage return. Numbers such as -0.5 are numbers, not formulas."""
    frame = pd.read_csv(io.BytesIO(csv), dtype=str, keep_default_na=False)
    cells = list(frame.columns) + [cell for column in frame.columns for cell in frame[column]]
    return [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r")) and not is_number(cell)]


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- reading what the app shows --------------------------------------------------------------

@dataclass
class ShownCard:
    """A KPI card (ui.kpi_cards) as a reader sees it: its label, value, change (with the arrow
    of the way the number moved; "" when not compared), whether the change is good news, help,
    and the line under the value."""
    label: str = ""
    value: str = ""
    delta: str = ""
    tone: str = ""
    help: str = ""
    note: str = ""


class CardText(HTMLParser):
    """The KPI cards of one HTML block, their text unescaped."""

    def __init__(self):
        super().__init__()
        self.cards: list[ShownCard] = []
        self.field: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "kpi-card" in classes:
            self.cards.append(ShownCard(help=attrs.get("title") or ""))
        elif "kpi-help" in classes:
            self.field = None  # the (?) mark is not the label's text
        elif {"kpi-label", "kpi-value", "kpi-delta", "kpi-note"} & set(classes) and self.cards:
            self.field = next(c for c in classes if c in ("kpi-label", "kpi-value", "kpi-delta", "kpi-note"))[4:]
            if self.field == "delta":
                self.cards[-1].tone = next(c for c in classes if c != "kpi-delta")

    def handle_endtag(self, tag):
        if tag in ("div", "span"):
            self.field = None

    def handle_data(self, data):
        if self.field and self.cards:
            card = self.cards[-1]
            setattr(card, self.field, (getattr(card, self.field) + data).strip())


def all_kpi_cards(at: AppTest) -> list[ShownCard]:
    """Every KPI card on screen (ui.kpi_cards), in order (labels repeat on the recommendation cards)."""
    found = []
    for block in at.get("html"):
        parser = CardText()
        parser.feed(block.proto.body)
        found += parser.cards
    return found


def kpi_cards(at: AppTest) -> dict[str, ShownCard]:
    """The KPI cards on screen (ui.kpi_cards), by label."""
    return {card.label: card for card in all_kpi_cards(at)}


def delta_without_arrow(card: ShownCard) -> str:
    """The change as core.analytics.presets.Change.text writes it (the card puts ↑ or ↓ before it)."""
    return card.delta.removeprefix("↑").removeprefix("↓").strip()


def shown_metrics(at: AppTest) -> dict[str, str]:
    """Every number card on screen (st.metric and the KPI cards), label to value."""
    return {**{m.label: m.value for m in at.metric}, **{label: c.value for label, c in kpi_cards(at).items()}}


def shown_period(at: AppTest) -> Period:
    """The period the screen says it shows, read from its caption (Period.label()).

    Read from the screen rather than from session state: the screen says which period it used."""
    for caption in at.caption:
        found = re.search(r"(\d\d \w{3} \d{4}) – (\d\d \w{3} \d{4}) \(([^)]+)\)", caption.value)
        if found:
            first, last = (datetime.strptime(found.group(i), "%d %b %Y").date() for i in (1, 2))
            return Period(first, last, found.group(3))
    raise AssertionError("no caption on screen names the period")


def plain(markdown: str) -> str:
    """What a reader sees of Markdown that ui.format.escape_markdown wrote: the characters
    without their escaping backslashes and invisible zero-width spaces."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def count(text: str) -> int:
    """'528,101' -> 528101"""
    return int(text.replace(",", ""))


class TableText(HTMLParser):
    """The text of an HTML table's cells, row by row (what a reader sees of it), and the class of
    each table."""

    def __init__(self):
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append((dict(attrs).get("class") or "", []))
        elif tag == "tr":
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][1][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def html_tables(at: AppTest, css_class: str) -> list[pd.DataFrame]:
    """The HTML tables (ui.html_table) on screen whose class list has css_class, each as a frame
    of the text shown in its cells (markup unescaped, as a reader sees it), header as columns."""
    found = []
    for block in at.get("html"):
        parser = TableText()
        parser.feed(block.proto.body)
        for classes, rows in parser.tables:
            if css_class in classes.split():
                header, *body = rows
                found.append(pd.DataFrame(body, columns=header))
    return found


def table_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The one dataframe on screen that has all these columns."""
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert len(found) == 1, f"expected one table with columns {columns}, found {len(found)}"
    return found[0]


def chart_specs(at: AppTest) -> list[dict]:
    """Every Vega-Lite chart on the page as the spec the app built: the rows that travel as
    named datasets (ui.vega.named_datasets, Arrow beside the spec) put back in their layers,
    read from the Arrow the browser gets."""
    return [inline_datasets(json.loads(chart.proto.spec),
                            {dataset.name: pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
                             for dataset in chart.proto.datasets})
            for chart in at.get("vega_lite_chart")]


def inline_datasets(spec: dict, frames: dict[str, pd.DataFrame]) -> dict:
    """The spec (without its "datasets") with each layer's named data replaced by
    `{"values": [...]}`, the named frame's rows as records (gaps as None)."""
    rows = {name: frame.astype(object).where(frame.notna(), None).to_dict("records") for name, frame in frames.items()}

    def back(node):
        if isinstance(node, list):
            return [back(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: back(value) for key, value in node.items()}
        data = node.get("data")
        if isinstance(data, dict) and data.get("name") in rows:
            out["data"] = {"values": rows[data["name"]], **{k: v for k, v in data.items() if k != "name"}}
        return out
    return back({key: value for key, value in spec.items() if key != "datasets"})
