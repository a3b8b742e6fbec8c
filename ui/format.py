"""How the app writes things on screen, in one place so that every screen and export says them
the same way: money, percentages, percentage points, counts, probabilities, p-values,
durations, times in the viewer's zone, a missing value ("—") and the colours (charts: ui.vega).

And the one way text that came from people or data (test names, hypotheses, notes, variant,
campaign, segment and region names, imported strings, messages that quote them) goes into
Markdown: escape_markdown(). Streamlit renders Markdown in st.markdown, captions, alerts,
titles, tab, expander and widget labels, radio and segmented-control options, metric values and
deltas and st.table cells; there such text must read as the characters it is — no link, image,
HTML, colour, emoji, icon or formula. Our own prose stays Markdown on purpose.
"""
from __future__ import annotations

import json
import math
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from core.analytics.metrics import METRICS
from core.experiments.outcomes import OUTCOMES

MISSING = "—"

# Chart colours shared by every screen.
BLUE, GREY, GREEN, RED = "#2563eb", "#94a3b8", "#16a34a", "#dc2626"


def is_missing(value) -> bool:
    """None, NaN, NA and NaT (not empty text)."""
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array is not a missing value
        return False


def finite(value) -> float | None:
    """The value as a float, or None when it is missing (None, NaN, NA, NaT) or infinite."""
    if is_missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --- numbers -----------------------------------------------------------------------------------

def money(value, digits: int = 0, signed: bool = False) -> str:
    """$1,234 (digits=0), -$1,234.50 (digits=2); signed adds + to gains."""
    number = finite(value)
    if number is None:
        return MISSING
    sign = "-" if number < 0 else ("+" if signed and number > 0 else "")
    return f"{sign}${abs(number):,.{digits}f}"


def money_short(value) -> str:
    """Money for a tile: $950, $12,345, $1.2M, $3.4B."""
    number = finite(value)
    if number is None:
        return MISSING
    for size, suffix in ((1e9, "B"), (1e6, "M")):
        if abs(number) >= size:
            return f"{'-' if number < 0 else ''}${abs(number) / size:,.1f}{suffix}"
    return money(number)


def percent(value, digits: int = 1, signed: bool = False) -> str:
    """A fraction as a percentage: 0.1234 -> 12.3%."""
    number = finite(value)
    if number is None:
        return MISSING
    return f"{number:+.{digits}%}" if signed else f"{number:.{digits}%}"


def points(value, digits: int = 1) -> str:
    """A difference of two rates (as fractions) in percentage points: 0.108 -> +10.8 pts."""
    number = finite(value)
    if number is None:
        return MISSING
    return f"{number * 100:+.{digits}f} pts"


def count(value) -> str:
    number = finite(value)
    return MISSING if number is None else f"{round(number):,}"


def decimal(value, digits: int = 2, signed: bool = False) -> str:
    number = finite(value)
    if number is None:
        return MISSING
    return f"{number:+,.{digits}f}" if signed else f"{number:,.{digits}f}"


def probability(value) -> str:
    """A probability as a percentage that never claims certainty: > 99.9 %, 87.3 %, < 0.1 %."""
    number = finite(value)
    if number is None:
        return MISSING
    if number > 0.999:
        return "> 99.9 %"
    if number < 0.001:
        return "< 0.1 %"
    return f"{number * 100:.1f} %"


def p_value(value) -> str:
    number = finite(value)
    if number is None:
        return MISSING
    return "< 0.0001" if number < 1e-4 else f"{number:.4f}"


def duration(seconds) -> str:
    """45 s, 12 min, 3.4 h."""
    number = finite(seconds)
    if number is None:
        return MISSING
    if number < 120:
        return f"{number:.0f} s"
    if number < 7200:
        return f"{number / 60:.0f} min"
    return f"{number / 3600:.1f} h"


