"""Running every query file with representative parameters and comparing two databases' answers.

The parameters are tests/db/test_queries.py's (one set per query file), with every date and time
moved by whole days so that the week they name falls inside the demo data (and partition names
with them), so the answers are about real rows, not empty ones.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from core.platform.db import query
from core.platform.distribute import statement
from tests.db.test_queries import PARAMS, T0

PARTITION_NAME = re.compile(r"^events_p(\d{8})$")
# Relative tolerances: a sum of doubles added in another order (shard by shard) differs in the
# last bits, and stored as real (float4) such a sum can land on the neighbouring float4 value.
DOUBLE_TOLERANCE = 1e-9
REAL_TOLERANCE = 3e-7
REAL_OID = 700


def shifted_params(name: str, data_end: datetime) -> dict:
    """PARAMS[name] with dates and times moved so that T0 falls 14 days before data_end."""
    days = timedelta(days=(data_end.date() - timedelta(days=14) - T0.date()).days)

    def shift(value):
        if isinstance(value, (datetime, date)):
            return value + days
        if isinstance(value, list):
            return [shift(v) for v in value]
        if isinstance(value, str) and PARTITION_NAME.match(value):
            day = datetime.strptime(value[len("events_p"):], "%Y%m%d").date() + days
            return f"events_p{day:%Y%m%d}"
        return value

    return {key: shift(value) for key, value in PARAMS[name].items()}


@dataclass
class Answer:
    columns: list[str]
    rows: list[tuple]
    rowcount: int
    real_columns: frozenset[str] = frozenset()   # float4 columns (compared to REAL_TOLERANCE)


def run(engine, name: str, params: dict) -> Answer:
    """The query's rows (or, for a statement without rows, how many rows it changed), inside a
    transaction that is rolled back: nothing stays written. On a cluster, its Citus variant
    when it has one (as core.platform.db runs it)."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            result = conn.execute(query(statement(conn, name)), params)
            if result.returns_rows:
                reals = frozenset(column.name for column in result.cursor.description if column.type_code == REAL_OID)
                return Answer(list(result.keys()), [tuple(row) for row in result.fetchall()], -1, reals)
            return Answer([], [], result.rowcount)
        finally:
            transaction.rollback()


def _same_value(a, b, tolerance: float = DOUBLE_TOLERANCE) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=tolerance, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_value(x, y, tolerance) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k], tolerance) for k in a)
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b and str(a) == str(b)   # same value and the same scale, as the screens show it
    return a == b and type(a) is type(b)


def _sort_key(row: tuple):
    return tuple((value is None, repr(type(value)), str(value)) for value in row)


def differences(single: Answer, cluster: Answer, ignore: set[str] = frozenset(), ordered: bool = True) -> list[str]:
    """How the cluster's answer differs from the single node's (empty when they are the same).
    Columns in ignore (times of the moment a statement ran) are left out; unordered answers
    are compared as multisets."""
    if single.columns != cluster.columns:
        return [f"columns {single.columns} on one node, {cluster.columns} on the cluster"]
    if single.rowcount != cluster.rowcount:
        return [f"{single.rowcount} rows changed on one node, {cluster.rowcount} on the cluster"]
    keep = [i for i, column in enumerate(single.columns) if column not in ignore]
    tolerances = [REAL_TOLERANCE if single.columns[i] in single.real_columns else DOUBLE_TOLERANCE for i in keep]
    a = [tuple(row[i] for i in keep) for row in single.rows]
    b = [tuple(row[i] for i in keep) for row in cluster.rows]
    if len(a) != len(b):
        return [f"{len(a)} rows on one node, {len(b)} on the cluster"]
    if not ordered:
        a, b = sorted(a, key=_sort_key), sorted(b, key=_sort_key)
    found = []
    for number, (x, y) in enumerate(zip(a, b)):
        if not all(_same_value(u, v, t) for u, v, t in zip(x, y, tolerances)):
            found.append(f"row {number}: one node {x!r}, cluster {y!r}")
            if len(found) >= 5:
                break
    return found
