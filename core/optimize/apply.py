"""One-click implementation of a recommendation, its dismissal, and the measurement of what an
applied recommendation really delivered.

Applying (managers and admins only, checked here): in ONE transaction the card is locked and
checked (still proposed, not expired, the campaign still has the setting the card was computed
for), the campaign is changed, every affected member is recorded in campaign_holdouts with a
random `holdout_share` (default 10 %) kept on the old setting, the card is marked applied, and
the audit log is written. Any failure rolls everything back.

Realised impact: from the events since the card was applied, each affected member's profit
(revenue − reward cost − sends × cost per send) in the treated group against the holdout
(difference in means, core.experiments.stats), scaled to USD per week for the treated members.
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from core.access import audit
from core.access.auth import User, action
from core.platform.db import execute, fetch_df
from core.experiments.stats import analyze
from core.optimize.recommendations import DEFAULT_HOLDOUT_SHARE
from core.optimize.store import to_json

MAX_HOLDOUT_SHARE = 0.5
MIN_REALISED_DAYS = 7.0
MIN_REALISED_MEMBERS = 30
REALISED_ALPHA = 0.10  # 90 % intervals, like the projections


class RecommendationError(ValueError):
    """A card that cannot be applied or dismissed now, with what to do instead."""


def _locked_card(conn, recommendation_id: int) -> dict:
    found = fetch_df(conn, "opt_recommendation_lock", recommendation_id=int(recommendation_id))
    if found.empty:
        raise RecommendationError(f"There is no recommendation #{recommendation_id}; reload the list.")
    card = found.iloc[0].to_dict()
    if card["status"] != "proposed":
        raise RecommendationError(f"Recommendation #{recommendation_id} is already {card['status']}; "
                                  "only proposed recommendations can be applied or dismissed.")
    return card


def _locked_campaign(conn, campaign_id: int) -> pd.Series:
    found = fetch_df(conn, "opt_campaign_lock", campaign_id=int(campaign_id))
    if found.empty:
        raise RecommendationError(f"Campaign {campaign_id} no longer exists.")
    return found.iloc[0]


def _stale(what: str, now, expected) -> RecommendationError:
    return RecommendationError(f"The campaign's {what} is now {now!r}, not {expected!r} as when this card was "
                               "computed; wait for the next retrain's recommendation.")


@action("apply_recommendation")
def apply(db: Engine, user: User, recommendation_id: int, holdout_share: float = DEFAULT_HOLDOUT_SHARE,
          now: datetime | None = None) -> dict:
    """Implement the card; returns what changed (affected and holdout members)."""
    if not 0 <= holdout_share <= MAX_HOLDOUT_SHARE:
        raise RecommendationError(f"The holdout share must be between 0 and {MAX_HOLDOUT_SHARE:.0%} "
                                  f"(got {holdout_share:.0%}).")
    now = now or datetime.now(timezone.utc)
    with db.begin() as conn:
        card = _locked_card(conn, recommendation_id)
        expires = card.get("expires_at")
        if expires is not None and not pd.isna(expires) and pd.Timestamp(expires) < pd.Timestamp(now):
            raise RecommendationError(f"Recommendation #{recommendation_id} expired at {pd.Timestamp(expires):%Y-%m-%d %H:%M} UTC; "
                                      "the next retrain will propose a fresh one.")
        details = card["details"] if isinstance(card["details"], dict) else {}
        change = details.get("change", {})
        kind = card["kind"]
        campaign_id = int(card["campaign_id"])
        campaign = _locked_campaign(conn, campaign_id)
        if kind == "budget":
            holdout_share = 0.0  # a campaign-level change: there are no members to hold out
        affected = _apply_change(conn, kind, card, change, campaign)
        holdout = 0
        if len(affected):
            execute(conn, "opt_holdouts_create", campaign_id=campaign_id, recommendation_id=int(recommendation_id),
                    member_ids=[int(m) for m in affected], share=float(holdout_share))
            holdout = int(fetch_df(conn, "opt_holdout_count", campaign_id=campaign_id,
                                   recommendation_id=int(recommendation_id)).held_out.iloc[0])
        if kind == "pause" and holdout == 0:
            # Nobody keeps receiving it: the campaign itself stops. With a holdout it stays live
            # for the holdout only (the sender leaves the paused members out), so the comparison
            # measures what pausing saves and loses.
            execute(conn, "opt_campaign_update", campaign_id=campaign_id, offer_id=None, status="paused", budget=None)
        if kind == "send_time":
            execute(conn, "opt_member_send_hours_apply", campaign_id=campaign_id,
                    recommendation_id=int(recommendation_id), run_id=int(card["run_id"]))
        execute(conn, "opt_recommendation_decide", recommendation_id=int(recommendation_id), status="applied",
                decided_by=user.email, holdout_share=float(holdout_share))
        summary = {"kind": kind, "campaign_id": campaign_id, "title": card["title"], "change": change,
                   "affected_members": int(len(affected)), "holdout_members": holdout,
                   "holdout_share": float(holdout_share), "expected_impact_per_week": card["impact_mean"]}
        audit.record(conn, user, "apply_recommendation", f"recommendation:{recommendation_id}", summary)
    return summary


def _apply_change(conn, kind: str, card: dict, change: dict, campaign: pd.Series) -> np.ndarray:
    """Change the campaign for this kind of card; returns the affected members."""
    campaign_id = int(campaign.campaign_id)
    audience = lambda: fetch_df(conn, "opt_campaign_audience", campaign_id=campaign_id).member_id.to_numpy()
    if kind == "send_time":
        if int(campaign.send_hour) != int(change.get("before", campaign.send_hour)):
            raise _stale("send hour", int(campaign.send_hour), change.get("before"))
        return audience()
    if kind == "offer":
        if int(campaign.offer_id) != int(change["before"]):
            raise _stale("offer", int(campaign.offer_id), change["before"])
        execute(conn, "opt_campaign_update", campaign_id=campaign_id, offer_id=int(change["after"]), status=None, budget=None)
        return audience()
    if kind == "pause":  # the audience stops receiving it, but for the holdout (see apply)
        if campaign.status != change.get("before", "live"):
            raise _stale("status", campaign.status, change.get("before"))
        return audience()
    if kind in ("segment_drop", "segment_add"):
        key = int(change["segment_key"])
        members = fetch_df(conn, "opt_segment_members", run_id=int(card["run_id"]), segment_key=key,
                           campaign_id=campaign_id, inside=kind == "segment_drop").member_id.to_numpy()
        execute(conn, "opt_audience_rule_upsert", campaign_id=campaign_id, segment_key=key,
                segment_name=change.get("segment_name", f"segment {key}"), action=change["action"],
                recommendation_id=int(card["recommendation_id"]))
        return members
    if kind == "budget":
        source = _locked_campaign(conn, int(change["from_campaign_id"]))
        target = _locked_campaign(conn, int(change["to_campaign_id"]))
        amount = float(change["amount"])
        if abs(float(source.budget) - float(change["before"]["from"])) > 0.005:
            raise _stale("budget", float(source.budget), change["before"]["from"])
        if amount > float(source.budget):
            raise RecommendationError(f"Campaign {source.campaign_id} has only ${float(source.budget):,.2f} of budget; "
                                      f"it cannot give ${amount:,.2f}.")
        execute(conn, "opt_campaign_update", campaign_id=int(source.campaign_id), offer_id=None, status=None,
                budget=float(source.budget) - amount)
        execute(conn, "opt_campaign_update", campaign_id=int(target.campaign_id), offer_id=None, status=None,
                budget=float(target.budget) + amount)
        return np.array([], dtype=np.int64)
    raise RecommendationError(f"Recommendations of kind {kind!r} cannot be applied automatically.")


@action("dismiss_recommendation")
def dismiss(db: Engine, user: User, recommendation_id: int, reason: str = "") -> None:
    with db.begin() as conn:
        card = _locked_card(conn, recommendation_id)
        execute(conn, "opt_recommendation_decide", recommendation_id=int(recommendation_id), status="dismissed",
                decided_by=user.email, holdout_share=None)
        audit.record(conn, user, "dismiss_recommendation", f"recommendation:{recommendation_id}",
                     {"kind": card["kind"], "campaign_id": card["campaign_id"], "title": card["title"],
                      "reason": reason.strip()[:500]})


def measure_realised(db: Engine, now: datetime | None = None, min_days: float = MIN_REALISED_DAYS,
                     min_members: int = MIN_REALISED_MEMBERS) -> int:
    """Measure every applied card with a holdout; returns how many were measured."""
    now = now or datetime.now(timezone.utc)
    cards = fetch_df(db, "opt_applied_recommendations")
    with db.begin() as conn:
        for card in cards.itertuples():
            outcome = realised_impact(conn, card, now, min_days, min_members)
            execute(conn, "opt_realised_upsert", campaign_id=int(card.campaign_id),
                    recommendation_id=int(card.recommendation_id), **outcome)
    return len(cards)


def realised_impact(conn, card, now: datetime, min_days: float, min_members: int) -> dict:
    applied_at = pd.Timestamp(card.applied_at)
    days = max((pd.Timestamp(now) - applied_at).total_seconds() / 86400, 0.0)
    members = fetch_df(conn, "opt_realised_member_outcomes", campaign_id=int(card.campaign_id),
                       recommendation_id=int(card.recommendation_id), since=applied_at.to_pydatetime(), until=now)
    members["profit"] = members.revenue - members.reward_cost - members.sends * float(card.cost_per_send)
    treated = members[~members.in_holdout]
    holdout = members[members.in_holdout]
    enough = days >= min_days and len(treated) >= min_members and len(holdout) >= min_members \
        and (holdout.sends.sum() > 0 or treated.sends.sum() > 0)
    detail = {"treated": _group(treated), "holdout": _group(holdout), "metric": "profit per affected member (USD)"}
    result = {"days": float(days), "treated_members": int(len(treated)), "holdout_members": int(len(holdout)),
              "enough_data": bool(enough), "impact_mean": None, "impact_low": None, "impact_high": None,
              "detail": to_json(detail)}
    if not enough or len(treated) < 2 or len(holdout) < 2:
        return result
    table = pd.DataFrame({"variant": ["holdout", "treated"], "n": [len(holdout), len(treated)],
                          "sum": [holdout.profit.sum(), treated.profit.sum()],
                          "sum_squares": [(holdout.profit ** 2).sum(), (treated.profit ** 2).sum()]})
    compared = analyze(table, metric="mean", control="holdout", difference="absolute", alpha=REALISED_ALPHA).iloc[0]
    weeks = days / 7.0
    scale = len(treated) / weeks
    result.update(impact_mean=float(compared.estimate * scale), impact_low=float(compared.ci_low * scale),
                  impact_high=float(compared.ci_high * scale))
    detail["difference_per_member"] = {"estimate": float(compared.estimate), "low": float(compared.ci_low),
                                       "high": float(compared.ci_high)}
    result["detail"] = to_json(detail)
    return result


def _group(frame: pd.DataFrame) -> dict:
    return {"members": int(len(frame)), "sends": int(frame.sends.sum()), "opens": int(frame.opens.sum()),
            "conversions": int(frame.conversions.sum()), "revenue": float(frame.revenue.sum()),
            "profit": float(frame.profit.sum())}
