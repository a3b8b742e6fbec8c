"""KPI cards: the app's one card layout (Overview, Campaign analytics, the Recommendations cards),
drawn as one HTML block.

Ten st.metric cards in two rows are twelve elements (each card and each row) that the browser
re-renders on every change of campaign, tab or period; as one block they are one. Measured in
Chromium beside the reference page (bench/bench_browser.py, painted time): see the README,
"Issue 15's floors".

Every text is escaped here (labels and help are the app's own, values are written by ui.format),
so nothing from data is markup. A card says its label, its value, and its change against the
comparison period as its unit wants it said (core.analytics.presets.Change: rates and ROI in
points, counts and money in % and absolute), green when the change is good news and red when it
is not, whichever way the number moved (cost going up is red). Its help is the card's tooltip
and the label's (?) mark. A row wraps: each group on one line on a desktop, two cards a line on
a phone (groups of an even size keep the pairs whole)."""
from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.analytics.metrics import METRICS, Metric
from core.analytics.presets import Change
from ui import format as fmt
from ui.format import finite, metric_value

CSS_CLASS = "kpi-cards"
# 8.5rem: two cards fit a phone's 390 px screen and three do not, so a group of 4 or 6 wraps in pairs.
STYLE = """<style>
.kpi-cards {display: flex; flex-direction: column; gap: 0.5rem;}
.kpi-row {display: flex; flex-wrap: wrap; gap: 0.5rem;}
.kpi-card {flex: 1 1 0; min-width: 8.5rem; box-sizing: border-box; padding: 0.75rem 1rem;
  border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; font-family: inherit;}
.kpi-head {font-size: 0.875rem; line-height: 1.4;}
.kpi-label {color: rgb(49, 51, 63); overflow-wrap: anywhere;}
.kpi-help {display: inline-block; margin-left: 0.25rem; width: 1rem; height: 1rem; border-radius: 50%;
  border: 1px solid rgba(49, 51, 63, 0.4); color: rgba(49, 51, 63, 0.6); font-size: 0.7rem; line-height: 0.95rem;
  text-align: center; cursor: help; vertical-align: 0.05rem;}
.kpi-value {font-size: 1.75rem; line-height: 1.3; color: rgb(49, 51, 63); font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere;}
.kpi-delta {display: inline-block; margin-top: 0.25rem; padding: 0.05rem 0.4rem; border-radius: 0.5rem;
  font-size: 0.875rem; font-variant-numeric: tabular-nums; overflow-wrap: anywhere;}
.kpi-delta.good {color: rgb(21, 130, 55); background: rgba(33, 195, 84, 0.1);}
.kpi-delta.bad {color: rgb(200, 30, 30); background: rgba(255, 43, 43, 0.09);}
.kpi-delta.same {color: rgba(49, 51, 63, 0.7); background: rgba(49, 51, 63, 0.06);}
.kpi-note {margin-top: 0.25rem; font-size: 0.8rem; line-height: 1.4; color: rgba(49, 51, 63, 0.6);
  overflow-wrap: anywhere;}
</style>"""


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    delta: str = ""          # "" when the card is not compared
    tone: str = "same"       # good, bad or same: whether the change is good news
    arrow: str = ""          # ↑ or ↓, the way the number moved
    help: str = ""
    note: str = ""           # a line under the value (an interval, a share), in small grey type


def metric_card(key: str, current, previous, not_compared: str | None = None) -> Card:
    """A campaign metric's card: its value and, unless `not_compared` says why not, its change."""
    metric = METRICS[key]
    change = Change(key, finite(current), None if previous is None else finite(previous))
    shown = change.compared and not not_compared
    reason = None if shown else not_compared or change.reason
    help_text = ". ".join(filter(None, [metric.help, f"Not compared: {reason}" if reason else None]))
    if not shown:
        return Card(metric.label, metric_value(key, current), help=help_text)
    tone = {True: "good", False: "bad", None: "same"}[change.better]
    arrow = "↑" if change.absolute > 0 else "↓" if change.absolute < 0 else ""
    return Card(metric.label, metric_value(key, current), change.text(fmt), tone, arrow, help_text)


def count_card(metric: Metric, current) -> Card:
    """A count that is not a campaign metric (the Overview's members reached), never compared."""
    return Card(metric.label, fmt.count(current), help=metric.help or "")


def card_markup(card: Card) -> str:
    label, help_text = html.escape(card.label), html.escape(card.help)
    help_mark = f'<span class="kpi-help" title="{help_text}" aria-label="{help_text}">?</span>' if card.help else ""
    delta = (f'<div><span class="kpi-delta {card.tone}">{html.escape(" ".join(filter(None, [card.arrow, card.delta])))}'
             f"</span></div>" if card.delta else "")
    title = f' title="{help_text}"' if card.help else ""
    note = f'<div class="kpi-note">{html.escape(card.note)}</div>' if card.note else ""
    return (f'<div class="kpi-card"{title}><div class="kpi-head"><span class="kpi-label">{label}</span>{help_mark}</div>'
            f'<div class="kpi-value">{html.escape(card.value)}</div>{delta}{note}</div>')


def markup(rows: list[list[Card]]) -> str:
    body = "".join('<div class="kpi-row">' + "".join(card_markup(card) for card in row) + "</div>" for row in rows)
    return f'{STYLE}<div class="{CSS_CLASS}">{body}</div>'


def draw(rows: list[list[Card]]) -> None:
    """Cards made by the caller, a row per list, as one block."""
    st.html(markup(rows))


def kpi_cards(rows: list[list[str]], current: pd.Series, previous: pd.Series | None,
              not_compared: dict | None = None, other_metrics: dict[str, Metric] | None = None) -> None:
    """The cards, a row per group of keys, the most important first. `not_compared` names cards
    shown without a change, with the reason in their help. `other_metrics` describes count
    cards that are not campaign metrics, never compared."""
    not_compared = not_compared or {}
    other_metrics = other_metrics or {}
    cards = [[count_card(other_metrics[key], current[key]) if key in other_metrics else
              metric_card(key, current[key], None if previous is None else previous[key], not_compared.get(key))
              for key in keys] for keys in rows]
    draw(cards)
