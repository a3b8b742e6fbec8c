"""Jobs are recorded with duration and outcome, retried on failure, and hold a lease while they
work (a run whose worker died is marked abandoned); maintenance creates partitions ahead and
drops raw partitions past retention only once rolled up (and the all-campaigns hourly breakdown
of their days with them)."""
import time
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import text

from core import worker
from core.analytics import campaigns as analytics
from core.analytics.periods import Period
from core.platform import maintenance
from core.platform import rollup
from core.platform.db import execute
from core.platform.jobs import JobOutput, abandon_expired, last_runs, recent_runs, run_job
from tests.factories import events_frame, insert_events, seed_dimensions


def runs(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT job, status, attempt, rows_processed, detail, finished_at IS NOT NULL "
                                 "FROM job_runs ORDER BY run_id")).all()


def test_success_is_recorded_with_rows(db):
    outcome = run_job(db, "demo-job", lambda: JobOutput(rows=7, detail="fine"))
    assert outcome.status == "succeeded"
    assert runs(db) == [("demo-job", "succeeded", 1, 7, "fine", True)]


def test_failures_are_retried_then_recorded(db):
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError(f"boom {len(attempts)}")
        return JobOutput(rows=1)

    outcome = run_job(db, "flaky", flaky, retries=2, backoff_seconds=0.01)
    assert (outcome.status, outcome.attempts) == ("succeeded", 3)
    assert [r[1] for r in runs(db)] == ["failed", "failed", "succeeded"]
    assert "RuntimeError: boom 1" in runs(db)[0][4]


def test_a_job_that_always_fails_does_not_raise(db):
    outcome = run_job(db, "broken", lambda: 1 / 0, retries=1, backoff_seconds=0.01)
    assert outcome.status == "failed" and "ZeroDivisionError" in outcome.detail
    assert [r[1] for r in runs(db)] == ["failed", "failed"]


def test_maintenance_creates_ahead_and_respects_retention(db):
    seed_dimensions(db)
    today = date(2026, 11, 27)
    insert_events(db, events_frame([("2026-01-05T10:00:00Z", 1, 1, "send"), ("2026-11-20T10:00:00Z", 1, 1, "send")]))
    old = "events_p20260105"
    # Not rolled up yet: past retention but kept, so no count is ever lost.
    output = maintenance.maintain(db, today=today, retention_days=30)
    names = [n for n, _ in maintenance.event_partitions(db)]
    assert old in names and "kept 1" in output.detail
    assert f"events_p{(today + timedelta(days=7)):%Y%m%d}" in names
    rollup.refresh_all(db)
    maintenance.maintain(db, today=today, retention_days=30)
    names = [n for n, _ in maintenance.event_partitions(db)]
    assert old not in names
    with db.connect() as conn:  # the rollups keep the dropped day
        assert conn.execute(text("SELECT sends FROM rollup_campaign_day WHERE day = '2026-01-05'")).scalar() == 1
    # A local day across the dropped UTC day's end: its hours there are no longer broken down,
    # for "All campaigns" as for the campaigns one by one (which read the raw events there).
    edge = Period(date(2026, 1, 5), date(2026, 1, 5), "America/New_York")  # 05:00 UTC 5 Jan .. 05:00 UTC 6 Jan
    together, each = analytics.breakdown(db, edge, None), analytics.breakdown(db, edge, [1, 2, 3])
    pd.testing.assert_frame_equal(together, each)
    assert set(together.value) == {"(not broken down)", "push"} and together.sends.eq(1).all()
    again = maintenance.maintain(db, today=today, retention_days=30)  # safe to run twice
    assert again.rows == 0


def test_maintenance_gives_every_table_planner_statistics(db):
    """Where autovacuum is off (this machine's server) nothing else analyzes the rollups, members
    or campaign_members: without statistics the planner guesses their sizes."""
    seed_dimensions(db)
    insert_events(db, events_frame([("2026-11-20T10:00:00Z", 1, 1, "send"), ("2026-11-20T11:00:00Z", 1, 2, "open")]))
    rollup.refresh_all(db)
    tables = ["members", "campaigns", "campaign_members", "rollup_campaign_hour", "rollup_campaign_day",
              "rollup_breakdown_day"]
    never = "SELECT relname FROM pg_class WHERE relname = ANY(:t) AND reltuples < 0 ORDER BY relname"
    maintenance.maintain(db, today=date(2026, 11, 27), retention_days=30)
    with db.connect() as conn:
        assert conn.execute(text(never), {"t": tables}).scalars().all() == []


def test_worker_once_runs_every_scheduled_job(db):
    seed_dimensions(db)
    insert_events(db, events_frame([("2026-11-20T10:00:00Z", 1, 1, "send")]))
    outcomes = worker.run_once(db, ["rollup", "maintenance"])
    assert {o.job: o.status for o in outcomes} == {"rollup": "succeeded", "maintenance": "succeeded"}
    assert outcomes[0].rows == 1


def start_run_of_a_worker_that_dies(engine, job: str, worker: str, lease_seconds: float) -> int:
    """A run as a worker starts it, which then never renews its lease (killed with -9)."""
    with engine.begin() as conn:
        return execute(conn, "job_run_start", job=job, worker=worker, attempt=1, lease_seconds=lease_seconds).scalar()


