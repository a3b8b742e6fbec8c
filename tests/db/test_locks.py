"""Locks that outlive their reason: a killed worker's advisory lock dies with it, a long read (what
a retrain does) beside partition maintenance does not hold up the roller, the retrain keeps no
transaction open while it computes, a retrain stopped with its transaction open at each step
(inputs, publish) never makes a rollup wait, and it runs in a child process at lower CPU priority."""
from __future__ import annotations

import os
import subprocess
import sys
import types
import threading
import time
import traceback
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from core import worker
from core.optimize import inputs, training
from core.platform import config, maintenance, rollup
from core.platform.db import fetch_scalar
from core.platform.jobs import JobOutput, abandon_expired, lock_key, run_job
from tests.factories import events_frame, insert_events, seed_dimensions

ROOT = Path(__file__).resolve().parents[2]

# A worker in another process: inside a recorded job run it takes the rollup's advisory lock and
# then runs a long statement, as a rollup of a big batch does, until it is killed.
KILLED_WORKER = """
import sys
from core.platform.db import fetch_scalar, make_engine
from core.platform.jobs import JobOutput, run_job
from core.platform.rollup import ROLLUP_LOCK_KEY

db = make_engine(sys.argv[1], pool_size=2)

def rollup_that_takes_long():
    with db.connect() as conn, conn.begin():
        assert fetch_scalar(conn, "advisory_try_lock", lock_key=ROLLUP_LOCK_KEY)
        print("locked", flush=True)
        conn.exec_driver_sql("SELECT pg_sleep(600)")
    return JobOutput()

run_job(db, "rollup", rollup_that_takes_long, retries=0, lease_seconds=float(sys.argv[2]), heartbeat_seconds=0.3)
"""


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_a_killed_workers_lock_dies_with_it_and_its_run_is_abandoned(db):
    seed_dimensions(db)
    insert_events(db, events_frame([("2026-11-20T10:00:00Z", 1, 1, "send"), ("2026-11-20T10:01:00Z", 1, 2, "send")]))
    lease = 2.0
    child = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, url_of(db), str(lease)], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        assert rollup.refresh(db).skipped  # the lock is held: a second roller skips
        time.sleep(lease + 1)  # longer than the lease: only the heartbeat keeps the run alive
        assert abandon_expired(db) == []
        assert scalar(db, "SELECT status FROM job_runs WHERE job = 'rollup'") == "running"
    finally:
        child.kill()  # kill -9: no clean-up of any kind in the worker
        child.wait()
    killed_at = time.monotonic()
    while (result := rollup.refresh(db)).skipped:
        assert time.monotonic() - killed_at < 10, "the killed worker's session still holds the rollup lock"
        time.sleep(0.2)
    assert result.events == 2

    time.sleep(lease)  # the dead run's lease runs out; the next run of any job abandons it
    run_job(db, "maintenance-check", lambda: JobOutput(detail="fine"))
    with db.connect() as conn:
        status, detail, finished_at, heartbeat_at = conn.execute(text(
            "SELECT status, detail, finished_at, heartbeat_at FROM job_runs WHERE job = 'rollup'")).one()
    assert status == "abandoned"
    assert f":{child.pid} stopped renewing its lease" in detail
    assert finished_at == heartbeat_at  # it ended, unseen, after its last sign of life


