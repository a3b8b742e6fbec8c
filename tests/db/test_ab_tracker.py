"""The A/B test tracker through the database: per-variant summaries against an independent
computation on the per-member rows, the planted demo effects found (winner, null, sample-ratio
mismatch, three variants), deterministic and idempotent assignment, creating a test, the
managers' controls (two simultaneous stops make one), the snapshot job and its alerts."""
from __future__ import annotations

import dataclasses
import json
import threading
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from core.platform import db as core_db
from core import worker
from core.demo import generator as demo
from core.demo import truth as demo_truth
from core.platform import rollup
from core.access.auth import PermissionDenied, User
from core.experiments import assignment, calculator, decisions, results, snapshots, tests_repo, verdicts
from core.experiments.outcomes import OUTCOMES, PRE_PERIOD_DAYS
from core.experiments.stats import analyze
from core.experiments.stats import verdict as engine_verdict
from tests.conftest import BACKENDS, PRIMARY_BACKEND

MANAGER = User("manager@example.com", "Manager", "manager")
OTHER_MANAGER = User("other.manager@example.com", "Other manager", "manager")
ANALYST = User("analyst@example.com", "Analyst", "analyst")
TEST_IDS = {spec["key"]: i for i, spec in enumerate(demo_truth.AB_TESTS, start=1)}
T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)

# Representative parameters for every ab_* query (tests/db/test_queries.py can PARAMS.update() them).
AB_QUERY_PARAMS: dict[str, dict] = {
    "ab_alert_acknowledge": {"alert_id": 1, "actor": "a@example.com"},
    "ab_alert_raise": {"test_id": 1, "kind": "srm", "message": "m", "details": "{}"},
    "ab_alerts_open": {"limit": 5},
    "ab_alerts_close": {"test_id": 1, "kinds": ["srm"], "reason": "r", "at": None},
    "ab_decision_insert": {"test_id": 1, "action": "stop_test", "winner": None, "verdict": "no detectable difference",
                           "against_rule": False, "reason": "", "rule": "{}", "statistics": "{}", "summary": "[]",
                           "decided_by": "a@example.com", "at": None},
    "ab_decisions_for_test": {"test_id": 1},
    "ab_pre_period_fill": {"test_id": 1, "pre_days": 28},
    "ab_test_rule_update": {"test_id": 1, "decision_method": "sequential", "decision_cuped": True, "correction": "holm",
                            "alpha": 0.05, "minimum_detectable_effect": 0.05, "planned_per_arm": None,
                            "guardrail_metrics": [], "changed_by": None, "reason": None},
    "ab_assigned_counts": {"test_id": 1, "before": T0, "as_of": None},
    "ab_assignments_record": {"campaign_id": 1, "test_id": 1, "member_ids": [1, 2], "variants": ["control", "b"]},
    "ab_audit_for_test": {"target": "ab_test:1", "limit": 5},
    "ab_campaign_baseline": {"campaign_id": 1, "recent_days": 14},
    "ab_daily_summary": {"test_id": 1, "pre_days": 28, "first_day": T0.date(), "last_day": T0.date() + timedelta(days=3)},
    "ab_import_next_ids": {"campaign_name": "x"},
    "ab_import_region": {},
    "ab_snapshots_read": {"test_id": 1},
    "ab_snapshots_upsert": {"test_id": 1, "snapshot_dates": [T0.date()], "metrics": ["clicked"],
                            "variants": ["control"], "as_ofs": [T0], "ns": [1], "sums": [0.0], "sum_squares": [0.0],
                            "pre_sums": [0.0], "pre_sum_squares": [0.0], "pre_sum_products": [0.0]},
    "ab_summary": {"test_id": 1, "pre_days": 28, "as_of": None},
    "ab_test_summaries_read": {},
    "ab_test_summary_upsert": {"test_id": 1, "as_of": T0, "verdict": "keep running", "members": 10,
                               "predicted_winner": None, "winner_probability": None,
                               "sample_ratio_mismatch": False, "ready_for_decision": False,
                               "exposure": '[{"variant": "control", "assigned": 5, "reached": 4, "reached_before": 1}]',
                               "lookback_from": T0},
    "ab_results_stored": {"test_id": 1},
    "ab_test_insert": {"campaign_id": 1, "test_name": "t", "hypothesis": "", "primary_metric": "clicked",
                       "guardrail_metrics": [], "minimum_detectable_effect": 0.05, "alpha": 0.05, "status": "draft",
                       "created_by": "a@example.com", "started_at": None, "ended_at": None, "decision": None,
                       "planned_per_arm": None},
    "ab_test_transition": {"test_id": 1, "to_status": "paused", "from_statuses": ["running"], "winner": None,
                           "decision": None, "at": None},
    "ab_test_variants": {"test_ids": [1]},
    "ab_tests_list": {},
    "ab_unassigned_members": {"test_id": 1},
    "ab_variants_insert": {"test_id": 1, "variants": ["x", "y"], "weights": [1.0, 1.0], "control": "x"},
}


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=BACKENDS)
def demo_template(request, backends, demo_data):
    """A database with the small demo loaded, to clone for tests that change it."""
    backend = backends[request.param]
    name = backend.create_database(template=backend.template)
    engine = core_db.make_engine(backend.url(name), pool_size=1)
    demo.load(engine, demo_data)
    rollup.refresh_all(engine)
    engine.dispose()
    return backend, name


@pytest.fixture
def demo_copy(demo_template):
    backend, template = demo_template
    engine = core_db.make_engine(backend.url(backend.create_database(template=template)), pool_size=4)
    yield engine
    engine.dispose()


