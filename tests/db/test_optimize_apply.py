"""One-click implementation: atomic, audited, refused for non-managers, with a holdout whose
realised impact is measured from events that arrive afterwards (hand-made here)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import text

from core.platform import rollup
from core.access.auth import PermissionDenied, User
from core.platform.db import fetch_df, query, query_names
from core.platform.ingest import copy_frame
from core.optimize import apply as optimize_apply
from core.optimize.apply import RecommendationError
from tests.factories import MEMBER_IDS, events_frame, insert_events, seed_dimensions

T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
# Representative parameters of every queries/opt_*.sql (tests/db/test_queries.py can import
# them as it does AB_QUERY_PARAMS); test_every_optimization_query_runs below runs them all.
OPT_QUERY_PARAMS: dict[str, dict] = {
    "opt_applied_recommendations": {},
    "opt_audience_rule_upsert": {"campaign_id": 1, "segment_key": 1, "segment_name": "s", "action": "include",
                                 "recommendation_id": 1},
    "opt_bench_sizes": {},
    "opt_campaign_audience": {"campaign_id": 1},
    "opt_campaign_lock": {"campaign_id": 1},
    "opt_campaign_member_outcomes": {},
    "opt_offer_changes": {},
    "opt_offer_holdouts": {},
    "opt_campaign_recent": {"day_from": T0.date(), "day_to": (T0 + timedelta(days=28)).date()},
    "opt_campaign_recent_devices": {"day_from": T0.date(), "day_to": (T0 + timedelta(days=28)).date(),
                                    "change_day": (T0 + timedelta(days=21)).date()},
    "opt_campaign_segment_roi_read": {"campaign_id": 1},
    "opt_campaign_update": {"campaign_id": 1, "offer_id": None, "status": "paused", "budget": None},
    "opt_campaigns": {},
    "opt_category_engagement": {"as_of": T0 + timedelta(days=10), "since": T0 - timedelta(days=100),
                                "holdout_from": T0, "half_life_days": 45.0},
    "opt_conversion_values": {"since": T0 - timedelta(days=100), "until": T0 + timedelta(days=10)},
    "opt_current_run": {},
    "opt_current_set": {"run_id": 1},
    "opt_member_best_hours": {"run_id": 1},
    "opt_member_segments_read": {"run_id": 1},
    "opt_member_outcomes_split": {"since": T0 - timedelta(days=100), "split": T0, "until": T0 + timedelta(days=10)},
    "opt_experiment_units": {},
    "opt_holdout_count": {"campaign_id": 1, "recommendation_id": 1},
    "opt_holdouts_create": {"campaign_id": 1, "recommendation_id": 1, "member_ids": [], "share": 0.1},
    "opt_latest_event_time": {},
    "opt_member_activity": {},
    "opt_member_affinity_read": {"member_id": 1},
    "opt_member_ids_sample": {"limit": 5},
    "opt_member_profile_read": {"member_id": 1},
    "opt_member_send_hours_apply": {"campaign_id": 1, "recommendation_id": 1, "run_id": 1},
    "opt_members": {},
    "opt_offer_scores_read": {"campaign_id": 1},
    "opt_offers": {},
    "opt_realised_member_outcomes": {"campaign_id": 1, "recommendation_id": 1, "since": T0, "until": T0 + timedelta(days=7)},
    "opt_realised_upsert": {"campaign_id": 1, "recommendation_id": 1, "days": 7.0, "treated_members": 1,
                            "holdout_members": 1, "enough_data": False, "impact_mean": None, "impact_low": None,
                            "impact_high": None, "detail": "{}"},
    "opt_recommendation_decide": {"recommendation_id": 1, "status": "dismissed", "decided_by": "a@example.com",
                                  "holdout_share": None},
    "opt_recommendation_insert": {"campaign_id": 1, "kind": "pause", "segment": "active", "title": "t", "details": "{}",
                                  "confidence": 0.9, "ease": "easy", "impact_mean": 1.0, "impact_low": 0.5,
                                  "impact_high": 2.0, "run_id": None, "expires_at": T0, "holdout_share": 0.1},
    "opt_recommendation_lock": {"recommendation_id": 1},
    "opt_recommendations_expire": {"run_id": 1},
    "opt_recommendations_history": {"campaign_id": None, "limit": 5},
    "opt_recommendations_list": {"campaign_id": 1, "kind": "offer", "segment": "active"},
    "opt_run_insert": {"started_at": T0, "data_through": T0, "holdout_from": T0, "seconds": 1.0, "trained_by": "t",
                       "metrics": "{}"},
    "opt_runs_prune": {"keep": 3},
    "opt_segment_affinity_read": {},
    "opt_segment_members": {"run_id": 1, "segment_key": 1, "campaign_id": 1, "inside": True},
    "opt_segment_send_time_read": {},
    "opt_segments_read": {"run_id": None},
    "opt_send_cells": {"since": T0 - timedelta(days=100), "until": T0 + timedelta(days=10), "holdout_from": T0},
    "opt_send_time_distribution": {},
    "opt_uplift_read": {"campaign_id": None},
}

MANAGER = User("manager@swipesavvy.example", "Manager", "manager")
ANALYST = User("analyst@swipesavvy.example", "Analyst", "analyst")
EXEC = User("exec@swipesavvy.example", "Executive", "exec")
NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def shop(db):
    """Three campaigns (factories), a second offer, and campaign 1 sent to all 20 members."""
    seed_dimensions(db)
    with db.begin() as conn:
        copy_frame(conn, "offers", pd.DataFrame({"offer_id": [2], "merchant_id": [1], "name": ["$3 back"],
                                                 "reward_type": ["fixed"], "reward_value": [3]}))
    start = NOW - timedelta(days=30)
    insert_events(db, events_frame([(start + timedelta(minutes=m), 1, m, "send") for m in MEMBER_IDS]))
    rollup.refresh_all(db)
    return db


def add_card(db, kind: str, change: dict, campaign_id: int = 1, expires_at=None, run_id=None) -> int:
    with db.begin() as conn:
        conn.execute(query("opt_recommendation_insert"), {
            "campaign_id": campaign_id, "kind": kind, "segment": "active", "title": f"test {kind}",
            "details": json.dumps({"why": "test", "change": change}), "confidence": 0.9, "ease": "easy",
            "impact_mean": 10.0, "impact_low": 1.0, "impact_high": 20.0, "run_id": run_id,
            "expires_at": expires_at or NOW + timedelta(days=1), "holdout_share": 0.1})
        return int(conn.execute(text("SELECT max(recommendation_id) FROM recommendations")).scalar())


def state(db, card_id: int) -> dict:
    with db.connect() as conn:
        return {
            "offer": conn.execute(text("SELECT offer_id FROM campaigns WHERE campaign_id = 1")).scalar(),
            "status": conn.execute(text("SELECT status FROM recommendations WHERE recommendation_id = :i"), {"i": card_id}).scalar(),
            "holdouts": conn.execute(text("SELECT count(*) FROM campaign_holdouts WHERE recommendation_id = :i"), {"i": card_id}).scalar(),
            "audit": conn.execute(text("SELECT count(*) FROM audit_log WHERE target = :t"), {"t": f"recommendation:{card_id}"}).scalar(),
        }


OFFER_SWAP = {"field": "offer_id", "before": 1, "after": 2}


def test_apply_changes_the_campaign_keeps_a_holdout_and_audits(shop):
    card = add_card(shop, "offer", OFFER_SWAP)
    result = optimize_apply.apply(shop, MANAGER, card, holdout_share=0.25)
    after = state(shop, card)
    assert after == {"offer": 2, "status": "applied", "holdouts": len(MEMBER_IDS), "audit": 1}
    with shop.connect() as conn:
        held = conn.execute(text("SELECT count(*) FILTER (WHERE in_holdout) FROM campaign_holdouts "
                                 "WHERE recommendation_id = :i"), {"i": card}).scalar()
        row = conn.execute(text("SELECT actor, role, action, details FROM audit_log WHERE target = :t"),
                           {"t": f"recommendation:{card}"}).mappings().one()
        applied_at, share = conn.execute(text("SELECT applied_at, holdout_share FROM recommendations "
                                              "WHERE recommendation_id = :i"), {"i": card}).one()
    assert held == result["holdout_members"] and 0 < held < len(MEMBER_IDS)
    assert (row["actor"], row["role"], row["action"]) == (MANAGER.email, "manager", "apply_recommendation")
    assert row["details"]["change"] == OFFER_SWAP and row["details"]["holdout_members"] == held
    assert applied_at is not None and share == pytest.approx(0.25)


def test_the_holdout_is_a_random_share_of_the_affected_members(shop):
    with shop.begin() as conn:  # 2,000 more members in campaign 2's audience
        conn.execute(text("INSERT INTO campaign_members (campaign_id, member_id, sends) "
                          "SELECT 2, g, 1 FROM generate_series(1000, 2999) g"))
    card = add_card(shop, "offer", OFFER_SWAP, campaign_id=2)
    result = optimize_apply.apply(shop, MANAGER, card)  # default 10 %
    assert result["affected_members"] == 2000
    assert 160 <= result["holdout_members"] <= 240  # 10 % ± 4 standard errors


@pytest.mark.parametrize("user", [ANALYST, EXEC, None])
def test_non_managers_are_refused_and_nothing_changes(shop, user):
    card = add_card(shop, "offer", OFFER_SWAP)
    before = state(shop, card)
    with pytest.raises(PermissionDenied):
        optimize_apply.apply(shop, user, card)
    with pytest.raises(PermissionDenied):
        optimize_apply.dismiss(shop, user, card)
    assert state(shop, card) == before == {"offer": 1, "status": "proposed", "holdouts": 0, "audit": 0}


def test_apply_is_atomic(shop, monkeypatch):
    card = add_card(shop, "offer", OFFER_SWAP)

    def audit_fails(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(optimize_apply.audit, "record", audit_fails)
    with pytest.raises(RuntimeError):
        optimize_apply.apply(shop, MANAGER, card)
    assert state(shop, card) == {"offer": 1, "status": "proposed", "holdouts": 0, "audit": 0}


def test_a_card_is_applied_once_and_never_when_stale_or_expired(shop):
    card = add_card(shop, "offer", OFFER_SWAP)
    optimize_apply.apply(shop, MANAGER, card)
    with pytest.raises(RecommendationError, match="already applied"):
        optimize_apply.apply(shop, MANAGER, card)
    stale = add_card(shop, "offer", OFFER_SWAP)  # the campaign has offer 2 by now
    with pytest.raises(RecommendationError, match="not 1"):
        optimize_apply.apply(shop, MANAGER, stale)
    assert state(shop, stale)["status"] == "proposed"
    expired = add_card(shop, "offer", {"field": "offer_id", "before": 2, "after": 1}, expires_at=NOW - timedelta(hours=1))
    with pytest.raises(RecommendationError, match="expired"):
        optimize_apply.apply(shop, MANAGER, expired)
    with pytest.raises(RecommendationError, match="holdout share"):
        optimize_apply.apply(shop, MANAGER, add_card(shop, "offer", {"field": "offer_id", "before": 2, "after": 1}), 0.9)


def test_pause_budget_and_audience_cards(shop):
    with shop.begin() as conn:
        conn.execute(text("UPDATE campaigns SET budget = CASE campaign_id WHEN 1 THEN 1000 ELSE 500 END"))
    pause = add_card(shop, "pause", {"field": "status", "before": "live", "after": "paused"})
    optimize_apply.apply(shop, MANAGER, pause, holdout_share=0.0)   # nobody held out: the campaign stops
    budget = add_card(shop, "budget", {"field": "budget", "from_campaign_id": 2, "to_campaign_id": 3, "amount": 125.0,
                                       "before": {"from": 500.0, "to": 500.0}, "after": {"from": 375.0, "to": 625.0}},
                      campaign_id=2)
    result = optimize_apply.apply(shop, MANAGER, budget)
    with shop.connect() as conn:
        status = conn.execute(text("SELECT status FROM campaigns WHERE campaign_id = 1")).scalar()
        budgets = dict(conn.execute(text("SELECT campaign_id, budget::float8 FROM campaigns")).all())
    assert status == "paused"
    assert budgets == {1: 1000.0, 2: 375.0, 3: 625.0}
    assert result["holdout_members"] == 0 and result["holdout_share"] == 0.0


def test_a_pause_with_a_holdout_stops_the_campaign_for_all_but_the_holdout(shop):
    """Paused with a holdout, the campaign stays live for the holdout only: the sender (the
    simulator's applied changes) leaves every other affected member out, so the comparison can
    measure what pausing saves and loses."""
    pause = add_card(shop, "pause", {"field": "status", "before": "live", "after": "paused"})
    result = optimize_apply.apply(shop, MANAGER, pause, holdout_share=0.3)
    with shop.connect() as conn:
        status = conn.execute(text("SELECT status FROM campaigns WHERE campaign_id = 1")).scalar()
    changes = fetch_df(shop, "live_simulator_applied_changes", campaign_ids=[1])
    paused = changes[(changes.kind == "pause") & ~changes.in_holdout.astype(bool)]
    assert status == "live" and 0 < result["holdout_members"] < result["affected_members"]
    assert paused.member_ids.map(len).sum() == result["affected_members"] - result["holdout_members"]


def test_dismiss_is_audited(shop):
    card = add_card(shop, "offer", OFFER_SWAP)
    optimize_apply.dismiss(shop, MANAGER, card, "not this quarter")
    after = state(shop, card)
    assert after["status"] == "dismissed" and after["audit"] == 1 and after["offer"] == 1
    with pytest.raises(RecommendationError):
        optimize_apply.apply(shop, MANAGER, card)


def test_realised_impact_is_measured_against_the_holdout(shop):
    card = add_card(shop, "offer", OFFER_SWAP)
    optimize_apply.apply(shop, MANAGER, card, holdout_share=0.5)
    applied_at = NOW - timedelta(days=14)
    with shop.begin() as conn:
        conn.execute(text("UPDATE recommendations SET applied_at = :t WHERE recommendation_id = :i"), {"t": applied_at, "i": card})
        groups = dict(conn.execute(text("SELECT member_id, in_holdout FROM campaign_holdouts WHERE recommendation_id = :i"),
                                   {"i": card}).all())
    treated = [m for m, held in groups.items() if not held]
    holdout = [m for m, held in groups.items() if held]
    assert len(treated) >= 3 and len(holdout) >= 3
    # After applying: everyone gets 2 sends; treated members convert once for 40 USD (reward 4),
    # half the holdout converts for 20 USD (reward 2). Cost per send of campaign 1: 0.01 USD.
    rows = []
    for i, member in enumerate(groups):
        when = applied_at + timedelta(days=2, minutes=i)
        rows += [(when, 1, member, "send"), (when + timedelta(days=1), 1, member, "send")]
        if member in treated:
            rows.append((when + timedelta(hours=3), 1, member, "conversion", 40.0, 4.0))
        elif holdout.index(member) % 2 == 0:
            rows.append((when + timedelta(hours=3), 1, member, "conversion", 20.0, 2.0))
    insert_events(shop, events_frame(rows))

    too_early = optimize_apply.measure_realised(shop, now=applied_at + timedelta(days=3), min_members=3)
    assert too_early == 1
    with shop.connect() as conn:
        early = conn.execute(text("SELECT enough_data, impact_mean FROM opt_realised_impact WHERE recommendation_id = :i"),
                             {"i": card}).one()
    assert early == (False, None)

    optimize_apply.measure_realised(shop, now=NOW, min_members=3)
    with shop.connect() as conn:
        found = conn.execute(text("SELECT * FROM opt_realised_impact WHERE recommendation_id = :i"), {"i": card}).mappings().one()
    treated_profit = 40 - 4 - 2 * 0.01
    holdout_profits = [(20 - 2 if holdout.index(m) % 2 == 0 else 0) - 2 * 0.01 for m in holdout]
    weeks = (NOW - applied_at).total_seconds() / 86400 / 7
    expected = (treated_profit - sum(holdout_profits) / len(holdout)) * len(treated) / weeks
    assert found["enough_data"] and found["treated_members"] == len(treated) and found["holdout_members"] == len(holdout)
    assert found["impact_mean"] == pytest.approx(expected, rel=1e-6)
    assert found["impact_low"] < found["impact_mean"] < found["impact_high"]
