"""Data of the real-time screen: one cached snapshot of every live tile per (window, time zone),
shared by every open tab and taken at most once per 2-second slot of the clock, so N viewers
cost one set of queries every 2 seconds, not N.

With SWIPESAVVY_LIVE_STATS=<file> set, the app also appends one JSON line per live refresh to
that file (how long the refresh took, how many snapshots this process has computed and how many
SQL statements it has sent to the database so far): the load benchmark
(bench/bench_live_load.py) reads it.
"""
from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager

import streamlit as st
from sqlalchemy import event

from core.live import tiles
from core.live.windows import WINDOW_CHOICES
from ui import data

REFRESH_SECONDS = 2
STATS_FILE = os.environ.get("SWIPESAVVY_LIVE_STATS")


wall_clock = time.time  # seconds since the epoch; a test may stand in its own clock


def current_slot(now: float | None = None) -> int:
    """The 2-second slot of the wall clock now is in. Snapshots belong to slots rather than
    expiring 2 s after whoever computed them: a cache that expires relative to its own last
    refresh drifts against the viewers' 2-second timers, so every few refreshes a viewer gets
    the same snapshot twice and waits 4 s for new numbers."""
    return int((wall_clock() if now is None else now) // REFRESH_SECONDS)


def live_snapshot(window_minutes: int, tz: str) -> tiles.LiveSnapshot:
    """Every live tile for the last window_minutes in tz, as of the current 2-second slot."""
    return _slot_snapshot(window_minutes, tz, current_slot())


# A resource cache, not a data cache: every session gets the same snapshot object instead of
# its own unpickled copy (20 viewers unpickling frames every 2 s cost more CPU than the
# queries). Callers treat it as read-only. The first viewer in a slot computes it; the others
# wait for it and share it.
@st.cache_resource(ttl=3 * REFRESH_SECONDS, max_entries=len(WINDOW_CHOICES) * 12 * 3, show_spinner=False)
def _slot_snapshot(window_minutes: int, tz: str, slot: int) -> tiles.LiveSnapshot:
    """Every live tile for the last window_minutes in tz. A database error is cached for the
    slot too (as a snapshot carrying the error), so an outage costs no more queries."""
    _counter().count_snapshot()
    return tiles.snapshot(data.engine(), window_minutes, tz)


class _Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.statements = 0
        self.snapshots = 0

    def count(self, *_args, **_kwargs):
        with self.lock:
            self.statements += 1

    def count_snapshot(self) -> None:
        with self.lock:
            self.snapshots += 1


@st.cache_resource(show_spinner=False)
def _counter() -> _Counter:
    """Counts the live snapshots this app process computes and, when the stats file is set, the
    SQL statements it sends."""
    counter = _Counter()
    if STATS_FILE:
        event.listen(data.engine(), "before_cursor_execute", counter.count)
    return counter


@contextmanager
def timed_refresh(window_minutes: int):
    """Wrap one live refresh; with SWIPESAVVY_LIVE_STATS set, record its duration."""
    started = time.perf_counter()
    yield
    if STATS_FILE:
        counter = _counter()
        line = {"at": time.time(), "seconds": time.perf_counter() - started, "window": window_minutes,
                "statements_total": counter.statements, "snapshots_total": counter.snapshots}
        with counter.lock, open(STATS_FILE, "a") as out:
            out.write(json.dumps(line) + "\n")