PLANTED_END = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def planted_db(backends):
    """The demo's experiments at a size where their planted effects are detectable (about 1,000
    to 2,500 reached members per arm); a fixed end keeps the data identical on every run."""
    backend = backends[PRIMARY_BACKEND]
    engine = core_db.make_engine(backend.url(backend.create_database(template=backend.template)), pool_size=2)
    demo.load(engine, demo.generate(seed=11, members=20_000, campaigns=4, days=45, end=PLANTED_END))
    rollup.refresh_all(engine)
    yield engine
    engine.dispose()


def read(engine, sql: str, **params) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(text(sql), params)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


# ----------------------------------------------------------------------------- summaries


def test_outcome_catalogue_matches_the_sql_definitions(db):
    found = read(db, "SELECT metric, kind FROM ab_member_outcomes(now(), now(), now(), 1, 1, 1, '-infinity', 'infinity')")
    assert dict(zip(found.metric, found.kind)) == {key: o.kind for key, o in OUTCOMES.items()}


def independent_units(engine, test_id: int) -> pd.DataFrame:
    """Units of a test with their outcomes and CUPED covariates, computed in pandas from raw rows."""
    test = read(engine, "SELECT * FROM ab_tests WHERE test_id = :t", t=test_id).iloc[0]
    members = read(engine, """SELECT a.member_id, a.variant, cm.* FROM ab_assignments a
                              JOIN campaign_members cm ON cm.campaign_id = a.campaign_id AND cm.member_id = a.member_id
                              WHERE a.test_id = :t""", t=test_id).loc[:, lambda f: ~f.columns.duplicated()]
    end = test.ended_at if pd.notna(test.ended_at) else pd.Timestamp.max.tz_localize("UTC")
    units = members[members.first_send_at.notna() & (members.first_send_at < end)].copy()
    units["clicked"] = (units.first_click_at < end).astype(float)
    units["opened"] = (units.first_open_at < end).astype(float)
    units["converted"] = (units.first_conversion_at < end).astype(float)
    units["clicks"] = units.clicks.astype(float)
    units["revenue"] = units.revenue.astype(float)
    units["reward_cost"] = units.reward_cost.astype(float)

    other = read(engine, """SELECT cm.*, c.ends_at FROM campaign_members cm JOIN campaigns c USING (campaign_id)
                            WHERE cm.campaign_id <> :c""", c=int(test.campaign_id))
    start = pd.Timestamp(test.started_at)
    window = start - pd.Timedelta(days=PRE_PERIOD_DAYS)
    other = other[other.member_id.isin(units.member_id) & (other.first_send_at < start)]
    inside = lambda column: (other[column] >= window) & (other[column] < start)  # noqa: E731
    pre = pd.DataFrame({"member_id": other.member_id,
                        "clicked": inside("first_click_at"), "opened": inside("first_open_at"),
                        "converted": inside("first_conversion_at")})
    finished = (other.ends_at <= start) & (other.first_send_at >= window)
    for column in ("clicks", "revenue", "reward_cost"):
        pre[column] = np.where(finished, other[column].astype(float), 0.0)
    pre = pre.groupby("member_id").agg({"clicked": "max", "opened": "max", "converted": "max", "clicks": "sum",
                                        "revenue": "sum", "reward_cost": "sum"}).astype(float)
    return units.join(pre.add_prefix("pre_"), on="member_id").fillna({f"pre_{m}": 0.0 for m in OUTCOMES})


def test_summary_equals_independent_computation_on_member_rows(demo_db):
    pre_clicks = 0.0
    for test_id in TEST_IDS.values():
        units = independent_units(demo_db, test_id)
        summary = results.current_summary(demo_db, test_id).set_index(["metric", "variant"])
        for metric in OUTCOMES:
            value, pre = units[metric], units[f"pre_{metric}"]
            expected = pd.DataFrame({"n": units.groupby("variant").size(),
                                     "sum": value.groupby(units.variant).sum(),
                                     "sum_squares": (value**2).groupby(units.variant).sum(),
                                     "pre_sum": pre.groupby(units.variant).sum(),
                                     "pre_sum_squares": (pre**2).groupby(units.variant).sum(),
                                     "pre_sum_product": (value * pre).groupby(units.variant).sum()})
            got = summary.xs(metric).loc[expected.index, expected.columns]
            pd.testing.assert_frame_equal(got, expected.astype(float), check_names=False, rtol=1e-9,
                                          obj=f"test {test_id} {metric}")
        pre_clicks += units.pre_clicked.sum()
    # (a test whose segment no other campaign reached before its start has none: the others do)
    assert pre_clicks > 0, "the demo has pre-period clicks to use"


def test_daily_summary_is_the_state_at_the_end_of_each_utc_day(demo_db):
    test_id = TEST_IDS["three_way"]
    test = tests_repo.get_test(demo_db, test_id)
    units = independent_units(demo_db, test_id)
    first = pd.Timestamp(test.started_at).date()
    daily = results.daily_binary_summaries(demo_db, test, first, first + timedelta(days=20))
    for offset in (0, 1, 5, 20):
        day = first + timedelta(days=offset)
        end = pd.Timestamp(results.utc_day_end(day))
        counted = units[units.first_send_at < end]
        for metric, column in (("clicked", "first_click_at"), ("converted", "first_conversion_at")):
            got = daily[(daily.snapshot_date == day) & (daily.metric == metric)].set_index("variant")
            expected_n = counted.groupby("variant").size().reindex(got.index, fill_value=0)
            expected_sum = (counted[column] < end).groupby(counted.variant).sum().reindex(got.index, fill_value=0)
            assert got.n.tolist() == expected_n.tolist(), (day, metric)
            assert got["sum"].tolist() == expected_sum.tolist(), (day, metric)
    # The last day of the series equals the current state of the binary outcomes.
    latest = results.daily_binary_summaries(demo_db, test, first, datetime.now(timezone.utc).date())
    latest = latest[latest.snapshot_date == latest.snapshot_date.max()].set_index(["metric", "variant"])
    now = results.current_summary(demo_db, test_id).set_index(["metric", "variant"]).loc[latest.index]
    pd.testing.assert_series_equal(latest.n, now.n)
    pd.testing.assert_series_equal(latest["sum"], now["sum"])


