"""The audit log: every action a person takes, written in the same transaction as the action."""
from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from core.platform.db import execute, fetch_df


def record(conn: Connection, user, action: str, target: str, details: dict | None = None) -> None:
    execute(conn, "audit_insert", actor=user.email, role=user.role, action=action, target=target,
            details=json.dumps(details or {}, default=str))


def recent(db: Engine, limit: int = 100):
    return fetch_df(db, "audit_recent", limit=limit)