def test_a_long_read_beside_partition_maintenance_does_not_hold_up_the_roller(db):
    """What a retrain did: a long REPEATABLE READ transaction over events (ACCESS SHARE on events
    and its partitions). Maintenance then asks for ACCESS EXCLUSIVE on events to add partitions;
    before, that request waited for the reader, and the roller's wait for writers queued behind it
    until its lock timeout. Now maintenance gives up after DDL_LOCK_TIMEOUT_MS and the rollup
    goes through within one interval."""
    assert maintenance.DDL_LOCK_TIMEOUT_MS < config.ROLLUP_INTERVAL_SECONDS * 1000
    seed_dimensions(db)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    insert_events(db, events_frame([(now - timedelta(days=d), 1, 1 + d, "send") for d in range(3)]))
    rollup.refresh_all(db)
    reader = db.connect().execution_options(isolation_level="REPEATABLE READ")
    reader.begin()
    inputs.load(reader, inputs.Window.ending(now + timedelta(minutes=1)))  # the retrain's input reads
    insert_events(db, events_frame([(now - timedelta(hours=h), 2, 5, "open") for h in range(4)]))

    far_ahead = max(day for _, day in maintenance.event_partitions(db)) + timedelta(days=30)
    outcome: dict = {}

    def maintain() -> None:
        try:
            outcome["output"] = maintenance.maintain(db, today=far_ahead)
        except Exception as error:  # noqa: BLE001 - examined below
            outcome["error"] = error

    thread = threading.Thread(target=maintain)
    thread.start()
    try:
        waited = time.monotonic()
        while thread.is_alive() and not scalar(db, "SELECT count(*) FROM pg_locks WHERE NOT granted "
                                                   "AND relation = 'events'::regclass AND mode = 'AccessExclusiveLock'"):
            assert time.monotonic() - waited < 10
            time.sleep(0.02)
        # The roller while maintenance's request is queued: within one interval, not its 30 s timeout.
        result = rollup.refresh(db, lock_timeout_ms=config.ROLLUP_INTERVAL_SECONDS * 1000)
        assert not result.skipped and result.events == 4
    finally:
        thread.join(timeout=30)
        reader.rollback()
        reader.close()
    assert isinstance(outcome.get("error"), maintenance.MaintenanceDeferred), outcome
    assert "could not be created" in str(outcome["error"]) and "pg_stat_activity" in str(outcome["error"])
    # Once the reader is gone, maintenance adds the partitions.
    output = maintenance.maintain(db, today=far_ahead)
    assert output.detail.startswith(f"created {config.PARTITIONS_AHEAD_DAYS + 2} partitions")


def test_retrain_keeps_no_transaction_open_while_it_computes(backends):
    from tests.db.test_optimize_training import small_demo

    engine = small_demo(backends)
    seen: list[tuple[str, str, int]] = []

    def progress(fraction: float, message: str) -> None:
        if not 0.1 <= fraction <= 0.95:  # the model-building stages
            return
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = :key"),
                               {"key": lock_key(training.LOCK_NAME)}).scalar()
            state = conn.execute(text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar()
            relations = conn.execute(text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND locktype = 'relation'"),
                                     {"pid": pid}).scalar()
        seen.append((message, state, relations))

    try:
        outcome = training.retrain(engine, progress=progress)
    finally:
        engine.dispose()
    assert not outcome.skipped, outcome.detail
    assert seen, "no progress reported while the models were built"
    assert {(state, relations) for _, state, relations in seen} == {("idle", 0)}, seen


def report_priority(db) -> JobOutput:
    """Runs in the child: its process id and nice value, and proof that it reached the database."""
    return JobOutput(rows=os.getpid(), detail=f"{os.getpriority(os.PRIO_PROCESS, 0)} {fetch_scalar(db, 'database_is_empty')}")


def fail_in_child(db) -> JobOutput:
    raise RuntimeError("training failed in the child")


def test_retrain_runs_in_a_child_process_at_lower_priority(db):
    assert next(job for job in worker.SCHEDULE if job.name == "retrain").work is worker.retrain_job
    output = worker.run_in_child_process(db, report_priority)
    nice, empty = output.detail.split()
    assert output.rows != os.getpid()
    assert int(nice) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + worker.RETRAIN_NICENESS)
    assert empty == "True"
    with pytest.raises(RuntimeError, match="training failed in the child"):
        worker.run_in_child_process(db, fail_in_child)


