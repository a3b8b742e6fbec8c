"""Incremental rollups of events: advance every rollup table from the watermark, exactly once.

One transaction reads the watermark, waits for in-flight event writers, folds the new events
into the minute, hour, day, breakdown and per-member tables, and moves the watermark. A crash
anywhere rolls all of it back; a second worker at the same time skips (advisory lock).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

from core.platform.db import execute, fetch_scalar
from core.platform.distribute import fold_events

ROLLUP_LOCK_KEY = 7_301_001
DEFAULT_BATCH_EVENTS = 2_000_000


@dataclass
class RollupResult:
    events: int
    from_id: int
    to_id: int
    skipped: bool = False


def refresh(engine: Engine, batch_events: int = DEFAULT_BATCH_EVENTS, lock_timeout_ms: int = 30_000) -> RollupResult:
    """Fold the next batch of new events into the rollups; returns what was folded."""
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
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
            counts = fold_events(conn, from_id, to_id)  # rollup_events, or its Citus statements
            execute(conn, "rollup_watermark_advance", to_id=to_id, latest_event_at=counts["latest_event_at"])
            return RollupResult(int(counts["events"]), from_id, to_id)


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
