"""Incremental rollups of events: advance every rollup table from the watermark, exactly once.

One transaction reads the watermark, waits for in-flight event writers, folds the new events
into the minute, hour, day, breakdown and per-member tables and the all-campaigns sums, and
moves the watermark. A crash anywhere rolls all of it back; a second worker at the same time
skips (advisory lock).

No single event can stop the rollups. The batch is folded in a savepoint; when the database
refuses it because of the data (a value too large for an index row, a number out of range, a
constraint — SQLSTATE classes 22, 23 and 54), the batch is split in halves and each half folded
on its own, down to single events: the halves that fold are kept, and an event that cannot be
folded alone is moved from events to rollup_quarantine with the database's reason. Anything
else (a timeout, a lost connection, no memory) fails the refresh as before, to be retried.

A live-sized batch (at most JIT_MAX_BATCH_EVENTS) is folded without JIT compilation: the
statement reads events by event_id across every daily partition, so its estimated cost passes
jit_above_cost whatever the batch's size, and compiling its expressions took 0.3-1.7 s of a
refresh that folds a few thousand events in 0.1-0.7 s (at 1,500 live campaigns the rollup lag
went over 5 s for that alone). Bulk batches (a demo load, an import) keep the server's setting.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from core.platform.db import execute, fetch_scalar, limit_lock_wait
from core.platform.distribute import fold_events

ROLLUP_LOCK_KEY = 7_301_001
DEFAULT_BATCH_EVENTS = 2_000_000
DATA_ERROR_CLASSES = ("22", "23", "54")  # data exception, integrity constraint, program limit exceeded
MAX_QUARANTINED_PER_REFRESH = 1000       # more than this in one batch is not bad rows but a broken roller
JIT_MAX_BATCH_EVENTS = 100_000           # up to this many events, no JIT (see above)


@dataclass
class RollupResult:
    events: int
    from_id: int
    to_id: int
    skipped: bool = False
    quarantined: int = 0


class QuarantineLimitReached(RuntimeError):
    pass


@dataclass
class _Folded:
    events: int = 0
    latest_event_at: datetime | None = None
    quarantined: int = 0

    def add(self, other: "_Folded") -> "_Folded":
        latest = [t for t in (self.latest_event_at, other.latest_event_at) if t is not None]
        return _Folded(self.events + other.events, max(latest) if latest else None, self.quarantined + other.quarantined)


def _data_error(error: DBAPIError) -> str | None:
    """The database's reason when the error comes from the data folded, else None."""
    state = getattr(error.orig, "sqlstate", None) or ""
    if not state.startswith(DATA_ERROR_CLASSES):
        return None
    diagnostic = getattr(error.orig, "diag", None)
    message = getattr(diagnostic, "message_primary", None) or str(error.orig).splitlines()[0]
    return f"{message} (SQLSTATE {state})"


def _fold(conn: Connection, from_id: int, to_id: int, budget: list[int]) -> _Folded:
    """Fold events in (from_id, to_id]; quarantine the ones that cannot be folded (see above)."""
    savepoint = conn.begin_nested()
    try:
        counts = fold_events(conn, from_id, to_id)  # rollup_events, or its Citus statements
    except DBAPIError as error:
        savepoint.rollback()
        reason = _data_error(error)
        if reason is None:
            raise
        if to_id - from_id > 1:
            middle = (from_id + to_id) // 2
            return _fold(conn, from_id, middle, budget).add(_fold(conn, middle, to_id, budget))
        if budget[0] <= 0:
            raise QuarantineLimitReached(f"more than {MAX_QUARANTINED_PER_REFRESH} events of one batch could not be "
                                         f"folded (the last: event {to_id}, {reason}); the roller stops here") from error
        budget[0] -= 1
        moved = execute(conn, "rollup_quarantine_event", event_id=to_id, reason=reason).rowcount
        return _Folded(quarantined=moved)
    savepoint.commit()
    return _Folded(int(counts["events"]), counts["latest_event_at"])


def refresh(engine: Engine, batch_events: int = DEFAULT_BATCH_EVENTS, lock_timeout_ms: int = 30_000) -> RollupResult:
    """Fold the next batch of new events into the rollups; returns what was folded."""
    with engine.connect() as conn:
        with conn.begin():
            limit_lock_wait(conn, lock_timeout_ms)
            if not fetch_scalar(conn, "advisory_try_lock", lock_key=ROLLUP_LOCK_KEY):
                return RollupResult(0, 0, 0, skipped=True)
            from_id = int(fetch_scalar(conn, "rollup_watermark_lock"))
            window_end = int(fetch_scalar(conn, "events_last_assigned_id"))
            if window_end <= from_id:
                return RollupResult(0, from_id, from_id)
            savepoint = conn.begin_nested()
            execute(conn, "events_wait_for_writers")
            savepoint.rollback()
            to_id = min(window_end, from_id + batch_events)
            if to_id - from_id <= JIT_MAX_BATCH_EVENTS:
                conn.execute(text("SET LOCAL jit = off"))
            folded = _fold(conn, from_id, to_id, [MAX_QUARANTINED_PER_REFRESH])
            execute(conn, "rollup_watermark_advance", to_id=to_id, latest_event_at=folded.latest_event_at)
            return RollupResult(folded.events, from_id, to_id, quarantined=folded.quarantined)


def refresh_all(engine: Engine, batch_events: int = DEFAULT_BATCH_EVENTS, progress=None) -> int:
    """Refresh until the rollups have caught up with every event written so far."""
    total = 0
    while True:
        result = refresh(engine, batch_events)
        total += result.events
        if progress:
            progress(result)
        if result.skipped or result.to_id == result.from_id:
            return total
        last = int(fetch_scalar(engine, "events_last_assigned_id"))
        if result.to_id >= last:
            return total