# ----------------------------------------------------------------------------- planted truth


def test_demo_sample_ratio_mismatch_is_flagged_and_only_there(demo_db):
    for key, test_id in TEST_IDS.items():
        outcome = results.analyze_test(demo_db, test_id)
        if key == "srm":
            # 12 % of the treatment's members lost every event: they were assigned but never reached.
            assert outcome.srm_detected and outcome.exposure_p_value < 1e-4
            assert outcome.verdict == verdicts.SRM_TEXT
            exposure = outcome.exposure.set_index("variant")
            share = exposure.reached / exposure.assigned
            assert share["treatment"] < share["control"] - 0.08
        else:
            assert not outcome.srm_detected, key
            assert "sample ratio" not in outcome.verdict


def test_demo_null_is_not_called_and_no_wrong_decision(demo_db):
    null = results.analyze_test(demo_db, TEST_IDS["null"])
    row = null.primary_rows.iloc[0]
    assert row.ci_low < 0 < row.ci_high and not row.significant
    assert null.decision.kind != "win"
    # ~300 members per arm are too few for an always-valid test to call the planted winners yet;
    # what must never happen is a call in the wrong direction.
    winner = results.analyze_test(demo_db, TEST_IDS["winner"])
    assert winner.verdict in ("win — treatment beats control",) or winner.verdict.startswith("keep running")
    three = results.analyze_test(demo_db, TEST_IDS["three_way"])
    assert three.verdict in ("win — b beats control",) or three.verdict.startswith("keep running")


def test_planted_effects_are_found_at_a_detectable_size(planted_db):
    winner = results.analyze_test(planted_db, TEST_IDS["winner"])
    assert winner.verdict == "win — treatment beats control"                     # sequential: may stop early once significant
    assert winner.predicted_winner[0] == "treatment" and winner.predicted_winner[1] > 0.99
    assert winner.primary_rows.iloc[0].ci_low > 0

    null = results.analyze_test(planted_db, TEST_IDS["null"])
    assert null.decision.kind != "win" and not null.primary_rows.significant.any()
    for method in ("frequentist", "bayesian"):  # other views of the same data: the rule's verdict stays
        assert results.analyze_test(planted_db, TEST_IDS["null"], method=method).verdict == null.verdict

    srm = results.analyze_test(planted_db, TEST_IDS["srm"])
    assert srm.verdict == verdicts.SRM_TEXT and srm.predicted_winner == (None, None)

    # b's planted lift is small enough that the demo's running test decides only late (in its
    # last days at the default size): by now b is ahead and c significantly worse, and the rule
    # never stops on c alone (that would read "no detectable difference" before b is judged).
    three = results.analyze_test(planted_db, TEST_IDS["three_way"])
    rows = three.primary_rows.set_index("variant")
    assert three.verdict == "win — b beats control" or three.verdict.startswith("keep running")
    assert rows.loc["b", "estimate"] > 0 and rows.loc["b", "estimate"] > rows.loc["c", "estimate"]
    assert rows.loc["c", "estimate"] < 0 and rows.loc["c", "adjusted_p_value"] < 0.05   # c loses
    assert three.predicted_winner[0] == "b"


def test_tracker_analysis_equals_engine_on_the_summary(demo_db):
    """The tracker adds nothing to the engine's numbers: same rows, same results."""
    outcome = results.analyze_test(demo_db, TEST_IDS["winner"], method="frequentist", cuped=False)
    summary = results.current_summary(demo_db, TEST_IDS["winner"])
    direct = analyze(summary[summary.metric == "clicked"], metric="binomial", method="frequentist")
    np.testing.assert_allclose(outcome.primary_rows.estimate, direct.estimate)
    np.testing.assert_allclose(outcome.primary_rows.p_value, direct.p_value)


# ----------------------------------------------------------------------------- assignment


def test_assignment_is_deterministic_recorded_once_and_kept(demo_copy):
    declared = {"control": 1.0, "zeta": 1.0, "alpha": 2.0}     # slices of [0, 1) in this order, not alphabetical
    test_id = tests_repo.create_test(demo_copy, MANAGER, campaign_id=6, name="Assign", primary_metric="clicked",
                                     variants=declared)
    weights = tests_repo.weights_of(demo_copy, test_id)
    assert list(weights.items()) == list(declared.items())
    members = list(range(1, 301))
    first = tests_repo.assign_members(demo_copy, test_id, members)
    assert first.new.all()
    assert first.set_index("member_id").variant.loc[members].tolist() == \
        assignment.assign_many(test_id, members, weights).tolist()
    assert tests_repo.assign(demo_copy, test_id, 7) == assignment.assign(test_id, 7, weights)
    again = tests_repo.assign_members(demo_copy, test_id, members)
    assert not again.new.any()
    pd.testing.assert_series_equal(again.set_index("member_id").variant.sort_index(),
                                   first.set_index("member_id").variant.sort_index())
    # New weights do not move anyone already recorded.
    with demo_copy.begin() as conn:
        conn.execute(text("UPDATE ab_variants SET weight = 10 WHERE test_id = :t AND variant = 'zeta'"), {"t": test_id})
    kept = tests_repo.assign_members(demo_copy, test_id, members)
    assert kept.set_index("member_id").variant.sort_index().equals(first.set_index("member_id").variant.sort_index())
    count = read(demo_copy, "SELECT count(*) AS n FROM ab_assignments WHERE test_id = :t", t=test_id).n.iloc[0]
    assert count == len(members)
    tests_repo.control(demo_copy, MANAGER, test_id, "pause_test")
    with pytest.raises(ValueError, match="only a running test assigns"):
        tests_repo.assign_members(demo_copy, test_id, [999])


