"""Date presets, what each is compared with, and changes that do not mislead.

Presets are days in the viewer's time zone: today, yesterday, the last 7/28/90 days, this and
last week (ISO weeks from Monday, or from the day the viewer chooses), this and last month,
this and last quarter, and the year to date. "This …" runs to today.

Comparisons:
- day windows and weeks are compared weekday for weekday (a Monday with a Monday): the previous
  period is shifted back by whole weeks (core.analytics.periods.comparison_period), "the same
  period last month" is four weeks back, "last year" 52 weeks back;
- calendar units (months, quarters, the year to date) are compared by the calendar: the previous
  unit (a month to date with the same days of the previous month), the same days a month or a
  year earlier; a whole month is compared with the whole other month, whatever its length.
A comparison that would start before periods.EARLIEST_DAY is none.

A change (Change) is said the way its unit wants: rates and ROI in percentage points (ROI
+3.0 % against +366.3 % is -363.3 points, not "-99 %"), counts and money in % and in absolute
terms. Cumulative metrics (reach conversion counts members from each campaign's start) are not
compared between periods: a later period always looks better.
"""
from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from core.analytics.metrics import METRICS
from core.analytics.periods import Period, comparison_period

PRESETS = {
    "today": "Today",
    "yesterday": "Yesterday",
    "last_7_days": "Last 7 days",
    "last_28_days": "Last 28 days",
    "last_90_days": "Last 90 days",
    "this_week": "This week",
    "last_week": "Last week",
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "year_to_date": "Year to date",
}
CALENDAR_PRESETS = {"this_month", "last_month", "this_quarter", "last_quarter", "year_to_date"}
COMPARISONS = {"previous": "Previous period", "last_month": "Same period last month",
               "last_year": "Same period last year", "none": "No comparison"}
WEEK_STARTS = {0: "Monday (ISO)", 6: "Sunday"}
CUMULATIVE = {"reach_conversion"}


