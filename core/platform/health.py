"""Health of the platform for the system screen and `python -m core health`: database
reachable, data freshness, rollup lag, row counts, job status."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from core.platform.db import fetch_df
from core.platform.jobs import last_runs


@dataclass
class Health:
    reachable: bool
    latency_ms: float | None = None
    error: str | None = None
    latest_event_at: datetime | None = None
    rollups_advanced_at: datetime | None = None
    pending_events: int | None = None
    rollup_lag_seconds: float | None = None
    event_age_seconds: float | None = None
    row_counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    jobs: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def status(self) -> str:
        if not self.reachable:
            return "down"
        if self.rollup_lag_seconds is not None and self.rollup_lag_seconds > 60:
            return "degraded"
        if len(self.jobs) and (self.jobs.status == "failed").any():
            return "degraded"
        return "ok"


def check(db: Engine) -> Health:
    started = time.perf_counter()
    try:
        freshness = fetch_df(db, "health_freshness").iloc[0]
        latency = (time.perf_counter() - started) * 1000
        counts = fetch_df(db, "health_row_counts")
        jobs = last_runs(db)
    except SQLAlchemyError as error:
        return Health(reachable=False, error=str(error.orig if hasattr(error, "orig") else error).strip()[:500])
    now = datetime.now(timezone.utc)
    latest, advanced = freshness.latest_event_at, freshness.rollups_advanced_at
    # Lag: how long events have been waiting since the rollups last advanced (0 when none wait).
    lag = (now - advanced).total_seconds() if int(freshness.pending_events) > 0 else 0.0
    return Health(
        reachable=True, latency_ms=latency,
        latest_event_at=None if pd.isna(latest) else latest,
        rollups_advanced_at=advanced,
        pending_events=int(freshness.pending_events), rollup_lag_seconds=lag,
        event_age_seconds=None if pd.isna(latest) else (now - latest).total_seconds(),
        row_counts=counts, jobs=jobs,
    )


@dataclass
class Quarantine:
    """Events the roller could not fold and moved aside (newest first), and how many in all."""

    total: int
    latest: pd.DataFrame


def quarantined_events(db: Engine, limit: int = 20) -> Quarantine:
    rows = fetch_df(db, "rollup_quarantine_recent", limit=limit)
    total = int(rows.total.iloc[0]) if len(rows) else 0
    return Quarantine(total=total, latest=rows.drop(columns="total"))