# ----------------------------------------------------------------------------- creating


def test_create_test_validates_checks_roles_and_audits(demo_copy):
    good = dict(campaign_id=6, name="Subject line", primary_metric="clicked", variants={"control": 50, "treatment": 50},
                guardrail_metrics=["revenue"], minimum_detectable_effect=0.1)
    with pytest.raises(PermissionDenied):
        tests_repo.create_test(demo_copy, ANALYST, **good)
    for change, message in [({"variants": {"control": 1}}, "between 2 and"),
                            ({"variants": {"control": 1, "b": 0}}, "positive"),
                            ({"variants": {"a": 1, "b": 1}}, "control 'control' is not one of"),
                            ({"primary_metric": "happiness"}, "Unknown metric"),
                            ({"guardrail_metrics": ["clicked"]}, "cannot also be a guardrail"),
                            ({"name": " "}, "Give the test a name"),
                            ({"campaign_id": 999}, "no campaign 999")]:
        with pytest.raises(ValueError, match=message):
            tests_repo.create_test(demo_copy, MANAGER, **{**good, **change})
    test_id = tests_repo.create_test(demo_copy, MANAGER, **good, planned_per_arm=1200)
    test = tests_repo.get_test(demo_copy, test_id)
    assert test.status == "running" and pd.notna(test.started_at) and test.planned_per_arm == 1200
    assert list(test.guardrail_metrics) == ["revenue"]
    with pytest.raises(ValueError, match="already has an active test"):
        tests_repo.create_test(demo_copy, MANAGER, **good)
    trail = tests_repo.audit_trail(demo_copy, test_id)
    assert trail.action.tolist() == ["create_test"] and trail.actor.iloc[0] == MANAGER.email


def test_plan_matches_the_power_module_and_the_smallest_arm():
    plan = tests_repo.plan("clicked", 0.10, 0.05, {"control": 1, "treatment": 1}, members_per_day=1000)
    from core.experiments.stats.power import required_sample_size

    assert plan.needed_per_arm == required_sample_size(0.10, 0.05)
    assert plan.needed_total == 2 * plan.needed_per_arm
    assert plan.expected_days == np.ceil(plan.needed_total / 1000)
    uneven = tests_repo.plan("clicked", 0.10, 0.05, {"control": 3, "treatment": 1})
    assert uneven.needed_total == int(np.ceil(uneven.needed_per_arm / 0.25))
    assert tests_repo.plan("clicked", 0.0, 0.05, {"a": 1, "b": 1}).problem


# ----------------------------------------------------------------------------- controls


def test_controls_move_the_status_and_refuse_the_impossible(demo_copy):
    test_id = TEST_IDS["winner"]
    with pytest.raises(PermissionDenied):
        tests_repo.control(demo_copy, ANALYST, test_id, "pause_test")
    with pytest.raises(tests_repo.TransitionRefused, match="running now"):
        tests_repo.control(demo_copy, MANAGER, test_id, "resume_test")
    assert tests_repo.control(demo_copy, MANAGER, test_id, "pause_test").status == "paused"
    assert tests_repo.control(demo_copy, MANAGER, test_id, "resume_test").status == "running"
    with pytest.raises(ValueError, match="Pick the winner"):
        tests_repo.control(demo_copy, MANAGER, test_id, "declare_winner", winner="nobody")
    done = tests_repo.control(demo_copy, MANAGER, test_id, "declare_winner", winner="treatment", note="clear win")
    assert done.status == "completed" and done.ended_at is not None
    test = tests_repo.get_test(demo_copy, test_id)
    assert test.winner == "treatment" and "clear win" in test.decision
    trail = tests_repo.audit_trail(demo_copy, test_id)
    assert trail.action.tolist() == ["declare_winner", "resume_test", "pause_test"]


def test_two_managers_pressing_stop_at_once_make_one_stop(demo_copy):
    test_id = TEST_IDS["null"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def press(user):
        barrier.wait()
        try:
            tests_repo.control(demo_copy, user, test_id, "stop_test")
            outcomes.append("stopped")
        except tests_repo.TransitionRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=press, args=(u,)) for u in (MANAGER, OTHER_MANAGER)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "stopped"]
    stops = read(demo_copy, "SELECT count(*) AS n FROM audit_log WHERE action = 'stop_test' AND target = :t",
                 t=f"ab_test:{test_id}")
    assert stops.n.iloc[0] == 1
    assert tests_repo.get_test(demo_copy, test_id).status == "stopped"


# ----------------------------------------------------------------------------- snapshot job


