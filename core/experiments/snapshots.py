"""The A/B snapshot job and its alerts.

Every run (the worker's "ab_snapshots" job), for each running or paused test:
1. records the assignment of members the campaign reached since the test started and who have
   none yet (same deterministic hash as the sending system), and computes the CUPED covariates
   of assigned members that have none stored yet — once per member, as they depend only on the
   time before the start (ab_pre_period; the summaries read them instead of recomputing);
2. stores the per-variant summary statistics of every outcome for the UTC days that have no
   final snapshot yet — past days as of their end (exact for binary outcomes; totals keep the
   last value stored during that day) and today as of now — so the screen can draw how the
   estimate and its interval moved;
3. analyses the test the way the screen does by default (sequential, CUPED), stores its summary
   (verdict, members, predicted winner; read by the tracker's list of tests, which so never
   analyses every test on a view) and raises alerts — sample-ratio mismatch, guardrail breached,
   decision reached — each at most once per test, and closes the test's open alerts whose
   condition no longer holds (stopping or declaring a test closes all of them).

Safe to run twice (upserts, alerts unique per test and kind) and from two workers at once (an
advisory lock makes the second one skip).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy import Engine

from core.access.audit import record
from core.access.auth import User, action
from core.platform.db import execute, fetch_df
from core.experiments import results as tracker
from core.experiments import verdicts
from core.experiments.outcomes import OUTCOMES, PRE_PERIOD_DAYS
from core.experiments.tests_repo import assign_reached_members, get_test, list_tests, variants_of
from core.platform.jobs import JobOutput, try_exclusive

JOB_NAME = "ab_snapshots"
SNAPSHOT_STATUSES = ("running", "paused")
ALERT_KINDS = {"srm": "Sample-ratio mismatch", "guardrail": "Guardrail breached", "decision": "Decision reached"}


def days_to_store(test: pd.Series, stored: pd.DataFrame, now: datetime) -> list:
    """Days without a final snapshot: missing, stored before the day ended, or the last day."""
    days = tracker.days_of_test(test, now)
    if not days:
        return []
    final = {}
    binary = stored[stored.metric.map(lambda m: OUTCOMES[m].kind == "binomial")] if len(stored) else stored
    if len(binary):
        latest = binary.groupby("snapshot_date").as_of.min()
        final = {day: pd.Timestamp(as_of) >= pd.Timestamp(tracker.utc_day_end(day)) for day, as_of in latest.items()}
    return [day for day in days if day == days[-1] or not final.get(day, False)]


def store_pre_period(db: Engine, test: pd.Series) -> int:
    """Keep the CUPED covariates of the test's members that have none stored; returns how many."""
    with db.begin() as conn:
        return int(execute(conn, "ab_pre_period_fill", test_id=int(test.test_id), pre_days=PRE_PERIOD_DAYS).rowcount)


def store_snapshots(db: Engine, test: pd.Series, now: datetime) -> pd.DataFrame:
    """Store the days without a final snapshot (see days_to_store); returns the rows stored."""
    stored = tracker.snapshot_history(db, int(test.test_id))
    frame = tracker.daily_summaries(db, test, days_to_store(test, stored, now), now)
    if frame.empty:
        return frame
    with db.begin() as conn:
        execute(conn, "ab_snapshots_upsert", test_id=int(test.test_id),
                snapshot_dates=frame.snapshot_date.tolist(), metrics=frame.metric.tolist(),
                variants=frame.variant.tolist(), as_ofs=[pd.Timestamp(t).to_pydatetime() for t in frame.as_of],
                ns=frame.n.astype(int).tolist(), sums=frame["sum"].tolist(), sum_squares=frame.sum_squares.tolist(),
                pre_sums=frame.pre_sum.tolist(), pre_sum_squares=frame.pre_sum_squares.tolist(),
                pre_sum_products=frame.pre_sum_product.tolist())
    return frame


def analyze_snapshot(db: Engine, test_id: int, frame: pd.DataFrame, now: datetime) -> tracker.TrackerResults:
    """Analyse the test by its rule on the rows just stored as of `now` and the exposure of
    this moment, and store the summary with that exposure: tracker.analyze_stored reads the
    same inputs back, so the screen shows what the job alerted on, without aggregating every
    member on every view. Without rows of this moment (nothing reached yet), the live analysis."""
    current = frame[frame.as_of == pd.Timestamp(now)] if len(frame) else frame
    if current.empty:
        outcome = tracker.analyze_test(db, test_id, now=now)
        store_summary(db, outcome, now)
        return outcome
    test = get_test(db, test_id)
    end = pd.Timestamp(now)
    lookback = tracker.lookback_start(test, end)
    exposure = tracker.current_exposure(db, test_id, end, lookback)
    outcome = tracker.analyze_inputs(tracker.AnalysisInputs(
        test, variants_of(db, test_id), current.drop(columns=["snapshot_date", "as_of"]).reset_index(drop=True),
        exposure, end, lookback, as_of=now))
    store_summary(db, outcome, now, exposure=exposure, lookback_from=lookback)
    return outcome


def raise_alert(db: Engine, test: pd.Series, kind: str, message: str, details: dict) -> bool:
    """Record an alert of this kind for the test unless it was raised before; True when new."""
    with db.begin() as conn:
        new = execute(conn, "ab_alert_raise", test_id=int(test.test_id),
                      kind=kind, message=message, details=json.dumps(details, default=str)).one_or_none()
    return new is not None