def today_in(tz: str, now: datetime | None = None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz)).date()


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def preset_period(preset: str, tz: str, today: date | None = None, week_start: int = 0) -> Period:
    """The local days of a preset; `today` in tz (default: now), weeks starting on
    `week_start` (0 = Monday, as ISO; 6 = Sunday)."""
    if preset not in PRESETS:
        raise ValueError(f"Unknown date preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    if week_start not in range(7):
        raise ValueError(f"week_start={week_start!r}: a weekday number, 0 (Monday) to 6 (Sunday).")
    today = today or today_in(tz)
    day = timedelta(days=1)
    if preset == "today":
        return Period(today, today, tz)
    if preset == "yesterday":
        return Period(today - day, today - day, tz)
    if preset.startswith("last_") and preset.endswith("_days"):
        return Period(today - (int(preset.split("_")[1]) - 1) * day, today, tz)
    week = today - timedelta(days=(today.weekday() - week_start) % 7)
    if preset == "this_week":
        return Period(week, today, tz)
    if preset == "last_week":
        return Period(week - 7 * day, week - day, tz)
    if preset == "this_month":
        return Period(today.replace(day=1), today, tz)
    if preset == "last_month":
        first = _month_start(today, 1)
        return Period(first, _month_end(first), tz)
    if preset == "this_quarter":
        return Period(_quarter_start(today), today, tz)
    if preset == "last_quarter":
        first = _quarter_start(_quarter_start(today) - day)
        return Period(first, _quarter_start(today) - day, tz)
    return Period(date(today.year, 1, 1), today, tz)  # year_to_date


def _shift_months(day: date, months: int, month_end: bool) -> date:
    """The same day of the month `months` earlier (clamped to its length); a month's last day
    stays a month's last day when month_end."""
    first = _month_start(day, months)
    last = _month_end(first)
    return last if month_end else first.replace(day=min(day.day, last.day))


def _calendar_shift(period: Period, months: int) -> Period:
    whole_months = period.first.day == 1 and period.last == _month_end(period.last)
    first = _shift_months(period.first, months, month_end=False)
    last = _shift_months(period.last, months, month_end=whole_months)
    return Period(first, last, period.tz)


def comparison_for(period: Period, kind: str, preset: str | None = None) -> Period | None:
    """The period to compare `period` with (see the module's notes); None for "none" and when
    it would reach before the days this app can show. `preset` says whether the period is a
    calendar unit (compared by the calendar) or a run of days (compared weekday for weekday)."""
    if kind not in COMPARISONS:
        raise ValueError(f"Unknown comparison {kind!r}; choose one of {', '.join(COMPARISONS)}.")
    if kind == "none":
        return None
    try:
        if preset in CALENDAR_PRESETS:
            unit = {"this_month": 1, "last_month": 1, "this_quarter": 3, "last_quarter": 3, "year_to_date": 12}[preset]
            return _calendar_shift(period, {"previous": unit, "last_month": 1, "last_year": 12}[kind])
        if kind == "last_month":
            return Period(period.first - timedelta(weeks=4), period.last - timedelta(weeks=4), period.tz)
        return comparison_period(period, kind)
    except ValueError:  # before EARLIEST_DAY: nothing to compare with
        return None


def versus(period: Period, comparison: Period | None) -> str:
    """The comparison in words, to follow "vs 141 …": "in October 2026", "the week before",
    "on Mon 9 Nov 2026", "in 2 – 15 Nov 2026"; empty without a comparison."""
    if comparison is None:
        return ""
    first, last = comparison.first, comparison.last
    if first.day == 1 and last == _month_end(first):
        return f"in {first:%B %Y}"
    if comparison.days == 7 and period.days == 7 and period.first - first == timedelta(weeks=1):
        return "the week before"
    if first == last:
        return f"on {first:%a} {first.day} {first:%b %Y}"
    start = f"{first.day} {first:%b}" + ("" if first.year == last.year else f" {first.year}")
    return f"in {start} – {last.day} {last:%b %Y}"


@dataclass(frozen=True)
class Change:
    """A metric's change between two periods, as its unit wants it said."""
    key: str
    current: float | None
    previous: float | None

    @property
    def compared(self) -> bool:
        return self.key not in CUMULATIVE and _finite(self.current) and _finite(self.previous)

    @property
    def reason(self) -> str | None:
        """Why there is no change to show, or None."""
        if self.key in CUMULATIVE:
            return "counted from each campaign's start, so not compared between periods"
        if not _finite(self.previous):
            return "nothing to compare with"
        if not _finite(self.current):
            return "no value in this period"
        return None

    @property
    def in_points(self) -> bool:
        """Rates and ROI change in percentage points; counts and money in % and absolute."""
        return METRICS[self.key].unit in ("%", "ratio") if self.key in METRICS else False

    @property
    def absolute(self) -> float:
        """current − previous (for a rate, a fraction: 0.108 is +10.8 points)."""
        return self.current - self.previous if self.compared else math.nan

    @property
    def relative(self) -> float:
        """(current − previous) / |previous| for counts and money; NaN for rates (use points),
        a previous 0 or no comparison."""
        if not self.compared or self.in_points or self.previous == 0:
            return math.nan
        return (self.current - self.previous) / abs(self.previous)

    @property
    def better(self) -> bool | None:
        """Whether the change is good news (None when there is none to judge)."""
        if not self.compared or self.absolute == 0:
            return None
        up = self.absolute > 0
        return up if METRICS.get(self.key) is None or METRICS[self.key].higher_is_better else not up

    def text(self, fmt) -> str:
        """"+10.8 pts", "+4.1% (+$20,103)", "+12 (new)" or "not compared", written by `fmt`
        (ui.format or anything with its functions)."""
        if not self.compared:
            return "not compared"
        if self.in_points:
            return fmt.points(self.absolute)
        unit = METRICS[self.key].unit if self.key in METRICS else "count"
        absolute = fmt.money(self.absolute, signed=True) if unit == "USD" else fmt.decimal(self.absolute, 0, signed=True)
        if self.previous == 0:
            return absolute if self.absolute == 0 else f"{absolute} (from none)"
        return f"{fmt.percent(self.relative, 1, signed=True)} ({absolute})"


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