def test_snapshot_job_stores_each_tests_summary_for_the_list(demo_copy):
    """The tracker's list of tests reads one stored row per test; it says what the full analysis
    said at that moment, and an older analysis never overwrites a newer one."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    snapshots.take_snapshots(demo_copy, now=now)
    stored = snapshots.summaries(demo_copy).set_index("test_id")
    assert set(stored.index) == set(TEST_IDS.values())
    for test_id in TEST_IDS.values():
        live = results.analyze_test(demo_copy, test_id, now=now)
        row = stored.loc[test_id]
        assert row.verdict == live.verdict
        assert row.members == int(live.n_per_arm.sum())
        assert bool(row.sample_ratio_mismatch) == live.srm_detected
        if live.srm_detected:  # no winner is predicted where the split itself is wrong
            assert pd.isna(row.predicted_winner) and pd.isna(row.winner_probability)
        else:
            winner, chance = live.predicted_winner
            assert row.predicted_winner == winner and row.winner_probability == pytest.approx(chance)
    outcome = results.analyze_test(demo_copy, TEST_IDS["winner"], now=now)
    older = verdicts.Verdict(verdicts.KEEP_RUNNING, "keep running — an older verdict")
    snapshots.store_summary(demo_copy, dataclasses.replace(outcome, decision=older),
                            now - timedelta(hours=1))
    assert snapshots.summaries(demo_copy).set_index("test_id").loc[TEST_IDS["winner"]].verdict == outcome.verdict


def test_results_from_the_stored_snapshot_equal_the_live_analysis(demo_copy):
    """The results screen analyses the inputs the snapshot job stored (a few rows whatever the
    number of members): the same verdict, statistics, exposure and plan as the live analysis of
    that moment, in every view; nothing to use before the job ran, nor for a test ended after it
    (the screen then analyses live)."""
    assert results.analyze_stored(demo_copy, TEST_IDS["three_way"]) is None
    now = datetime.now(timezone.utc).replace(microsecond=0)
    snapshots.take_snapshots(demo_copy, now=now)
    for test_id in TEST_IDS.values():
        # The screen reads a test's inputs once and analyses every view from them (issue 15).
        read_once = results.live_inputs(demo_copy, test_id, now=now)
        for method in results.METHODS:
            for cuped in (True, False):
                live = results.analyze_test(demo_copy, test_id, method=method, cuped=cuped, now=now)
                stored = results.analyze_stored(demo_copy, test_id, method=method, cuped=cuped)
                view = results.analyze_inputs(read_once, method=method, cuped=cuped)
                assert (view.verdict, view.problem, view.method, view.cuped, view.as_of) == \
                    (live.verdict, live.problem, method, cuped, None)
                assert view.expected_days_left == pytest.approx(live.expected_days_left)
                pd.testing.assert_frame_equal(view.analysis, live.analysis)
                assert stored is not None and stored.as_of == now and live.as_of is None
                assert stored.verdict == live.verdict and stored.problem == live.problem
                assert stored.n_per_arm.equals(live.n_per_arm) and stored.srm_detected == live.srm_detected
                assert stored.srm_p_value == pytest.approx(live.srm_p_value)
                assert (stored.exposure.reset_index(drop=True).astype({"assigned": int, "reached": int})
                        [["variant", "assigned", "reached"]]
                        .equals(live.exposure.reset_index(drop=True).astype({"assigned": int, "reached": int})
                                [["variant", "assigned", "reached"]]))
                assert stored.needed_per_arm == live.needed_per_arm
                assert stored.expected_days_left == pytest.approx(live.expected_days_left)
                if len(live.analysis):
                    pd.testing.assert_frame_equal(stored.analysis.reset_index(drop=True),
                                                  live.analysis.reset_index(drop=True), check_dtype=False)
    ended = TEST_IDS["three_way"]
    tests_repo.control(demo_copy, MANAGER, ended, "stop_test", note="ended after the snapshot")
    assert results.analyze_stored(demo_copy, ended) is None
    assert results.screen_inputs(demo_copy, ended).as_of is None                 # the screen then reads live


def test_snapshot_job_stores_every_day_raises_alerts_once_and_is_idempotent(demo_copy):
    assert "ab_snapshots" in [job.name for job in worker.SCHEDULE]
    first = snapshots.take_snapshots(demo_copy)
    assert not first.skipped and first.rows > 0
    for test_id in TEST_IDS.values():
        test = tests_repo.get_test(demo_copy, test_id)
        stored = results.snapshot_history(demo_copy, test_id)
        days = results.days_of_test(test, datetime.now(timezone.utc))
        assert sorted(set(stored.snapshot_date)) == days
        assert set(stored[stored.snapshot_date == days[-1]].metric) == set(OUTCOMES)  # today: totals too
    alerts = snapshots.open_alerts(demo_copy)
    assert alerts[alerts.kind == "srm"].test_id.tolist() == [TEST_IDS["srm"]]

    before = results.snapshot_history(demo_copy, TEST_IDS["winner"])
    second = snapshots.take_snapshots(demo_copy)
    assert "0 new alerts" in second.detail
    after = results.snapshot_history(demo_copy, TEST_IDS["winner"])
    columns = ["snapshot_date", "metric", "variant", "n", "sum", "sum_squares", "pre_sum"]
    pd.testing.assert_frame_equal(before[columns], after[columns])
    assert len(snapshots.open_alerts(demo_copy)) == len(alerts)

    # The last stored day gives the same estimate as the live analysis.
    test = tests_repo.get_test(demo_copy, TEST_IDS["winner"])
    series = results.estimate_over_time(test, tests_repo.variants_of(demo_copy, test.test_id),
                                        results.history(demo_copy, test.test_id, "clicked"), "clicked")
    live = results.analyze_test(demo_copy, TEST_IDS["winner"]).primary_rows.iloc[0]
    assert series.iloc[-1].estimate == pytest.approx(live.estimate)
    assert series.iloc[-1].ci_low == pytest.approx(live.ci_low)

    assert snapshots.acknowledge_alert(demo_copy, MANAGER, int(alerts.alert_id.iloc[0]))
    assert not snapshots.acknowledge_alert(demo_copy, MANAGER, int(alerts.alert_id.iloc[0]))
    with pytest.raises(PermissionDenied):
        snapshots.acknowledge_alert(demo_copy, ANALYST, int(alerts.alert_id.iloc[0]))


def test_two_snapshot_jobs_at_once_do_not_duplicate(demo_copy):
    outputs, errors = [], []

    def run():
        try:
            outputs.append(snapshots.take_snapshots(demo_copy))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(outputs) == 2
    counts = read(demo_copy, "SELECT kind, count(*) AS n FROM ab_alerts GROUP BY kind")
    assert (counts.n == 1).all()


def test_job_assigns_members_a_new_test_reaches(demo_copy):
    test_id = tests_repo.create_test(demo_copy, MANAGER, campaign_id=6, name="Late", primary_metric="clicked",
                                     variants={"control": 1, "treatment": 1})
    with demo_copy.begin() as conn:  # pretend the test started with the campaign
        conn.execute(text("UPDATE ab_tests SET started_at = started_at - interval '90 days' WHERE test_id = :t"),
                     {"t": test_id})
    snapshots.take_snapshots(demo_copy)
    reached = read(demo_copy, "SELECT count(*) AS n FROM campaign_members WHERE campaign_id = 6").n.iloc[0]
    assigned = read(demo_copy, "SELECT variant, member_id FROM ab_assignments WHERE test_id = :t", t=test_id)
    assert len(assigned) == reached
    weights = tests_repo.weights_of(demo_copy, test_id)
    assert assigned.variant.tolist() == assignment.assign_many(test_id, assigned.member_id.tolist(), weights).tolist()
    assert not results.analyze_test(demo_copy, test_id).srm_detected


# ----------------------------------------------------------------------------- calculator


def test_calculator_gives_the_engine_answer_and_clear_errors():
    frame = calculator.parse_pasted("variant\tn\tsum\ncontrol\t10000\t1000\nb\t10000\t1150")
    answer = calculator.calculate(frame, method="frequentist")
    direct = analyze(frame, method="frequentist").iloc[0]
    assert answer.analysis.iloc[0].p_value == pytest.approx(direct.p_value)
    assert answer.verdict == "win — b beats control" and not answer.srm_detected
    for pasted, message in [("", "Paste one line"), ("variant,n\na,1\nb,2", "Missing column"),
                            ("variant,n,sum\na,10,x\nb,10,1", "not a number for variant"),
                            ("variant,n,sum,colour\na,1,1,r\nb,1,1,g", "Unknown column")]:
        with pytest.raises(ValueError, match=message):
            calculator.parse_pasted(pasted)
    with pytest.raises(ValueError, match="sum_squares"):
        calculator.calculate(frame, metric="mean")


# ----------------------------------------------------------------------------- issue 12: one verdict, stored


VIEWS = [(method, cuped, difference) for method in results.METHODS for cuped in (True, False)
         for difference in ("relative", "absolute")]


def test_the_verdict_is_the_rules_whatever_the_view(demo_db):
    """Every demo test: every method, CUPED on or off, either lift — one verdict, the rule's, in
    the one vocabulary; only the view's numbers change."""
    for key, test_id in TEST_IDS.items():
        rule = results.analyze_test(demo_db, test_id)
        assert rule.method == "sequential" and rule.cuped            # the pre-registered default
        assert verdicts.kind_of(rule.verdict) in verdicts.VOCABULARY
        estimates = set()
        for method, cuped, difference in VIEWS:
            view = results.analyze_test(demo_db, test_id, method=method, cuped=cuped, difference=difference)
            assert view.verdict == rule.verdict, (key, method, cuped, difference)
            assert view.method == method and view.cuped == cuped
            estimates.add(round(float(view.primary_rows.estimate.iloc[0]), 12))
        assert len(estimates) > 1, key                                # the views do differ
        bayesian = results.analyze_test(demo_db, test_id, method="bayesian")
        exported = results.export_frame(bayesian)
        assert set(exported.verdict) == {rule.verdict} and set(exported.decision_method) == {"sequential"}
        # Rates are fractions in the export, and say so (the screen shows them as percentages).
        clicked = exported[(exported.metric == "clicked") & exported.is_control].iloc[0]
        control = bayesian.summary[(bayesian.summary.metric == "clicked") & (bayesian.summary.variant == bayesian.control)].iloc[0]
        assert clicked.mean_unit == "fraction" and clicked.mean_per_member == pytest.approx(control["sum"] / control.n)
        assert 0 <= clicked.mean_per_member <= 1 and set(exported.lift_unit.dropna()) == {"fraction of control's mean"}