def metric_value(key: str, value, full: bool = False) -> str:
    """A campaign metric (core.analytics.metrics) in its unit: as on the KPI cards (money from
    $1,000 shortened, ROI signed), or `full` for a table cell (rates to 0.01 %, ROI to 0.1 %, money
    to the cent)."""
    number = finite(value)
    if number is None:
        return MISSING
    unit = METRICS[key].unit if key in METRICS else "count"
    if unit == "%":
        return percent(number, 2)
    if unit == "USD":
        return money(number, 2) if full or abs(number) < 1000 else money_short(number)
    if unit == "ratio":
        return percent(number, 1, signed=not full)
    return count(number)


def metric_in_full(key: str, value) -> str:
    """metric_value for a table cell (full)."""
    return metric_value(key, value, full=True)


def outcome_value(key: str, value) -> str:
    """An A/B outcome's member-level mean (core.experiments.outcomes) in its unit: 12.34% for
    rates, $1.23 for money, 0.123 for counts per member."""
    number = finite(value)
    if number is None:
        return MISSING
    unit = OUTCOMES[key].unit
    if unit == "%":
        return percent(number, 2)
    if unit == "USD":
        return money(number, 2)
    return decimal(number, 3)


def details(value) -> str:
    """An audit entry's details (a JSON object) as plain words: "note: ships Monday · winner:
    treatment"; lists joined with commas, an empty object or none as "—"."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, (dict, list)) and not value:
        return MISSING
    if not isinstance(value, dict):
        return MISSING if is_missing(value) else str(value)

    def word(item) -> str:
        if isinstance(item, (list, tuple)):
            return ", ".join(word(i) for i in item)
        if isinstance(item, dict):
            return json.dumps(item, ensure_ascii=False, default=str)
        return MISSING if is_missing(item) or item == "" else str(item)

    return " · ".join(f"{key}: {word(item)}" for key, item in value.items())


def segment_label(value) -> str:
    """A segment key as words: lunch_break -> lunch break."""
    return MISSING if is_missing(value) else str(value).replace("_", " ")


def channel_label(value) -> str:
    """A channel key as written: push_notification -> push-notification."""
    return MISSING if is_missing(value) else str(value).replace("_", "-")


# --- times -------------------------------------------------------------------------------------

def date_time(value, tz: str, seconds: bool = False) -> str:
    """A moment in the viewer's zone, with the zone's abbreviation: 2026-11-02 09:05 EST.
    Naive values are taken as UTC (the database's zone)."""
    if is_missing(value):
        return MISSING
    moment = pd.Timestamp(value)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment
    local = moment.tz_convert(ZoneInfo(tz))
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def clock(value: datetime, tz: str) -> str:
    """The time of day in the viewer's zone: 14:05:09."""
    return value.astimezone(ZoneInfo(tz)).strftime("%H:%M:%S")


# --- text in Markdown --------------------------------------------------------------------------

# Every ASCII punctuation character: CommonMark lets a backslash turn each into plain text, which
# stops emphasis, links and images, headings, lists, quotes, tables, code, HTML, entities,
# Streamlit's :colour[...] directives and $ / $$ formulas.
_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
# Some Markdown plugins read the text after escapes are resolved: emoji and icon shortcodes
# (:smile:, :material/home:) and bare links (http://…, www.…, name@host.example). An invisible
# zero-width space breaks those patterns without changing what the reader sees.
_ZERO_WIDTH_SPACE = "\u200b"
_AFTER_ESCAPED = {
    "shortcode": re.compile(r"(\\:)(?=[\w+\-/\\]+\\:)"),
    "link": re.compile(r"(\\:)(?=\\/\\/)"),
    "www": re.compile(r"(?i)(www)(?=\\\.)"),
    "e-mail": re.compile(r"(\\@)"),
}


def escape_markdown(value) -> str:
    """Text from people or data, safe to put into Markdown: it shows as exactly these
    characters (line breaks become spaces). None and NaN show as "—"."""
    if is_missing(value):
        return MISSING
    text = " ".join(str(value).split())
    text = _PUNCTUATION.sub(r"\\\1", text)
    for pattern in _AFTER_ESCAPED.values():
        text = pattern.sub(r"\1" + _ZERO_WIDTH_SPACE, text)
    return text
