"""The background worker: runs each scheduled job at its interval, forever or once.

Jobs are safe to run twice and from two workers at once (each takes its own advisory lock);
every run is recorded in job_runs by core.platform.jobs, holding a lease while it works (runs
left by a dead worker are marked abandoned at start and by every later run).

The retrain runs in a child process at lower CPU priority (RETRAIN_NICENESS), not in a thread:
its pandas and scikit-learn work holds the GIL for long stretches, which would hold up the
roller's thread whatever the thread's nice value (on Linux nice is per thread, and a niced
thread holding the GIL only makes the wait longer). A child has its own GIL, yields the CPU to
the worker, the app and PostgreSQL, gives its memory back when it ends, and cannot take the
worker down with it; it dies with the worker (PR_SET_PDEATHSIG), and so do its sessions and lock.
"""
from __future__ import annotations

import ctypes
import logging
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine

from core.platform import config
from core.platform import maintenance
from core.platform import rollup
from core.experiments import snapshots as ab_snapshots
from core.platform.db import make_engine
from core.platform.jobs import JobOutput, abandon_expired, last_runs, run_job
from core.live import brin
from core.optimize import store as optimize_store
from core.optimize import training as optimize_training

log = logging.getLogger("core.worker")

RETRAIN_NICENESS = 10
PR_SET_PDEATHSIG = 1


def rollup_job(db: Engine) -> JobOutput:
    result = rollup.refresh(db)
    if result.skipped:
        return JobOutput(skipped=True, detail="another worker holds the rollup lock")
    return JobOutput(rows=result.events, detail=f"event_id {result.from_id}→{result.to_id}")


def _lower_priority(niceness: int) -> None:
    """In the child process: lower the priority of every thread it has (nice is per thread on
    Linux; threads started later inherit it) and die when the worker dies."""
    tasks = Path("/proc/self/task")
    for tid in ([int(t.name) for t in tasks.iterdir()] if tasks.exists() else [0]):
        try:
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
        except OSError:
            pass
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the child may outlive a killed worker
        pass


def child_main() -> None:
    """The child's entry (`python -c "from core.worker import child_main; child_main()"`): read
    (work, database URL, niceness, result file) pickled on stdin, run work on its own engine at
    lower priority, and leave (True, output) or (False, exception) pickled in the result file."""
    work, url, niceness, result_path = pickle.load(sys.stdin.buffer)
    _lower_priority(niceness)
    engine = make_engine(url, pool_size=2)
    try:
        outcome = (True, work(engine))
    except Exception as error:  # handed back to the worker, which records and retries it
        outcome = (False, error)
    finally:
        engine.dispose()
    Path(result_path).write_bytes(pickle.dumps(outcome))