def test_a_rule_with_another_method_decides_by_that_method(demo_copy):
    test_id = TEST_IDS["winner"]
    with pytest.raises(ValueError, match="needs a reason"):
        tests_repo.change_rule(demo_copy, MANAGER, test_id, decision_method="frequentist")
    with pytest.raises(PermissionDenied):
        tests_repo.change_rule(demo_copy, ANALYST, test_id, decision_method="frequentist", reason="x")
    tests_repo.change_rule(demo_copy, MANAGER, test_id, decision_method="frequentist", decision_cuped=False,
                           reason="the sequential plan was never agreed")
    test = tests_repo.get_test(demo_copy, test_id)
    assert (test.decision_method, bool(test.decision_cuped)) == ("frequentist", False)
    assert test.rule_changed_by == MANAGER.email and "never agreed" in test.rule_change_reason
    outcome = results.analyze_test(demo_copy, test_id, method="bayesian")
    summary = results.current_summary(demo_copy, test_id)
    direct = analyze(summary[summary.metric == "clicked"], metric="binomial", method="frequentist")
    expected = verdicts.from_engine(engine_verdict(direct, needed_per_arm=outcome.needed_per_arm)).text
    assert outcome.verdict == expected
    trail = tests_repo.audit_trail(demo_copy, test_id)
    assert trail.action.iloc[0] == "change_rule"
    tests_repo.control(demo_copy, MANAGER, test_id, "stop_test")
    with pytest.raises(tests_repo.TransitionRefused, match="ended"):
        tests_repo.change_rule(demo_copy, MANAGER, test_id, alpha=0.01, reason="too late")


