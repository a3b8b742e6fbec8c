"""Partition maintenance and retention: partitions created ahead, raw partitions past the
retention dropped once fully rolled up (rollups are kept), old minute rollups and job runs pruned."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Engine

from core.platform import config
from core.platform.db import execute, fetch_df, fetch_scalar
from core.platform.jobs import JobOutput, try_exclusive

LIVE_ROLLUP_KEEP = timedelta(hours=2)  # live activity minutes: the screen reads the last 15 at most


def event_partitions(db) -> list[tuple[str, date]]:
    frame = fetch_df(db, "event_partitions")
    return [(name, datetime.strptime(name[len("events_p"):], "%Y%m%d").date()) for name in frame.partition_name]


def maintain(db: Engine, today: date | None = None, retention_days: int | None = None) -> JobOutput:
    today = today or datetime.now(timezone.utc).date()
    retention_days = retention_days if retention_days is not None else config.RAW_RETENTION_DAYS
    with db.begin() as conn:
        if not try_exclusive(conn, "maintenance"):
            return JobOutput(skipped=True, detail="another worker is maintaining")
        created = fetch_scalar(conn, "events_ensure_partitions", first_day=today - timedelta(days=1),
                               last_day=today + timedelta(days=config.PARTITIONS_AHEAD_DAYS))
        watermark = int(fetch_scalar(conn, "rollup_watermark_read"))
        cutoff = today - timedelta(days=retention_days)
        dropped, kept = [], []
        for name, day in event_partitions(conn):
            if day >= cutoff:
                continue
            # Only once every event in it is in the rollups: retention never loses a count.
            if int(fetch_scalar(conn, "partition_max_event_id", partition=name) or 0) > watermark:
                kept.append(name)
                continue
            execute(conn, "partition_detach_drop", partition=name)
            dropped.append(name)
        now = datetime.now(timezone.utc)
        pruned = int(fetch_scalar(conn, "rollup_minute_prune",
                                  before=now - timedelta(days=config.MINUTE_ROLLUP_RETENTION_DAYS),
                                  live_before=now - LIVE_ROLLUP_KEEP))
        execute(conn, "job_runs_prune", before=datetime.now(timezone.utc) - timedelta(days=14))
    # Planner statistics: on servers where autovacuum is off or slow, a day-old partition
    # would otherwise look empty to the planner.
    with db.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE events")
    detail = f"created {created} partitions, dropped {len(dropped)}, pruned {pruned} minute rows"
    if kept:
        detail += f"; kept {len(kept)} past retention until rolled up"
    return JobOutput(rows=created + len(dropped), detail=detail)