def test_the_child_never_runs_the_parents_main_script(db, tmp_path, monkeypatch):
    """In a process that has run a Streamlit script (the app, AppTest), __main__ is that script;
    the child must not run it again (multiprocessing's spawn did, and the child died)."""
    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('the parent script ran in the child')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    output = worker.run_in_child_process(db, report_priority)
    assert output.rows != os.getpid() and output.detail.split()[1] == "True"


def test_the_worker_retrain_job_in_its_child_on_an_empty_database(db):
    outcome = run_job(db, "retrain", lambda: worker.retrain_job(db), retries=0)
    assert outcome.status == "skipped" and "nothing to train on" in outcome.detail


RETRAIN_LOCKS = text("""
    SELECT coalesce(l.relation::regclass::text, l.locktype) AS what, l.mode
    FROM pg_locks l
    WHERE l.pid = (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = :key)
      AND l.locktype IN ('relation', 'tuple', 'object')
    ORDER BY 1, 2
""")


def test_a_retrain_held_at_each_of_its_steps_does_not_delay_a_rollup(backends, monkeypatch):
    """A lock-ordering test, not a timing test: the retrain is stopped (a barrier) with its
    transaction open, first right after it read its inputs (REPEATABLE READ, ACCESS SHARE on
    events and the rollups), then right after it wrote its run (before the commit: every row and
    table lock of the publish step held). At each stop new events arrive and the roller folds
    them with a lock timeout of one rollup interval. A lock the roller needed from the retrain
    would not be freed until the barrier opens, so the roller would fail by that timeout, every
    time; it goes through, at both steps."""
    from tests.db.test_optimize_training import END, small_demo

    engine = small_demo(backends)
    reached = {step: threading.Event() for step in ("inputs", "publish")}
    release = {step: threading.Event() for step in ("inputs", "publish")}

    def held_at(step: str, original):
        def wrapper(*args, **kwargs):
            output = original(*args, **kwargs)
            reached[step].set()
            assert release[step].wait(120), f"the test never released the retrain's {step} step"
            return output
        return wrapper

    monkeypatch.setattr(inputs, "load", held_at("inputs", inputs.load))
    monkeypatch.setattr(training.store, "write_run", held_at("publish", training.store.write_run))
    outcome: dict = {}

    def retrain() -> None:
        try:
            outcome["retrain"] = training.retrain(engine)
        except Exception as error:  # noqa: BLE001 - reported below
            outcome["error"] = "".join(traceback.format_exception(error))

    thread = threading.Thread(target=retrain, name="retrain-beside-roller")
    thread.start()
    folded = []
    try:
        for number, step in enumerate(("inputs", "publish")):
            while not reached[step].wait(0.2):
                assert thread.is_alive(), f"the retrain ended before its {step} step: {outcome}"
            with engine.connect() as conn:
                held = conn.execute(RETRAIN_LOCKS, {"key": lock_key(training.LOCK_NAME)}).all()
            assert held, f"the retrain holds no lock at its {step} step: the barrier is not inside its transaction"
            arriving = [(END - timedelta(minutes=30 - m), 1 + number, 1 + m, "send") for m in range(5 + number)]
            insert_events(engine, events_frame(arriving))
            try:
                result = rollup.refresh(engine, lock_timeout_ms=config.ROLLUP_INTERVAL_SECONDS * 1000)
            except Exception as error:  # noqa: BLE001 - the message says what was held
                pytest.fail(f"the rollup waited for the retrain held at its {step} step ({error}); "
                            f"the retrain held {held}")
            folded.append((step, result.skipped, result.events))
            release[step].set()
    finally:
        for event in release.values():
            event.set()
        thread.join(timeout=600)
        engine.dispose()
    assert folded == [("inputs", False, 5), ("publish", False, 6)]
    assert "error" not in outcome, outcome
    assert not outcome["retrain"].skipped and outcome["retrain"].run_id is not None