def _more_data_arrive(engine, test_id: int) -> None:
    """Members of the test click and spend more (totals are as of now, whatever the end)."""
    with engine.begin() as conn:
        conn.execute(text("""
            UPDATE campaign_members cm SET clicks = cm.clicks + 3, revenue = cm.revenue + 25
            FROM ab_assignments a
            WHERE a.test_id = :t AND a.campaign_id = cm.campaign_id AND a.member_id = cm.member_id
        """), {"t": test_id})


def test_a_declared_decision_is_stored_and_does_not_move(demo_copy):
    test_id = TEST_IDS["three_way"]
    live = results.analyze_test(demo_copy, test_id)
    tests_repo.control(demo_copy, MANAGER, test_id, "declare_winner", winner="b", note="b reads best")
    stored = decisions.decisions(demo_copy, test_id)
    assert len(stored) == 1
    decision = stored.iloc[0]
    assert decision.action == "declare_winner" and decision.winner == "b" and decision.decided_by == MANAGER.email
    assert decision.verdict == verdicts.at_end(live.decision).text
    assert decision.against_rule == (not verdicts.consistent_winner(verdicts.at_end(live.decision), "b", "control"))
    assert decision.statistics["n_per_arm"] == {k: int(v) for k, v in live.n_per_arm.items()}
    rows = pd.DataFrame(decision.statistics["rows"]).set_index("variant")
    np.testing.assert_allclose(rows.loc[["b", "c"], "estimate"], live.primary_rows.set_index("variant")
                               .loc[["b", "c"], "estimate"])
    before = decisions.decisions(demo_copy, test_id).iloc[0]
    ended = results.analyze_test(demo_copy, test_id)
    assert not decisions.changed_since(before, ended)

    _more_data_arrive(demo_copy, test_id)
    after = decisions.decisions(demo_copy, test_id).iloc[0]
    for column in ("verdict", "statistics", "summary", "rule", "against_rule", "winner"):
        assert after[column] == before[column], column
    assert decisions.changed_since(after, results.analyze_test(demo_copy, test_id))


def test_declaring_against_the_rule_needs_a_reason_and_is_flagged(demo_copy):
    test_id = TEST_IDS["null"]
    verdict = results.analyze_test(demo_copy, test_id).decision
    assert verdict.kind != "win"
    with pytest.raises(ValueError, match="goes against it"):
        tests_repo.control(demo_copy, MANAGER, test_id, "declare_winner", winner="treatment")
    assert tests_repo.get_test(demo_copy, test_id).status == "running"       # nothing changed
    assert decisions.decisions(demo_copy, test_id).empty
    tests_repo.control(demo_copy, MANAGER, test_id, "declare_winner", winner="treatment", note="brand decision")
    decision = decisions.decisions(demo_copy, test_id).iloc[0]
    assert decision.against_rule and decision.reason == "brand decision"
    audit = tests_repo.audit_trail(demo_copy, test_id).iloc[0]
    details = audit.details if isinstance(audit.details, dict) else json.loads(audit.details)
    assert details["against_rule"] is True


def test_alerts_close_when_their_condition_ends_or_the_test_ends(demo_copy):
    snapshots.take_snapshots(demo_copy)
    srm_id = TEST_IDS["srm"]
    assert srm_id in set(snapshots.open_alerts(demo_copy).test_id)
    tests_repo.control(demo_copy, MANAGER, srm_id, "stop_test")
    assert srm_id not in set(snapshots.open_alerts(demo_copy).test_id)
    assert decisions.decisions(demo_copy, srm_id).verdict.tolist() == [verdicts.SRM_TEXT]

    # A condition that no longer holds: a raised decision alert on a test that keeps running.
    test = tests_repo.get_test(demo_copy, TEST_IDS["null"])
    raised = snapshots.raise_alert(demo_copy, test, "decision", "“Blue vs green button”: decided", {})
    assert raised or TEST_IDS["null"] in set(snapshots.open_alerts(demo_copy).test_id)   # the job's own, if decided
    snapshots.take_snapshots(demo_copy)
    still = snapshots.open_alerts(demo_copy)
    outcome = results.analyze_test(demo_copy, TEST_IDS["null"])
    assert (TEST_IDS["null"] in set(still.test_id)) == outcome.ready_for_decision
    closed = read(demo_copy, "SELECT kind, closed_reason FROM ab_alerts WHERE test_id = :t", t=srm_id)
    assert set(closed.closed_reason) == {"the test was stopped"}


def test_a_test_without_members_has_every_control_and_its_stored_plan(demo_copy):
    test_id = tests_repo.create_test(demo_copy, MANAGER, campaign_id=6, name="Empty", primary_metric="clicked",
                                     variants={"control": 1, "treatment": 1}, start=False)
    test = tests_repo.get_test(demo_copy, test_id)
    planned = tests_repo.plan_from_campaign(demo_copy, 6, "clicked", 0.05, {"control": 1, "treatment": 1}, 0.05)
    assert planned and test.planned_per_arm == planned                       # planned once, stored
    outcome = results.analyze_test(demo_copy, test_id)
    assert outcome.needed_per_arm == planned and outcome.smallest_arm == 0
    assert not outcome.srm_judgeable and outcome.predicted_winner == (None, None)
    assert outcome.verdict == "keep running — waiting for members in every arm"
    for action, status in [("start_test", "running"), ("pause_test", "paused"), ("resume_test", "running"),
                           ("pause_test", "paused"), ("stop_test", "stopped")]:
        assert [t.action for t in tests_repo.available_actions(test.status)]
        assert tests_repo.control(demo_copy, MANAGER, test_id, action).status == status
        test = tests_repo.get_test(demo_copy, test_id)
    assert decisions.decisions(demo_copy, test_id).verdict.tolist() == [
        "inconclusive — ended before every arm had members"]


