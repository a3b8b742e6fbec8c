"""Cached data access for the Overview: a period's totals (with reach) against its comparison
period — one statement, period data as ui.shared.period_data keeps it — and what is built from
them once for every session: the table of figures for the CSV, the plain line per KPI and the
biggest movers' tables (from the shared decompositions, ui.why_data). Few, coarse cached calls:
each call costs hashing its arguments, which on this screen came to more than the work they
saved."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from core.analytics import campaigns as analytics
from core.analytics import decomposition
from core.analytics.periods import Period
from ui import format as fmt
from ui import why_data
from ui.data import engine
from ui.errors import remember_last_good
from ui.shared import period_data, shared
from ui.export_tables import overview_table
from ui.why_chart import contribution_text


@dataclass
class OverviewNumbers:
    current: pd.Series
    comparison: pd.Series | None


@remember_last_good  # shown, saying since when, while the database is slow or away
@period_data(max_entries=32)
def overview(first: date, last: date, tz: str, compared_first: date | None, compared_last: date | None) -> OverviewNumbers:
    period = Period(first, last, tz)
    comparison = Period(compared_first, compared_last, tz) if compared_first else None
    summaries = analytics.period_summaries(engine(), period, None, comparison)
    return OverviewNumbers(summaries["current"], summaries.get("comparison"))


@shared(max_entries=32)
def figures(first: date, last: date, tz: str, compared_first: date | None, compared_last: date | None,
            keys: tuple[str, ...]) -> pd.DataFrame:
    """The cards' figures as the CSV download has them (ui.export_tables.overview_table)."""
    numbers = overview(first, last, tz, compared_first, compared_last)
    comparison = Period(compared_first, compared_last, tz) if compared_first else None
    return overview_table(list(keys), numbers.current, numbers.comparison, Period(first, last, tz), comparison)


@dataclass(frozen=True)
class Changes:
    lines: list[str]                # one plain sentence per KPI (not escaped for Markdown)
    movers: dict[str, pd.DataFrame]  # grouping -> the groups that moved the chosen KPI most, as shown


@shared(max_entries=64)
def changes(first: date, last: date, tz: str, compared_first: date, compared_last: date, explained: tuple[str, ...],
            kpi: str, movers_by: tuple[str, ...], top: int) -> Changes:
    """What changed, for every campaign: a sentence per KPI of `explained` (by campaign) and the
    `top` movers of `kpi` per grouping of `movers_by`. Shared by every session: read-only."""
    compared = (first, last, tz, None, compared_first, compared_last)
    return Changes([why_data.summary(*compared, key, "campaign") for key in explained],
                   {by: movers_table(why_data.decomposed(*compared, kpi, by), top) for by in movers_by})


def movers_table(result, top: int) -> pd.DataFrame:
    """The `top` groups that moved the KPI most, as shown."""
    head = result.groups.head(top)
    name = head.label.map(fmt.segment_label) if result.by == "segment" else head.label
    table = pd.DataFrame({
        decomposition.GROUPINGS[result.by]: name.to_numpy(),
        "Before": [fmt.metric_value(result.kpi, v) for v in head.before],
        "Now": [fmt.metric_value(result.kpi, v) for v in head.after],
        "Contribution": [contribution_text(result.kpi, v) for v in head.contribution],
        "Share of change": [fmt.percent(v, 0) for v in head.share_of_change],
        "Beyond noise": ["yes" if v else "no" for v in head.exceeds_noise],
    })
    if result.kind == "ratio":
        table.insert(4, "from mix", [contribution_text(result.kpi, v) for v in head.mix])
        table.insert(5, "from rate", [contribution_text(result.kpi, v) for v in head.rate])
    return table
