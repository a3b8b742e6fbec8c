"""What the benchmarks share: progress lines on stderr, the admin connection, and a database of
their own loaded with the demo."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

from core.platform.db import normalize_url, with_database  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def admin_url() -> str:
    """DATABASE_URL (a server), or the local server's postgres database."""
    return normalize_url(os.environ.get("DATABASE_URL") or DEFAULT_ADMIN_URL)


def demo_database(admin: str, name: str, demo_args: list[str], reuse: bool = False, what: str = "the demo") -> str:
    """The URL of database `name`, (re)created and loaded by `python -m core demo *demo_args`
    unless reuse is set and it exists."""
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", pool_size=1)
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        fresh = not (exists and reuse)
        if exists and fresh:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        if fresh:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = with_database(admin, name)
    if fresh:
        say(f"loading {what} into {name} (python -m core demo {' '.join(demo_args)})")
        subprocess.run([sys.executable, "-m", "core", "demo", "--no-train", *demo_args], cwd=REPO_ROOT,
                       env={**os.environ, "DATABASE_URL": url}, check=True, stdout=sys.stderr)
    return url


def drop_database(admin: str, name: str) -> None:
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", pool_size=1)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def stamped_batch(pool: pd.DataFrame, offset: int, rows: int, seconds: float) -> pd.DataFrame:
    """The next `rows` events of `pool` from `offset` (wrapping around), their times spread over
    the last `seconds` up to now: what a live feed writes in one batch."""
    batch = pool.iloc[np.arange(offset, offset + rows) % len(pool)].copy()
    batch["event_time"] = pd.Timestamp.now(tz="UTC") - pd.to_timedelta(np.linspace(seconds, 0, len(batch)), unit="s")
    return batch
