"""Scheduled jobs: each run recorded (duration, outcome, rows), retried on failure, and made
exclusive across workers with a PostgreSQL advisory lock."""
from __future__ import annotations

import os
import socket
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from core.platform.db import execute, fetch_df, fetch_scalar


@dataclass
class JobOutput:
    rows: int = 0
    detail: str = ""
    skipped: bool = False


@dataclass
class JobOutcome:
    job: str
    status: str
    attempts: int
    rows: int
    detail: str
    seconds: float


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lock_key(name: str) -> int:
    return 7_300_000 + zlib.crc32(name.encode()) % 1_000


def try_exclusive(conn: Connection, name: str) -> bool:
    """Take the job's transaction-scoped advisory lock; False when another worker holds it."""
    return bool(fetch_scalar(conn, "advisory_try_lock", lock_key=lock_key(name)))


def run_job(db: Engine, name: str, work: Callable[[], JobOutput], retries: int = 2,
            backoff_seconds: float = 1.0, worker: str | None = None) -> JobOutcome:
    """Run `work`, recording every attempt in job_runs; retry failures with backoff."""
    worker = worker or worker_name()
    started = time.monotonic()
    detail = ""
    for attempt in range(1, retries + 2):
        with db.begin() as conn:
            run_id = execute(conn, "job_run_start", job=name, worker=worker, attempt=attempt).scalar()
        try:
            output = work()
        except Exception as error:  # recorded, then retried: a job must never kill the worker
            detail = f"{type(error).__name__}: {error}"[:2000]
            with db.begin() as conn:
                execute(conn, "job_run_finish", run_id=run_id, status="failed", rows=None, detail=detail)
            if attempt <= retries:
                time.sleep(backoff_seconds * 2 ** (attempt - 1))
            continue
        status = "skipped" if output.skipped else "succeeded"
        with db.begin() as conn:
            execute(conn, "job_run_finish", run_id=run_id, status=status, rows=output.rows, detail=output.detail)
        return JobOutcome(name, status, attempt, output.rows, output.detail, time.monotonic() - started)
    return JobOutcome(name, "failed", retries + 1, 0, detail, time.monotonic() - started)


def last_runs(db: Engine):
    return fetch_df(db, "job_runs_latest")


def recent_runs(db: Engine, limit: int = 50):
    return fetch_df(db, "job_runs_recent", limit=limit)
