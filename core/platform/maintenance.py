"""Partition maintenance and retention: partitions created ahead, raw partitions past the
retention dropped once fully rolled up (rollups are kept, but for the all-campaigns hourly
breakdown of those days, which mirrors the raw events), the live screen's old rollups and job runs pruned.

Creating or dropping a partition takes an ACCESS EXCLUSIVE lock on events. Such a request waits
for every transaction reading events (a retrain's input read can take minutes), and while it
waits, every later request on events queues behind it: the roller's wait for writers, the event
writers, the dashboards. So each change of partitions runs in its own short transaction that
waits at most DDL_LOCK_TIMEOUT_MS (less than a rollup interval) and is otherwise deferred —
partitions exist PARTITIONS_AHEAD_DAYS ahead, so a deferral costs nothing until the last of
them is near (then the job fails, is retried and shows on the System screen).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from core.platform import config
from core.platform.db import execute, fetch_df, fetch_scalar, limit_lock_wait, lock_wait_ran_out
from core.platform.events import partition_day
from core.platform.jobs import JobOutput, exclusive_session

LIVE_ROLLUP_KEEP = timedelta(hours=2)  # live activity minutes: the screen reads the last 60 at most
# live seconds: the screen compares with the same minutes yesterday, up to 25 h back (a
# daylight-saving change) and 61 minutes long
LIVE_SECONDS_KEEP = timedelta(hours=27)
DDL_LOCK_TIMEOUT_MS = 1000
URGENT_DAYS_AHEAD = 2  # fewer partitions ahead than this and a deferred creation is a failure


class MaintenanceDeferred(RuntimeError):
    """Partitions that are needed soon could not be created: events stayed locked too long."""


def event_partitions(db) -> list[tuple[str, date]]:
    frame = fetch_df(db, "event_partitions")
    return [(name, partition_day(name)) for name in frame.partition_name]


def _short_ddl(conn: Connection, name: str, lock_timeout_ms: int, **params):
    """Run queries/<name>.sql in its own transaction, waiting at most lock_timeout_ms for its
    locks; returns (True, its value), or (False, None) when the locks were not to be had in time."""
    try:
        with conn.begin():
            limit_lock_wait(conn, lock_timeout_ms)
            return True, fetch_scalar(conn, name, **params)
    except OperationalError as error:
        if lock_wait_ran_out(error):
            return False, None
        raise


def maintain(db: Engine, today: date | None = None, retention_days: int | None = None,
             lock_timeout_ms: int = DDL_LOCK_TIMEOUT_MS) -> JobOutput:
    today = today or datetime.now(timezone.utc).date()
    retention_days = retention_days if retention_days is not None else config.RAW_RETENTION_DAYS
    with exclusive_session(db, "maintenance") as conn:
        if conn is None:
            return JobOutput(skipped=True, detail="another worker is maintaining")
        done, created = _short_ddl(conn, "events_ensure_partitions", lock_timeout_ms, first_day=today - timedelta(days=1),
                             last_day=today + timedelta(days=config.PARTITIONS_AHEAD_DAYS))
        with conn.begin():
            watermark = int(fetch_scalar(conn, "rollup_watermark_read"))
            partitions = event_partitions(conn)
        cutoff = today - timedelta(days=retention_days)
        dropped, kept, drops_deferred = [], [], []
        for name, day in partitions:
            if day >= cutoff:
                continue
            # Only once every event in it is in the rollups: retention never loses a count.
            with conn.begin():
                newest = int(fetch_scalar(conn, "partition_max_event_id", partition=name) or 0)
            if newest > watermark:
                kept.append(name)
                continue
            if not _short_ddl(conn, "partition_detach_drop", lock_timeout_ms, partition=name)[0]:
                drops_deferred.append(name)
            else:
                dropped.append(name)
                with conn.begin():  # what the per-campaign breakdown can no longer break down
                    execute(conn, "rollup_all_campaigns_breakdown_prune", day=day)
        now = datetime.now(timezone.utc)
        with conn.begin():
            pruned = int(fetch_scalar(conn, "rollup_live_prune", live_before=now - LIVE_ROLLUP_KEEP,
                                      live_seconds_before=now - LIVE_SECONDS_KEEP))
            execute(conn, "job_runs_prune", before=now - timedelta(days=14))
        ahead = max((day for _, day in event_partitions(conn)), default=None)
        conn.commit()
    if not done and (ahead is None or ahead < today + timedelta(days=URGENT_DAYS_AHEAD)):
        raise MaintenanceDeferred(
            f"Event partitions up to {today + timedelta(days=config.PARTITIONS_AHEAD_DAYS)} could not be created: "
            f"another transaction kept events locked for more than {lock_timeout_ms} ms each try (a long read, "
            f"e.g. a retrain or a manual query). Partitions exist only up to {ahead or 'none'}; if this repeats, "
            f"look for long transactions in pg_stat_activity.")
    refresh_planner_statistics(db)
    detail = (f"created {created} partitions" if done
              else f"partition creation deferred (events busy; partitions exist up to {ahead})")
    detail += f", dropped {len(dropped)}, pruned {pruned} live rollup rows"
    if kept:
        detail += f"; kept {len(kept)} past retention until rolled up"
    if drops_deferred:
        detail += f"; {len(drops_deferred)} drops deferred (events busy)"
    return JobOutput(rows=(created or 0) + len(dropped), detail=detail)


def refresh_planner_statistics(db: Engine) -> None:
    """ANALYZE every table of the database. On servers where autovacuum is off or slow (this
    project's test machines run with it off) a day-old partition would otherwise look empty to
    the planner, and the rollups, members and campaign_members would have no statistics at all
    (reltuples -1 on a 1,500-campaign demo), so plans were chosen on default guesses. 13.5 s
    for the 84 tables of a 13.2 M-event demo on a busy machine; run by the maintenance job and
    after the demo's load."""
    with db.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