def run_in_child_process(db: Engine, work: Callable[[Engine], JobOutput], niceness: int = RETRAIN_NICENESS) -> JobOutput:
    """Run `work` (a module-level function) on the same database in a fresh Python process at
    lower CPU priority; its result or its exception comes back here. A plain interpreter, not
    multiprocessing's spawn: that re-imports the parent's __main__ in the child, which in a
    process that has run a Streamlit script (the app, AppTest) is that script."""
    url = db.url.render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory(prefix="swipesavvy-child-") as folder:
        result_path = Path(folder) / "result.pickle"
        child = subprocess.run([sys.executable, "-c", "from core.worker import child_main; child_main()"],
                               input=pickle.dumps((work, url, niceness, str(result_path))),
                               cwd=config.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not result_path.exists():
            raise RuntimeError(f"the child process ended with code {child.returncode} and no result: "
                               f"{child.stderr.decode(errors='replace')[-1500:]}")
        ok, value = pickle.loads(result_path.read_bytes())
    if not ok:
        raise value
    return value


def retrain_job(db: Engine) -> JobOutput:
    return run_in_child_process(db, optimize_training.retrain_job)


def latest_model_run_at(db: Engine) -> datetime | None:
    """When the models the app shows were trained (by the worker, the demo load or a person)."""
    run = optimize_store.current_run(db)
    return None if run is None else run["started_at"]


@dataclass
class ScheduledJob:
    name: str
    every_seconds: float
    work: Callable[[Engine], JobOutput]
    # When the job's work was last done other than by a run of this job (the demo load trains
    # the models itself), or None: a worker that starts soon after does not do it again.
    done_at: Callable[[Engine], datetime | None] | None = None
    # The interval counts from the start of the last run, not its end: the rollup's lag (the
    # System screen's, < 5 s) is the time between two runs' starts plus one run, so counted from
    # the end every run's length was paid twice. A run longer than the interval is followed at once.
    from_start: bool = False


SCHEDULE: list[ScheduledJob] = [
    ScheduledJob("rollup", config.ROLLUP_INTERVAL_SECONDS, rollup_job, from_start=True),
    ScheduledJob("maintenance", 3600, lambda db: maintenance.maintain(db)),
    ScheduledJob(brin.JOB_NAME, brin.EVERY_SECONDS, brin.job),
    ScheduledJob("ab_snapshots", 300, ab_snapshots.take_snapshots),
    ScheduledJob("retrain", 6 * 3600, retrain_job, done_at=latest_model_run_at),
]


def first_due_in(db: Engine, now: datetime | None = None) -> dict[str, float]:
    """Seconds from the worker's start until each job is first due: at once, unless it last
    succeeded (or its work was done otherwise) less than its interval ago. `make run` loads the
    demo with its first training and then starts the worker: a retrain at once would take the
    machine's CPU for minutes while the first person opens the app, for the same models."""
    now = now or datetime.now(timezone.utc)
    latest = last_runs(db)
    ok = latest[latest.status == "succeeded"] if len(latest) else latest
    succeeded = dict(zip(ok.job, ok.started_at)) if len(ok) else {}
    waits = {}
    for job in SCHEDULE:
        done = [at for at in (succeeded.get(job.name), job.done_at(db) if job.done_at else None) if at is not None]
        if done:
            waits[job.name] = max(0.0, job.every_seconds - (now - max(done)).total_seconds())
    return waits


def register(job: ScheduledJob) -> None:
    """Add a job to the schedule (other features register theirs here)."""
    SCHEDULE[:] = [j for j in SCHEDULE if j.name != job.name] + [job]


def run_once(db: Engine, names: list[str] | None = None) -> list:
    return [run_job(db, job.name, lambda job=job: job.work(db)) for job in SCHEDULE
            if names is None or job.name in names]


def run_forever(db: Engine, stop_after_seconds: float | None = None) -> None:
    """Run every job at its interval until stopped. Each job runs in its own thread, so a slow
    retrain never holds up the rollups; a job is not started again while it still runs."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    try:
        for run_id, job_name, worker in abandon_expired(db):
            log.warning("job run %s (%s on %s) was abandoned by a worker that stopped", run_id, job_name, worker)
    except Exception:  # the database may not answer yet: every job run checks again
        log.warning("could not check for abandoned job runs", exc_info=True)
    try:
        waits = first_due_in(db)
    except Exception:  # the database may not answer yet: every job is due at once, as before
        log.warning("could not read when the jobs last ran", exc_info=True)
        waits = {}
    started = time.monotonic()
    for name, seconds in waits.items():
        if seconds > 0:
            log.info("%s: done less than its interval ago; first run in %.0f s", name, seconds)
    next_due = {job.name: started + waits.get(job.name, 0.0) for job in SCHEDULE}
    running: dict[str, threading.Thread] = {}

    def run(job: ScheduledJob) -> None:
        run_started = time.monotonic()
        outcome = run_job(db, job.name, lambda: job.work(db))
        if outcome.status != "succeeded" or outcome.rows:
            log.info("%s: %s %s (%.2fs)", job.name, outcome.status, outcome.detail, outcome.seconds)
        next_due[job.name] = (run_started if job.from_start else time.monotonic()) + job.every_seconds

    while not stopping.is_set() and (stop_after_seconds is None or time.monotonic() - started < stop_after_seconds):
        for job in list(SCHEDULE):
            busy = job.name in running and running[job.name].is_alive()
            if busy or time.monotonic() < next_due.get(job.name, 0.0):
                continue
            running[job.name] = threading.Thread(target=run, args=(job,), name=f"job-{job.name}", daemon=True)
            running[job.name].start()
        stopping.wait(0.2)
    for thread in running.values():
        thread.join(timeout=60)
