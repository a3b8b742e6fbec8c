"""Scheduled jobs: each run recorded (duration, outcome, rows), retried on failure, made
exclusive across workers with a PostgreSQL advisory lock, and holding a lease while it works.

A run renews its lease every HEARTBEAT_SECONDS; a run whose lease ran out (its worker was killed,
crashed, or lost the database) is marked `abandoned` by the next run of any job, so no run stays
`running` forever. Advisory locks belong to a database session, and every session ends with its
client (core.platform.db.session_options): a killed worker's locks die with it.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from core.platform.db import execute, fetch_df, fetch_scalar

log = logging.getLogger("core.jobs")

LEASE_SECONDS = 60.0
HEARTBEAT_SECONDS = 15.0  # four renewals per lease: one lost heartbeat never abandons a live run


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


@contextmanager
def exclusive_session(db: Engine, name: str) -> Iterator[Connection | None]:
    """A connection holding the job's advisory lock for as long as the block runs, across as many
    short transactions as the job needs; None when another worker holds it. For jobs that must
    not keep one transaction open while they work (it would hold their tables' locks throughout)."""
    key = lock_key(name)
    conn = db.connect()
    try:
        if not fetch_scalar(conn, "advisory_try_session_lock", lock_key=key):
            conn.commit()
            yield None
            return
        conn.commit()
        try:
            yield conn
        finally:
            _release(conn, key)
    finally:
        conn.close()


def _release(conn: Connection, key: int) -> None:
    try:
        if conn.in_transaction():
            conn.rollback()
        fetch_scalar(conn, "advisory_unlock", lock_key=key)
        conn.commit()
    except Exception:  # never return to the pool a session that may still hold the lock
        log.warning("could not release advisory lock %s; closing its session", key, exc_info=True)
        conn.invalidate()


def abandon_expired(db: Engine | Connection) -> list[tuple[int, str, str]]:
    """Mark runs whose lease ran out as abandoned; returns (run_id, job, worker) of each."""
    if isinstance(db, Engine):
        with db.begin() as conn:
            return abandon_expired(conn)
    return [tuple(row) for row in execute(db, "job_runs_abandon_expired").all()]


class _Heartbeat:
    """Renews one run's lease in the background while the job works."""

    def __init__(self, db: Engine, run_id: int, lease_seconds: float, every_seconds: float):
        self.db, self.run_id, self.lease_seconds, self.every_seconds = db, run_id, lease_seconds, every_seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> "_Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)

    def _beat(self) -> None:
        while not self.stopped.wait(self.every_seconds):
            try:
                with self.db.begin() as conn:
                    execute(conn, "job_run_heartbeat", run_id=self.run_id, lease_seconds=self.lease_seconds)
            except Exception:  # the database may be away for a moment; the lease has room for it
                log.warning("heartbeat of job run %s failed", self.run_id, exc_info=True)


def run_job(db: Engine, name: str, work: Callable[[], JobOutput], retries: int = 2,
            backoff_seconds: float = 1.0, worker: str | None = None, lease_seconds: float = LEASE_SECONDS,
            heartbeat_seconds: float = HEARTBEAT_SECONDS) -> JobOutcome:
    """Run `work`, recording every attempt in job_runs; retry failures with backoff. Each
    attempt first marks the runs of dead workers abandoned, then holds its own lease."""
    worker = worker or worker_name()
    started = time.monotonic()
    detail = ""
    for attempt in range(1, retries + 2):
        with db.begin() as conn:
            abandon_expired(conn)
            run_id = execute(conn, "job_run_start", job=name, worker=worker, attempt=attempt,
                             lease_seconds=lease_seconds).scalar()
        try:
            with _Heartbeat(db, run_id, lease_seconds, heartbeat_seconds):
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
