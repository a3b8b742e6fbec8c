"""Checking a run's cards against a planted truth: for each card, the true change in expected
profit per week that its change would bring, computed member by member from a truth function
(the demo's, passed in: core.optimize never imports core.demo), with the card's own weekly
volumes; then per kind the coverage of the cards' 90 % intervals, the share whose sign is right
and the claimed against the true total.

The truth function: profit_per_send(member_ids, segment, send_local_hour, weekday, channel,
category, reward_type, reward_value, cost_per_send) -> expected profit (USD) of one send to each
member. Weekdays are averaged (sends go out on every weekday), and for in-app messages, which
show when the member opens the app, hours are averaged with `session_hour_weights`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.platform.db import fetch_df
from core.optimize import store


def averaged(profit_per_send, session_hour_weights=None):
    """The truth function averaged over weekdays (and, for in-app, over the session hours)."""
    weights = None if session_hour_weights is None else np.asarray(session_hour_weights, float)

    def expected(member_ids, segment, hour, channel, category, reward_type, reward_value, cost_per_send):
        member_ids = np.asarray(member_ids)
        n = len(member_ids)
        if n == 0:
            return np.zeros(0)
        segment = np.broadcast_to(np.asarray(segment), (n,))
        hour = np.broadcast_to(np.asarray(hour), (n,))
        if channel == "in_app" and weights is not None:
            hours = np.arange(24)
            share = weights / weights.sum()
        else:
            hours, share = None, None
        days = np.arange(7)
        if hours is None:
            ids, segs, hh, dd = (np.tile(member_ids, 7), np.tile(segment, 7), np.tile(hour, 7), np.repeat(days, n))
            values = profit_per_send(ids, segs, hh, dd, channel, category, reward_type, reward_value, cost_per_send)
            return np.asarray(values, float).reshape(7, n).mean(axis=0)
        grid_h, grid_d = np.meshgrid(hours, days, indexing="ij")
        k = grid_h.size
        values = profit_per_send(np.tile(member_ids, k), np.tile(segment, k), np.repeat(grid_h.ravel(), n),
                                 np.repeat(grid_d.ravel(), n), channel, category, reward_type, reward_value,
                                 cost_per_send)
        values = np.asarray(values, float).reshape(24, 7, n).mean(axis=1)
        return (share[:, None] * values).sum(axis=0)

    return expected


@dataclass
class CardTruth:
    cards: pd.DataFrame     # one row per card: kind, claimed mean/low/high, true, covered, sign_right
    by_kind: pd.DataFrame   # per kind: cards, coverage, sign_right, claimed_total, true_total


def true_impacts(db, expected, run_id: int | None = None, conversion_factor=None) -> CardTruth:
    """Every open card of the current run (or `run_id`) with its true weekly impact.

    `conversion_factor(campaign_id, member_ids) -> multipliers` (optional): what the world does to
    a campaign's conversion probability beyond the truth function, member by member, from now on
    (the demo's running A/B tests' variants, a planted drop). The expected profit of a send is
    p × margin − cost, so a factor m makes it m × (profit + cost) − cost."""
    run = store.current_run(db)
    run_id = run_id or int(run["run_id"])
    metrics = run["metrics"] if isinstance(run["metrics"], dict) else {}
    cards = fetch_df(db, "opt_recommendations_list", campaign_id=None, kind=None, segment=None)
    campaigns = fetch_df(db, "opt_campaigns").set_index("campaign_id")
    members = fetch_df(db, "opt_members").set_index("member_id")
    outcomes = fetch_df(db, "opt_campaign_member_outcomes")
    audience_of = {c: g.member_id.to_numpy() for c, g in outcomes.groupby("campaign_id")}
    judged_from = (metrics.get("segments") or {}).get("judged_from")
    later_audience = {}
    if judged_from:
        split = pd.Timestamp(judged_from)
        window = metrics.get("window", {})
        later = fetch_df(db, "opt_member_outcomes_split", split=split.to_pydatetime(),
                         since=pd.Timestamp(window.get("since", split - pd.Timedelta(days=120))).to_pydatetime(),
                         until=pd.Timestamp(window.get("as_of", split + pd.Timedelta(days=28))).to_pydatetime())
        later = later[later.later & (later.sends > 0)]
        later_audience = {c: g.member_id.unique() for c, g in later.groupby("campaign_id")}
    best_hours = fetch_df(db, "opt_member_best_hours", run_id=run_id).set_index("member_id").best_hour
    segment_keys = fetch_df(db, "opt_member_segments_read", run_id=run_id).set_index("member_id").segment_key
    offers = fetch_df(db, "opt_offers").set_index("offer_id")
    rows = []
    for card in cards.itertuples():
        details = card.details if isinstance(card.details, dict) else {}
        evidence = details.get("evidence", {})
        change = details.get("change", {})
        c = campaigns.loc[int(card.campaign_id)]
        weekly = float(evidence.get("campaign_weekly_sends") or evidence.get("weekly_sends") or 0.0)
        audience = audience_of.get(int(card.campaign_id), np.zeros(0, int))

        def profit(ids, hour=None, offer=None):
            offer = offer if offer is not None else offers.loc[int(c.offer_id)]
            value = expected(ids, members.segment.reindex(ids).to_numpy(), c.send_hour if hour is None else hour,
                             c.channel, offer.category, offer.reward_type, float(offer.reward_value),
                             float(c.cost_per_send))
            if conversion_factor is None:
                return value
            cost = float(c.cost_per_send)
            return np.asarray(conversion_factor(int(card.campaign_id), np.asarray(ids)), float) * (value + cost) - cost

        per_member_week = weekly / max(len(audience), 1)
        if card.kind == "send_time":
            hours = best_hours.reindex(audience).fillna(c.send_hour).to_numpy(int)
            truth = per_member_week * float((profit(audience, hours) - profit(audience)).sum())
        elif card.kind == "offer":
            new = offers.loc[int(change["after"])]
            truth = per_member_week * float((profit(audience, offer=new) - profit(audience)).sum())
        elif card.kind == "segment_add":
            key = int(change["segment_key"])
            added = segment_keys.index[(segment_keys == key).to_numpy() & ~segment_keys.index.isin(audience)].to_numpy()
            if c.channel == "push":
                added = added[members.notifications_opt_in.reindex(added).fillna(False).astype(bool).to_numpy()]
            per = float(evidence.get("sends_per_member_week", per_member_week))
            truth = per * float(profit(added).sum())
        elif card.kind == "segment_drop":
            key = int(change["segment_key"])
            judged = later_audience.get(int(card.campaign_id), audience)
            dropped = judged[(segment_keys.reindex(judged).to_numpy() == key)]
            truth = -(weekly / max(len(judged), 1)) * float(profit(dropped).sum())
        elif card.kind == "pause":
            truth = -per_member_week * float(profit(audience).sum())
        else:
            truth = np.nan  # a kind without a truth model here
        rows.append({"recommendation_id": int(card.recommendation_id), "campaign_id": int(card.campaign_id),
                     "kind": card.kind, "claimed": float(card.impact_mean), "low": float(card.impact_low),
                     "high": float(card.impact_high), "confidence": float(card.confidence), "true": truth})
    frame = pd.DataFrame(rows, columns=["recommendation_id", "campaign_id", "kind", "claimed", "low", "high",
                                        "confidence", "true"])
    frame["covered"] = (frame["true"] >= frame.low) & (frame["true"] <= frame.high)
    frame["sign_right"] = np.sign(frame["true"]) == np.sign(frame.claimed)
    frame["overstated"] = frame.claimed > frame["true"]
    return summarised(frame)


def summarised(cards: pd.DataFrame) -> CardTruth:
    """The per-kind summary of checked cards (one run's, or several runs' together)."""
    summary = cards.groupby("kind").agg(cards=("claimed", "size"), coverage=("covered", "mean"),
                                        sign_right=("sign_right", "mean"), claimed_total=("claimed", "sum"),
                                        true_total=("true", "sum"), overstated=("overstated", "sum")).reset_index()
    return CardTruth(cards, summary)


def table(result: CardTruth) -> str:
    """The per-kind results as a Markdown table, with a last row over every card."""
    lines = ["| kind | cards | 90 % interval covers truth | sign right | claimed $/week | true $/week | overstated |",
             "|---|---|---|---|---|---|---|"]
    for row in result.by_kind.itertuples():
        lines.append(f"| {row.kind} | {row.cards} | {row.coverage:.0%} | {row.sign_right:.0%} | "
                     f"{row.claimed_total:,.0f} | {row.true_total:,.0f} | {row.overstated} of {row.cards} |")
    total = result.cards
    if len(total):
        lines.append(f"| all | {len(total)} | {total.covered.mean():.0%} | {total.sign_right.mean():.0%} | "
                     f"{total.claimed.sum():,.0f} | {total['true'].sum():,.0f} | {int(total.overstated.sum())} of {len(total)} |")
    return "\n".join(lines)


def evaluate(db, load_demo, expected, as_of, progress=None, conversion_factor=None) -> tuple[CardTruth, dict]:
    """Load the demo into `db` if it is empty (`load_demo(db)`), retrain as of `as_of`, and check
    the cards against `expected` (see `averaged`) and `conversion_factor` (see `true_impacts`).
    Returns the check and the run's metrics."""
    from core.optimize import training
    from core.platform.db import fetch_scalar

    say = progress or (lambda fraction, message: None)
    if fetch_scalar(db, "database_is_empty"):
        say(0.0, "loading the demo")
        load_demo(db)
    outcome = training.retrain(db, as_of=as_of, progress=say, trained_by="evaluate")
    if outcome.skipped:
        raise RuntimeError(f"the retrain skipped: {outcome.detail}")
    say(0.97, "computing each card's true impact from the planted truth")
    return true_impacts(db, expected, outcome.run_id, conversion_factor), {**outcome.metrics, "seconds": outcome.seconds}
