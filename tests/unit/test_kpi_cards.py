"""The KPI cards as one HTML block (ui.kpi_cards): what each card says, its colour, and that
nothing in it is markup."""
import math
from html.parser import HTMLParser

import pandas as pd

from core.analytics.metrics import Metric
from ui.kpi_cards import Card, count_card, markup, metric_card


class Texts(HTMLParser):
    """The text of every element with a class, and every title attribute."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.texts: dict[str, list[str]] = {}
        self.titles: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.stack.append(attrs.get("class") or "")
        if attrs.get("title"):
            self.titles.append(attrs["title"])

    def handle_endtag(self, tag):
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1]:
            self.texts.setdefault(self.stack[-1], []).append(data)


def test_counts_and_money_go_up_green_and_cost_going_up_is_red():
    conversions = metric_card("conversions", 1_100, 1_000)
    assert (conversions.value, conversions.delta, conversions.tone, conversions.arrow) == \
        ("1,100", "+10.0% (+100)", "good", "↑")
    cost = metric_card("cost", 2_000.0, 1_000.0)                  # more cost is bad news
    assert (cost.tone, cost.arrow) == ("bad", "↑") and cost.delta.startswith("+100.0%")
    cheaper = metric_card("cost", 500.0, 1_000.0)
    assert (cheaper.tone, cheaper.arrow) == ("good", "↓")


def test_rates_and_roi_change_in_points_and_no_change_is_neither_colour():
    roi = metric_card("roi", 0.5, 0.8)                             # 50 % against 80 %: −30 points
    assert roi.delta.endswith(" pts") and roi.delta.startswith("-30") and (roi.tone, roi.arrow) == ("bad", "↓")
    same = metric_card("conversions", 10, 10)
    assert (same.tone, same.arrow) == ("same", "")


def test_a_card_not_compared_says_why_in_its_help_and_shows_no_change():
    card = metric_card("reach_conversion", 0.1, 0.05, not_compared="counted from each campaign's start")
    assert card.delta == "" and "Not compared: counted from each campaign's start" in card.help
    nothing_before = metric_card("revenue", 100.0, None)
    assert nothing_before.delta == "" and "nothing to compare with" in nothing_before.help
    missing = metric_card("revenue", math.nan, 5.0)
    assert missing.value == "—" and missing.delta == ""


def test_the_block_escapes_every_text_and_keeps_the_rows():
    hostile = Metric("members", "<img src=x onerror=alert(1)> **bold**", "count", help='"><script>x</script>')
    rows = [[metric_card("conversions", 1_100, 1_000), metric_card("cost", 2_000.0, 1_000.0)],
            [count_card(hostile, pd.Series({"members": 12_345})["members"])]]
    block = markup(rows)
    assert "<img" not in block and "<script" not in block                  # only the cards' own markup
    parsed = Texts()
    parsed.feed(block)
    assert set(parsed.tags) <= {"style", "div", "span"}
    assert parsed.texts["kpi-label"] == ["Conversions", "Cost", "<img src=x onerror=alert(1)> **bold**"]
    assert parsed.texts["kpi-value"] == ["1,100", "$2,000", "12,345"]
    assert parsed.texts["kpi-delta good"] == ["↑ +10.0% (+100)"] and parsed.texts["kpi-delta bad"][0].startswith("↑ +100.0%")
    assert '"><script>x</script>' in parsed.titles                      # the help, as text in its attribute
    assert block.count('class="kpi-row"') == 2 and block.count('class="kpi-card"') == 3


def test_a_note_under_the_value_is_text_and_a_card_without_one_has_none():
    """The recommendation cards' line under the value (an interval, a share of revenue) comes from
    stored card details: text, never markup."""
    rows = [[Card("Expected impact / week", "$1,200", note="90 %: $800 to $1,600"),
             Card("Confidence", "> 99 %", note="<b>12%</b> of $ revenue"), Card("Implementation", "Easy")]]
    block = markup(rows)
    parsed = Texts()
    parsed.feed(block)
    assert parsed.texts["kpi-note"] == ["90 %: $800 to $1,600", "<b>12%</b> of $ revenue"]
    assert "<b>" not in block and block.count('class="kpi-note"') == 2