def close_alerts(db: Engine, test: pd.Series, kinds: list[str], reason: str) -> int:
    """Close the test's open alerts of these kinds; returns how many were open."""
    if not kinds:
        return 0
    with db.begin() as conn:
        return len(execute(conn, "ab_alerts_close", test_id=int(test.test_id), kinds=list(kinds), reason=reason,
                           at=None).all())


def _p(value) -> str:
    return "–" if value is None else f"{value:.2g}"


def alerts_for(outcome: tracker.TrackerResults) -> list[tuple[str, str, dict]]:
    """(kind, message, details) of every alert the results call for."""
    found = []
    name = f"“{outcome.test['name']}”"
    if outcome.srm_detected:
        found.append(("srm", f"{name}: {verdicts.SRM_TEXT} "
                             f"(split p = {_p(outcome.srm_p_value)}, reach p = {_p(outcome.exposure_p_value)})",
                      {"srm_p_value": outcome.srm_p_value, "exposure_p_value": outcome.exposure_p_value,
                       "n_per_arm": outcome.n_per_arm.to_dict()}))
    if len(outcome.guardrails) and outcome.guardrails.breached.any():
        breached = outcome.guardrails[outcome.guardrails.breached]
        found.append(("guardrail", f"{name}: {verdicts.LOSE} — guardrail breached: {', '.join(sorted(set(breached.metric)))}",
                      {"breached": breached[["metric", "variant", "estimate", "best_case_bound"]].to_dict("records")}))
    if outcome.ready_for_decision:
        found.append(("decision", f"{name}: {outcome.verdict}", {"verdict": outcome.verdict,
                                                                   "n_per_arm": outcome.n_per_arm.to_dict()}))
    return found


def store_summary(db: Engine, outcome: tracker.TrackerResults, as_of: datetime, exposure: pd.DataFrame | None = None,
                  lookback_from: pd.Timestamp | None = None) -> None:
    """Keep the test's summary as of this analysis (an older analysis never overwrites a newer),
    with the exposure it read when it analysed stored rows (analyze_snapshot)."""
    winner, probability = outcome.predicted_winner
    if outcome.srm_detected:
        winner, probability = None, None  # with a sample-ratio mismatch no arm's chance means anything
    with db.begin() as conn:
        execute(conn, "ab_test_summary_upsert", test_id=int(outcome.test.test_id), as_of=as_of,
                verdict=outcome.verdict, members=int(outcome.n_per_arm.sum()) if len(outcome.n_per_arm) else 0,
                predicted_winner=winner, winner_probability=probability,
                sample_ratio_mismatch=bool(outcome.srm_detected), ready_for_decision=bool(outcome.ready_for_decision),
                exposure=None if exposure is None else json.dumps(_exposure_rows(exposure)),
                lookback_from=None if lookback_from is None else pd.Timestamp(lookback_from).to_pydatetime())


def _exposure_rows(exposure: pd.DataFrame) -> list[dict]:
    return [{"variant": str(r.variant), "assigned": int(r.assigned), "reached": int(r.reached),
             "reached_before": int(r.reached_before)} for r in exposure.itertuples(index=False)]


def summaries(db) -> pd.DataFrame:
    """Every test's latest stored summary, one row per test analysed so far."""
    return fetch_df(db, "ab_test_summaries_read")


def take_snapshots(db: Engine, now: datetime | None = None) -> JobOutput:
    """The scheduled job (see the module docstring)."""
    now = now or datetime.now(timezone.utc)
    with db.connect() as lock, lock.begin():
        if not try_exclusive(lock, JOB_NAME):
            return JobOutput(skipped=True, detail="another worker is taking the A/B snapshots")
        tests = list_tests(db)
        active = tests[tests.status.isin(SNAPSHOT_STATUSES)]
        rows = assigned = new_alerts = 0
        for test in active.itertuples(index=False):
            test = pd.Series(test._asdict())
            if test.status == "running":
                assigned += assign_reached_members(db, int(test.test_id))
            store_pre_period(db, test)
            frame = store_snapshots(db, test, now)
            rows += len(frame)
            outcome = analyze_snapshot(db, int(test.test_id), frame, now)
            found = alerts_for(outcome)
            for kind, message, details in found:
                new_alerts += raise_alert(db, test, kind, message, details)
            ended = [kind for kind in ALERT_KINDS if kind not in {f[0] for f in found}]
            close_alerts(db, test, ended, "the condition no longer holds")
    return JobOutput(rows=rows, detail=f"{len(active)} tests, {rows} snapshot rows, {assigned} new assignments, "
                                       f"{new_alerts} new alerts")


def open_alerts(db, limit: int = 50) -> pd.DataFrame:
    frame = fetch_df(db, "ab_alerts_open", limit=int(limit))
    frame["kind_label"] = frame.kind.map(ALERT_KINDS)
    return frame


@action("control_test")
def acknowledge_alert(db: Engine, user: User, alert_id: int) -> bool:
    """Mark an alert as seen (managers); audited. False when somebody already acknowledged it."""
    with db.begin() as conn:
        done = execute(conn, "ab_alert_acknowledge", alert_id=int(alert_id), actor=user.email).one_or_none()
        if done is None:
            return False
        record(conn, user, "acknowledge_alert", f"ab_test:{done.test_id}", {"alert_id": int(alert_id), "kind": done.kind})
    return True