def test_a_run_that_renews_its_lease_is_never_abandoned(db):
    found = []

    def longer_than_its_lease():
        for _ in range(8):
            time.sleep(0.25)
            found.extend(abandon_expired(db))
        return JobOutput(rows=1)

    outcome = run_job(db, "long", longer_than_its_lease, lease_seconds=0.6, heartbeat_seconds=0.1)
    assert outcome.status == "succeeded" and found == []
    assert runs(db) == [("long", "succeeded", 1, 1, "", True)]


def test_the_next_run_abandons_the_runs_of_a_dead_worker_and_the_system_view_shows_it(db):
    dead = start_run_of_a_worker_that_dies(db, "rollup", "gone-host:4242", lease_seconds=0.3)
    alive = start_run_of_a_worker_that_dies(db, "retrain", "busy-host:7", lease_seconds=600)
    time.sleep(0.5)
    run_job(db, "brin_summarize", lambda: JobOutput(detail="fine"))
    with db.connect() as conn:
        status = dict(conn.execute(text("SELECT run_id, status FROM job_runs")).all())
        finished_at, heartbeat_at = conn.execute(text("SELECT finished_at, heartbeat_at FROM job_runs "
                                                      "WHERE run_id = :r"), {"r": dead}).one()
    assert status[dead] == "abandoned" and status[alive] == "running"  # a live lease is left alone
    assert finished_at == heartbeat_at
    latest = last_runs(db).set_index("job")
    assert latest.loc["rollup", "status"] == "abandoned" and latest.loc["rollup", "failures_last_day"] == 1
    assert "gone-host:4242 stopped renewing its lease" in latest.loc["rollup", "detail"]
    assert "abandoned" in recent_runs(db).status.tolist()


def test_the_worker_abandons_dead_runs_when_it_starts(db, monkeypatch):
    dead = start_run_of_a_worker_that_dies(db, "rollup", "gone-host:4242", lease_seconds=0.1)
    time.sleep(0.3)
    monkeypatch.setattr(worker, "SCHEDULE", [])  # no job runs: only the start-up check can mark it
    monkeypatch.setattr(worker.signal, "signal", lambda *args: None)  # keep pytest's own Ctrl-C
    worker.run_forever(db, stop_after_seconds=0.3)
    with db.connect() as conn:
        assert conn.execute(text("SELECT status FROM job_runs WHERE run_id = :r"), {"r": dead}).scalar() == "abandoned"


def test_a_worker_that_starts_soon_after_a_job_ran_waits_for_its_interval(db, monkeypatch):
    """`make run` trains the first models during the demo load, then starts the worker: the
    worker must not retrain at once (minutes of CPU while the first person opens the app). A job
    whose last run succeeded, or whose work was done otherwise (done_at), less than its interval
    ago waits for the rest of it; a job that never ran, or last failed, runs at once."""
    from datetime import datetime, timedelta, timezone

    calls: list[str] = []
    trained_at = datetime.now(timezone.utc) - timedelta(minutes=10)
    schedule = [worker.ScheduledJob(name, 3600, lambda db, name=name: calls.append(name) or JobOutput(), done_at=done)
                for name, done in (("ran", None), ("trained_at_load", lambda db: trained_at), ("never_ran", None),
                                   ("failed", None), ("ran_long_ago", lambda db: trained_at - timedelta(hours=2)))]
    run_job(db, "ran", lambda: JobOutput())
    run_job(db, "failed", lambda: 1 / 0, retries=0)
    monkeypatch.setattr(worker, "SCHEDULE", schedule)
    waits = worker.first_due_in(db)
    assert set(waits) == {"ran", "trained_at_load", "ran_long_ago"}
    assert 3500 < waits["ran"] <= 3600 and waits["trained_at_load"] == pytest.approx(3000, abs=60)
    assert waits["ran_long_ago"] == 0
    monkeypatch.setattr(worker.signal, "signal", lambda *args: None)  # keep pytest's own Ctrl-C
    worker.run_forever(db, stop_after_seconds=1.0)
    assert sorted(calls) == ["failed", "never_ran", "ran_long_ago"]


def test_the_demo_loads_first_training_counts_as_the_retrains_last_run(db):
    """The retrain's work is done when a model run exists, whoever trained it."""
    assert worker.latest_model_run_at(db) is None
    retrain = next(job for job in worker.SCHEDULE if job.name == "retrain")
    assert retrain.done_at is worker.latest_model_run_at


def test_a_job_due_from_its_start_runs_every_interval_however_long_it_takes(db, monkeypatch):
    """The rollup counts its interval from a run's start (its lag is two starts apart plus one
    run); other jobs from a run's end, as before."""
    starts: dict[str, list[float]] = {"from_start": [], "from_end": []}

    def work(name):
        starts[name].append(time.monotonic())
        time.sleep(0.8)
        return JobOutput()

    monkeypatch.setattr(worker, "SCHEDULE", [
        worker.ScheduledJob("from_start", 1.0, lambda db: work("from_start"), from_start=True),
        worker.ScheduledJob("from_end", 1.0, lambda db: work("from_end"))])
    monkeypatch.setattr(worker.signal, "signal", lambda *args: None)  # keep pytest's own Ctrl-C
    worker.run_forever(db, stop_after_seconds=3.7)
    gap = lambda times: [b - a for a, b in zip(times, times[1:])]
    assert len(starts["from_start"]) >= 3 and max(gap(starts["from_start"])) < 1.6
    assert len(starts["from_end"]) >= 2 and min(gap(starts["from_end"])) >= 1.8
