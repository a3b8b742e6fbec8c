"""Where the database is and how to talk to it: the URL (a server from DATABASE_URL, else an
embedded PostgreSQL in a local data folder), engines, and running named queries."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection, make_url

from core.platform import config

QUERY_DIR = config.ROOT / "queries"


def normalize_url(url: str) -> str:
    """Accept libpq-style URLs and pin the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def embedded_url(data_dir: Path | None = None) -> str:
    """Start (or reuse) an embedded PostgreSQL in data_dir and return its URL."""
    import pgserver  # only needed without a server

    data_dir = Path(data_dir or config.DATA_DIR / "pg")
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    return normalize_url(server.get_uri())


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    return normalize_url(url) if url else embedded_url()


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


# A session whose client is gone must end at once, or it keeps what it holds (an advisory lock,
# a half-done rollup) until its statement finishes by itself: a worker killed with -9 in the
# middle of a rollup left "rolled up 0 events" behind. The server looks for a closed client
# socket every CLIENT_CHECK_MS while a statement runs (PostgreSQL 14+), TCP keepalives find a
# client whose machine vanished, and a transaction left idle by a hung client ends after
# IDLE_IN_TRANSACTION_MS (no transaction of ours pauses that long between statements).
CLIENT_CHECK_MS = 1000
IDLE_IN_TRANSACTION_MS = 300_000
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


def session_options(statement_timeout_ms: int | None = None, jit: bool = True) -> str:
    """Server settings of every session the app, the worker and the command line open. Without
    `jit`, the server never compiles a statement's expressions: for the screens' statements,
    which take milliseconds, compiling costs more than it saves (one campaign's "why did this
    change" query: 50 ms to run and 100 ms to compile, because its plan's estimated cost passes
    jit_above_cost)."""
    settings = {"timezone": "UTC", "client_connection_check_interval": CLIENT_CHECK_MS,
                "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_MS,
                "tcp_keepalives_idle": KEEPALIVE["keepalives_idle"],
                "tcp_keepalives_interval": KEEPALIVE["keepalives_interval"],
                "tcp_keepalives_count": KEEPALIVE["keepalives_count"]}
    if statement_timeout_ms:
        settings["statement_timeout"] = int(statement_timeout_ms)
    if not jit:
        settings["jit"] = "off"
    return " ".join(f"-c {name}={value}" for name, value in settings.items())


def make_engine(url: str | None = None, statement_timeout_ms: int | None = None,
                pool_size: int = 5, jit: bool = True) -> Engine:
    return create_engine(
        url or database_url(),
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=10,
        pool_recycle=1800,
        connect_args={"options": session_options(statement_timeout_ms, jit), "connect_timeout": 5, **KEEPALIVE},
    )


@lru_cache(maxsize=None)
def query(name: str):
    """The SQL statement queries/<name>.sql, parameters bound by name."""
    path = QUERY_DIR / f"{name}.sql"
    if not path.exists():
        raise KeyError(f"No query named {name!r}: expected {path}")
    return text(path.read_text())


def query_names() -> list[str]:
    return sorted(p.stem for p in QUERY_DIR.glob("*.sql"))


def fetch_df(db: Engine | Connection, name: str, **params: Any) -> pd.DataFrame:
    """Run queries/<name>.sql and return its rows as a DataFrame."""
    if isinstance(db, Engine):
        with db.connect() as conn:
            return fetch_df(conn, name, **params)
    return as_frame(db.execute(query(_here(db, name)), params))


def as_frame(result) -> pd.DataFrame:
    """A result's rows as a DataFrame. The rows go in as plain tuples: pandas 3 reads
    SQLAlchemy's Row objects one by one as generic sequences, about 3x slower (200,000 rows of
    seven columns: 2.4 s against 0.7 s), which the simulator's per-member reloads felt."""
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))


def fetch_scalar(db: Engine | Connection, name: str, **params: Any) -> Any:
    if isinstance(db, Engine):
        with db.connect() as conn:
            return fetch_scalar(conn, name, **params)
    return db.execute(query(_here(db, name)), params).scalar()


def execute(conn: Connection, name: str, **params: Any):
    return conn.execute(query(_here(conn, name)), params)


LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock not granted within lock_timeout


def limit_lock_wait(conn: Connection, lock_timeout_ms: int) -> None:
    """Wait at most lock_timeout_ms for any lock until the end of the current transaction (or
    savepoint: rolling it back restores the limit before)."""
    conn.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))


def lock_wait_ran_out(error: Exception) -> bool:
    """Did this database error come from a lock not granted within lock_timeout?"""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == LOCK_NOT_AVAILABLE


def _here(conn: Connection, name: str) -> str:
    """The statement to run for `name` on this database: on a distributed (Citus) one, the
    variant queries/citus/<name>.sql when there is one (core.platform.distribute)."""
    from core.platform.distribute import statement  # it imports this module

    return statement(conn, name)