def test_every_verdict_text_is_of_the_vocabulary():
    cases = {"sample ratio mismatch — do not trust the results": "inconclusive",
             "guardrail breached: revenue": "lose", "keep running — 5 more members per arm needed": "keep running",
             "treatment b wins": "win", "treatment treatment wins": "win",
             "control wins — treatment is worse": "lose", "no detectable difference": "no detectable difference"}
    for engine_text, kind in cases.items():
        verdict = verdicts.from_engine(engine_text)
        assert verdict.kind == kind and verdicts.kind_of(verdict.text) == kind
        assert "None" not in verdict.text and "nan" not in verdict.text
    assert verdicts.from_engine("treatment treatment wins").text == "win — treatment beats control"
    assert verdicts.from_engine("keep running — 5 more members per arm needed", ended=True).text == \
        "inconclusive — ended with 5 more members per arm needed"
    answer = calculator.calculate(calculator.parse_pasted("variant,n,sum\ncontrol,100,10\nb,100,12"),
                                  needed_per_arm=1000)
    assert answer.verdict.startswith("keep running — ")
    assert not answer.analysis.astype(str).isin(["None", "nan", "<NA>"]).any().any()


def test_the_proposed_mde_is_the_smallest_the_traffic_reaches_within_a_quarter():
    weights = {"control": 1, "treatment": 1}
    for metric, baseline, sd, per_day in [("clicked", 0.10, None, 300.0), ("clicked", 0.02, None, 40.0),
                                          ("revenue", 2.0, 6.0, 150.0)]:
        mde = tests_repo.reachable_mde(metric, baseline, weights, sd=sd, members_per_day=per_day)
        assert mde is not None
        fits = tests_repo.plan(metric, baseline, mde, weights, sd=sd, members_per_day=per_day)
        assert fits.expected_days <= tests_repo.QUARTER_DAYS
        if mde > 0.005:
            smaller = tests_repo.plan(metric, baseline, round(mde - 0.005, 3), weights, sd=sd, members_per_day=per_day)
            assert smaller.expected_days > tests_repo.QUARTER_DAYS
    assert tests_repo.reachable_mde("clicked", 0.10, weights, members_per_day=0) is None
    assert tests_repo.reachable_mde("clicked", 0.001, weights, members_per_day=0.01) is None


def test_cuped_covariates_are_computed_once_and_read_back(demo_copy):
    """The snapshot job keeps every member's pre-period covariates; the summaries then read them
    (the same numbers as computing them live), and members assigned later are computed live
    until the job keeps theirs too."""
    test_id = TEST_IDS["three_way"]   # its segment had campaigns before it started: covariates to keep
    live = results.current_summary(demo_copy, test_id)
    assert read(demo_copy, "SELECT count(*) AS n FROM ab_pre_period").n.iloc[0] == 0
    snapshots.take_snapshots(demo_copy)
    kept = read(demo_copy, "SELECT count(*) AS n FROM ab_pre_period WHERE test_id = :t", t=test_id).n.iloc[0]
    assigned = read(demo_copy, "SELECT count(*) AS n FROM ab_assignments WHERE test_id = :t", t=test_id).n.iloc[0]
    assert kept == assigned > 0
    columns = ["metric", "variant", *results.SUM_COLUMNS]
    stored = results.current_summary(demo_copy, test_id)
    pd.testing.assert_frame_equal(stored[columns], live[columns], check_exact=False, rtol=1e-12)
    assert stored.pre_sum.abs().sum() > 0
    assert snapshots.store_pre_period(demo_copy, tests_repo.get_test(demo_copy, test_id)) == 0   # once
    # The Citus variant (the function's body written out) keeps the same covariates.
    kept_rows = read(demo_copy, "SELECT * FROM ab_pre_period WHERE test_id = :t ORDER BY member_id", t=test_id)
    with demo_copy.begin() as conn:
        conn.execute(text("DELETE FROM ab_pre_period WHERE test_id = :t"), {"t": test_id})
        conn.execute(core_db.query("citus/ab_pre_period_fill"), {"test_id": test_id, "pre_days": PRE_PERIOD_DAYS})
    pd.testing.assert_frame_equal(
        read(demo_copy, "SELECT * FROM ab_pre_period WHERE test_id = :t ORDER BY member_id", t=test_id), kept_rows)

    # Read back, not recomputed: the members' other campaigns losing their history leaves them.
    with demo_copy.begin() as conn:
        conn.execute(text("""UPDATE campaign_members o SET first_open_at = NULL, first_click_at = NULL,
                                    first_conversion_at = NULL
                             FROM ab_assignments a WHERE a.test_id = :t AND o.member_id = a.member_id
                               AND o.campaign_id <> a.campaign_id"""), {"t": test_id})
    after = results.current_summary(demo_copy, test_id)
    pd.testing.assert_frame_equal(after[["metric", "variant", "pre_sum"]], stored[["metric", "variant", "pre_sum"]])
    # A member whose covariates are not kept yet is computed on the fly (here: to zero now).
    with demo_copy.begin() as conn:
        conn.execute(text("DELETE FROM ab_pre_period WHERE test_id = :t"), {"t": test_id})
    assert results.current_summary(demo_copy, test_id).query("metric == 'clicked'").pre_sum.sum() == 0
