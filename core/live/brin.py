"""BRIN upkeep of the newest event partitions, so that live time-range queries stay cheap.

A BRIN block range that has never been summarized matches every query. Autovacuum summarizes
only when it vacuums, which on an append-only partition happens after it has grown by a fifth,
so without this the newest rows (hundreds of thousands at a few hundred events per second)
would be read by every live query. Summarizing the new ranges every few seconds costs a scan of
just those ranges; once summarized, PostgreSQL keeps a range's summary current on insert.
The worker runs it as a job (`job`, every EVERY_SECONDS).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine

from core.platform.db import fetch_scalar
from core.platform.jobs import JobOutput, try_exclusive

JOB_NAME = "brin_summarize"
EVERY_SECONDS = 10


def summarize_recent(db: Engine, now: datetime | None = None) -> int:
    """Summarize new BRIN ranges of yesterday's, today's and tomorrow's (UTC) partitions;
    returns how many ranges were summarized (0 when another process is doing it)."""
    today = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).date()
    with db.begin() as conn:
        if not try_exclusive(conn, JOB_NAME):
            return 0
        return int(fetch_scalar(conn, "events_brin_summarize", first_day=today - timedelta(days=1),
                                last_day=today + timedelta(days=1)))


def job(db: Engine) -> JobOutput:
    """The worker job: core.worker.ScheduledJob(JOB_NAME, EVERY_SECONDS, job)."""
    ranges = summarize_recent(db)
    return JobOutput(rows=ranges, detail=f"summarized {ranges} new BRIN block ranges")
