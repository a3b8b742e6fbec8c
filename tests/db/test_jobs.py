"""Jobs are recorded with duration and outcome, retried on failure; maintenance creates
partitions ahead and drops raw partitions past retention only once rolled up."""
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from core import worker
from core.platform import maintenance
from core.platform import rollup
from core.platform.jobs import JobOutput, run_job
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
    again = maintenance.maintain(db, today=today, retention_days=30)  # safe to run twice
    assert again.rows == 0


def test_worker_once_runs_every_scheduled_job(db):
    seed_dimensions(db)
    insert_events(db, events_frame([("2026-11-20T10:00:00Z", 1, 1, "send")]))
    outcomes = worker.run_once(db, ["rollup", "maintenance"])
    assert {o.job: o.status for o in outcomes} == {"rollup": "succeeded", "maintenance": "succeeded"}
    assert outcomes[0].rows == 1
