"""ui.format: the one way the app writes numbers, times and people's text.

escape_markdown is checked by what Markdown would make of its output: every ASCII punctuation
character is a backslash escape (CommonMark then shows it as itself), nothing that plugins read
after escapes are resolved (emoji and icon shortcodes, bare links, e-mails) is left whole, and
a reader sees exactly the text that went in."""
from __future__ import annotations

import io
import math
import re
import string
from datetime import datetime, timezone

import pandas as pd
import pytest

from tests.app.conftest import plain
from ui import format as fmt

PAYLOADS = [
    "![px](http://127.0.0.1:9/track.png)", "[click](http://127.0.0.1:9/)", ":red[FAKE VERDICT]",
    "$$\\frac{a}{b}$$", "$x^2$ costs $5 and $6", "<img src=x onerror=alert(1)>", "**bold**", "__under__",
    ":smile: :+1: :material/home:", ":blue-badge[B] :small[s]", "see http://127.0.0.1:9/x or WWW.example.com",
    "mail evil@phish.example", "# Heading", "1. first", "- item", "> quote", "a | b\n---|---", "~~strike~~",
    "&lt;b&gt; &amp; &#58;", "back\\slash \\*", "`code` ```fence```", "line one\n\n    indented code",
    "<https://example.com>", "[ref]: http://x.example", "Text:\tplain", "10:30 is fine", "emoji 🚀 ok",
]
PUNCTUATION = set(string.punctuation)
# What Markdown plugins look for in resolved text (remark-emoji, Streamlit's icons, GFM autolinks).
AFTER_ESCAPES = [re.compile(r":[\w+\-]+:"), re.compile(r":material/\w+:"), re.compile(r"(?i)https?://"),
                 re.compile(r"(?i)www\."), re.compile(r"[\w.+-]+@[\w-]+\.")]


def unescaped_punctuation(markdown: str) -> list[str]:
    """Punctuation characters that Markdown would read as syntax (not preceded by an escape)."""
    found, index = [], 0
    while index < len(markdown):
        char = markdown[index]
        if char == "\\":
            assert index + 1 < len(markdown) and markdown[index + 1] in PUNCTUATION, markdown
            index += 2
            continue
        if char in PUNCTUATION:
            found.append(char)
        index += 1
    return found


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escaped_text_has_no_markdown_left(payload):
    escaped = fmt.escape_markdown(payload)
    assert unescaped_punctuation(escaped) == []
    assert "\n" not in escaped                          # no new block can start inside it
    resolved = re.sub(r"\\(.)", r"\1", escaped)         # the text after CommonMark resolved the escapes
    for pattern in AFTER_ESCAPES:
        assert not pattern.search(resolved), (payload, pattern.pattern, resolved)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_readers_see_the_text_itself(payload):
    assert plain(fmt.escape_markdown(payload)) == " ".join(payload.split())


def test_missing_and_non_text_values():
    assert fmt.escape_markdown(None) == fmt.MISSING
    assert fmt.escape_markdown(float("nan")) == fmt.MISSING
    assert fmt.escape_markdown(pd.NA) == fmt.MISSING
    assert fmt.escape_markdown(ValueError("bad *value*")) == "bad \\*value\\*"
    assert fmt.escape_markdown(12.5) == "12\\.5"


def test_money():
    assert fmt.money(1234.4) == "$1,234"
    assert fmt.money(-1234.5, 2) == "-$1,234.50"
    assert fmt.money(12, signed=True) == "+$12"
    assert fmt.money_short(1_234_567) == "$1.2M"
    assert fmt.money_short(-3_400_000_000) == "-$3.4B"
    assert fmt.money_short(950) == "$950"


def test_rates_points_counts_and_probabilities():
    assert fmt.percent(0.1234) == "12.3%"
    assert fmt.percent(0.05, 0, signed=True) == "+5%"
    assert fmt.points(0.108) == "+10.8 pts"
    assert fmt.points(-0.0123, 2) == "-1.23 pts"
    assert fmt.count(1234567.0) == "1,234,567"
    assert fmt.probability(0.9996) == "> 99.9 %"
    assert fmt.probability(0.0004) == "< 0.1 %"
    assert fmt.probability(0.5) == "50.0 %"
    assert fmt.p_value(0.00001) == "< 0.0001"
    assert fmt.duration(45) == "45 s" and fmt.duration(600) == "10 min" and fmt.duration(3 * 3600) == "3.0 h"


@pytest.mark.parametrize("formatter", [fmt.money, fmt.money_short, fmt.percent, fmt.points, fmt.count, fmt.decimal,
                                       fmt.probability, fmt.p_value, fmt.duration])
@pytest.mark.parametrize("value", [None, math.nan, math.inf, pd.NA])
def test_missing_numbers_show_a_dash(formatter, value):
    assert formatter(value) == "—"


def test_metric_and_outcome_values_follow_their_units():
    assert fmt.metric_value("open_rate", 0.12345) == "12.35%"
    assert fmt.metric_value("revenue", 12.5) == "$12.50"
    assert fmt.metric_value("revenue", 12_345.0) == "$12,345"
    assert fmt.metric_value("revenue", 2_500_000.0) == "$2.5M"
    assert fmt.metric_value("sends", 5300.0) == "5,300"
    assert fmt.metric_value("roi", 0.25) == "+25.0%"
    assert fmt.outcome_value("converted", 0.1234) == "12.34%"
    assert fmt.outcome_value("revenue", 1.234) == "$1.23"
    assert fmt.outcome_value("clicks", 0.5) == "0.500"


def test_times_in_the_viewers_zone():
    moment = datetime(2026, 1, 15, 14, 5, 9, tzinfo=timezone.utc)
    assert fmt.date_time(moment, "America/New_York") == "2026-01-15 09:05 EST"
    assert fmt.date_time(pd.Timestamp("2026-07-15 14:05"), "Europe/Berlin", seconds=True) == "2026-07-15 16:05:00 CEST"
    assert fmt.date_time(pd.NaT, "UTC") == "—"
    assert fmt.clock(moment, "Asia/Tokyo") == "23:05:09"


def test_csv_cells_that_would_run_as_formulas_stay_text():
    from ui.widgets import csv_bytes

    frame = pd.DataFrame({"region": ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)", "\tx", "NYC", None],
                          "change": [-0.5, 1.0, -2.0, 0.0, 3.0, -1.0, float("nan")],
                          "=header": ["a", "b", "c", "d", "e", "f", "g"]})
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)))
    assert list(back.columns) == ["region", "change", "'=header"]
    assert back.region.fillna("").tolist() == ["'=cmd|' /C calc'!A0", "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "NYC", ""]
    assert back.change.tolist()[:6] == frame.change.tolist()[:6]          # numbers stay numbers, signs and all


def test_audit_details_read_as_words():
    """An audit entry's details (JSON) as "key: value · …", whatever form the database hands over."""
    assert fmt.details({"note": "ships Monday", "winner": "treatment"}) == "note: ships Monday · winner: treatment"
    assert fmt.details('{"variants": ["a", "b"], "holdout": 0.1}') == "variants: a, b · holdout: 0.1"
    assert fmt.details({"note": "", "rule": {"alpha": 0.05}}) == 'note: — · rule: {"alpha": 0.05}'
    assert fmt.details({}) == fmt.details(None) == fmt.details(float("nan")) == fmt.MISSING
    assert fmt.details("not json") == "not json"
