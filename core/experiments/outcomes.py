"""What an A/B test measures: the per-member outcomes a test can use as its primary or guardrail
metric, and the unit they are measured on.

The unit of analysis is the member (the unit of randomisation), never the event. A member
counts in a variant's n once the test's campaign sent them something (campaign_members
.first_send_at before the moment analysed and before the test ended): an assignment-based
denominator that does not depend on whether the member reacted, so lost or missing events show
up as a sample-ratio mismatch instead of silently shrinking an arm.

Outcomes are computed in SQL by ab_member_outcomes() (migration 0002); this catalogue gives
each one its label, statistical kind and direction. Binary outcomes are exact as of any past
moment (first_*_at timestamps); totals (clicks, revenue, reward cost) only as of now.

CUPED pre-period (PRE_PERIOD_DAYS before the test's start, from the member's *other* campaigns
in campaign_members — cheap, and never touched by the test):
- binary outcome: 1 when the member first did it in another campaign inside the window
  (first_*_at in [start - PRE_PERIOD_DAYS, start)), else 0;
- totals: the member's totals in other campaigns that first reached them inside the window and
  ended before the test started (so nothing after the start can leak in).
"""
from __future__ import annotations

from dataclasses import dataclass

PRE_PERIOD_DAYS = 28


@dataclass(frozen=True)
class Outcome:
    key: str
    label: str
    kind: str                 # "binomial" (0/1 per member) or "mean" (a value per member)
    unit: str                 # "%" for rates, "count", "USD"
    higher_is_better: bool = True
    help: str = ""


OUTCOMES: dict[str, Outcome] = {o.key: o for o in [
    Outcome("clicked", "Clicked", "binomial", "%", help="share of sent members who clicked at least once"),
    Outcome("opened", "Opened", "binomial", "%", help="share of sent members who opened at least once"),
    Outcome("converted", "Converted", "binomial", "%", help="share of sent members who converted at least once"),
    Outcome("clicks", "Clicks per member", "mean", "count", help="clicks per sent member"),
    Outcome("revenue", "Revenue per member", "mean", "USD", help="conversion revenue per sent member (USD)"),
    Outcome("reward_cost", "Reward cost per member", "mean", "USD", higher_is_better=False,
            help="cashback paid per sent member (USD); lower is better"),
]}


def outcome(key: str) -> Outcome:
    if key not in OUTCOMES:
        raise ValueError(f"Unknown metric {key!r}; choose one of {', '.join(OUTCOMES)}.")
    return OUTCOMES[key]


def format_outcome(key: str, value: float) -> str:
    """A member-level mean in its unit: 12.34 % for rates, $1.23 for money."""
    if value is None or value != value:
        return "–"
    unit = outcome(key).unit
    if unit == "%":
        return f"{value:.2%}"
    if unit == "USD":
        return f"${value:,.2f}"
    return f"{value:,.3f}"
