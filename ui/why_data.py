""""Why did this change", cached: a KPI's change split by a grouping (core.analytics.decomposition)
and what is drawn of it — the plain sentence, the waterfall and its caption — computed once per
period pair, campaigns, KPI and grouping, and shared by every session and by both screens that
show it (the Overview, a campaign's detail). Each is pandas work of tens of
milliseconds that every rerun would otherwise repeat (ui.shared). They hand out the same
objects to everyone: treat them as read-only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.analytics import decomposition
from core.analytics.decomposition import Decomposition, decompose_frames
from core.analytics.periods import Period
from core.analytics.presets import versus
from ui import data
from ui.shared import shared
from ui import format as fmt
from ui.why_chart import caption, waterfall


@dataclass(frozen=True)
class WhyView:
    summary: str        # the plain sentence, Markdown not escaped yet
    spec: dict          # the waterfall, a Vega-Lite spec (ui.why_chart)
    caption: str


@shared(max_entries=256)
def decomposed(first: date, last: date, tz: str, campaign_ids: tuple[int, ...] | None, compared_first: date,
               compared_last: date, kpi: str, by: str) -> Decomposition:
    before, after, labels = data.grouped(first, last, tz, campaign_ids, compared_first, compared_last, by)
    return decompose_frames(before, after, kpi, by, labels)


@shared(max_entries=256)
def summary(first: date, last: date, tz: str, campaign_ids: tuple[int, ...] | None, compared_first: date,
            compared_last: date, kpi: str, by: str) -> str:
    """The plain sentence about the KPI's change (not escaped for Markdown)."""
    result = decomposed(first, last, tz, campaign_ids, compared_first, compared_last, kpi, by)
    return decomposition.summary(result, fmt, versus(Period(first, last, tz), Period(compared_first, compared_last, tz)))


@shared(max_entries=128)
def why_view(first: date, last: date, tz: str, campaign_ids: tuple[int, ...] | None, compared_first: date,
             compared_last: date, kpi: str, by: str) -> WhyView:
    result = decomposed(first, last, tz, campaign_ids, compared_first, compared_last, kpi, by)
    return WhyView(summary(first, last, tz, campaign_ids, compared_first, compared_last, kpi, by),
                   waterfall(result, tz), caption(result))
