"""The background worker: runs each scheduled job at its interval, forever or once.

Jobs are safe to run twice and from two workers at once (each takes its own advisory lock);
every run is recorded in job_runs by core.platform.jobs.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from core.platform import config
from core.platform import maintenance
from core.platform import rollup
from core.experiments import snapshots as ab_snapshots
from core.platform.jobs import JobOutput, run_job
from core.live import brin
from core.optimize import training as optimize_training

log = logging.getLogger("core.worker")


def rollup_job(db: Engine) -> JobOutput:
    result = rollup.refresh(db)
    if result.skipped:
        return JobOutput(skipped=True, detail="another worker holds the rollup lock")
    return JobOutput(rows=result.events, detail=f"event_id {result.from_id}→{result.to_id}")


@dataclass
class ScheduledJob:
    name: str
    every_seconds: float
    work: Callable[[Engine], JobOutput]


SCHEDULE: list[ScheduledJob] = [
    ScheduledJob("rollup", config.ROLLUP_INTERVAL_SECONDS, rollup_job),
    ScheduledJob("maintenance", 3600, lambda db: maintenance.maintain(db)),
    ScheduledJob(brin.JOB_NAME, brin.EVERY_SECONDS, brin.job),
    ScheduledJob("ab_snapshots", 300, ab_snapshots.take_snapshots),
    ScheduledJob("retrain", 6 * 3600, optimize_training.retrain_job),
]


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
    next_due = {job.name: 0.0 for job in SCHEDULE}
    running: dict[str, threading.Thread] = {}
    started = time.monotonic()

    def run(job: ScheduledJob) -> None:
        outcome = run_job(db, job.name, lambda: job.work(db))
        if outcome.status != "succeeded" or outcome.rows:
            log.info("%s: %s %s (%.2fs)", job.name, outcome.status, outcome.detail, outcome.seconds)
        next_due[job.name] = time.monotonic() + job.every_seconds

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
