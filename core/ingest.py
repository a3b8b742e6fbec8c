"""Bulk loading: COPY of data frames into tables, and the validated CSV import of events.

A CSV import is all or nothing: every row is checked before anything is written, and the
write itself is one transaction, so a rejected file leaves the database exactly as it was.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql as psql
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from core import config
from core.db import execute, fetch_df
from core.events import EVENT_CODES

EVENT_COLUMNS = ["event_time", "campaign_id", "member_id", "variant", "event_type",
                 "revenue", "reward_cost", "device", "region_code"]
REQUIRED_IMPORT_COLUMNS = ["event_time", "campaign_id", "member_id", "event_type"]
OPTIONAL_IMPORT_COLUMNS = ["variant", "revenue", "reward_cost", "device", "region_code"]
DEVICES = {"ios", "android", "web"}
COPY_CHUNK_ROWS = 500_000
MAX_REPORTED_PROBLEMS = 20


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """Frame as CSV that COPY reads: NULL unquoted-empty, times in microseconds (Arrow's
    writer is several times faster than pandas' to_csv)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for index, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type):
            table = table.set_column(index, column.name, table.column(index).cast(
                pa.timestamp("us", tz=column.type.tz or "UTC"), safe=False))
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    return buffer.getvalue()


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame, chunk_rows: int = COPY_CHUNK_ROWS) -> int:
    """COPY frame's columns into table (CSV over the wire, in chunks). Returns rows written."""
    raw = conn.connection.driver_connection
    statement = psql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        psql.Identifier(table), psql.SQL(", ").join(map(psql.Identifier, frame.columns)))
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for start in range(0, len(frame), chunk_rows):
            copy.write(_csv_bytes(frame.iloc[start:start + chunk_rows]))
    return len(frame)


def ensure_partitions_for(conn: Connection, times: pd.Series) -> None:
    if len(times) == 0:
        return
    execute(conn, "events_ensure_partitions",
            first_day=times.min().tz_convert("UTC").date(), last_day=times.max().tz_convert("UTC").date())


def write_events(conn: Connection, events: pd.DataFrame) -> int:
    """Append events (columns as EVENT_COLUMNS) in the caller's transaction."""
    ensure_partitions_for(conn, events.event_time)
    return copy_frame(conn, "events", events[EVENT_COLUMNS])


class ImportRejected(ValueError):
    """A file that cannot be imported, with every problem found (line, column, what is wrong)."""

    def __init__(self, problems: list[str], total: int):
        self.problems = problems
        self.total = total
        shown = "\n".join(f"  - {p}" for p in problems[:MAX_REPORTED_PROBLEMS])
        more = f"\n  … and {total - MAX_REPORTED_PROBLEMS} more" if total > MAX_REPORTED_PROBLEMS else ""
        super().__init__(f"The file was not imported ({total} problem{'s' if total != 1 else ''}); "
                         f"nothing was written. Fix these rows and import again:\n{shown}{more}")


@dataclass
class ImportResult:
    rows: int
    attributed: int


def _problem(line, column, value, what) -> str:
    return f"line {line}, column {column}: {value!r} {what}"


def validate_events(frame: pd.DataFrame, known_campaigns: set[int],
                    known_members: set[int]) -> tuple[pd.DataFrame, list[str], int]:
    """Check every row; return the typed frame, the first problems found (line numbers as in
    the file) and how many problems there are in all."""
    missing = [c for c in REQUIRED_IMPORT_COLUMNS if c not in frame.columns]
    if missing:
        return frame, [f"line 1 (header): missing column(s) {', '.join(missing)}; "
                       f"expected {', '.join(REQUIRED_IMPORT_COLUMNS + OPTIONAL_IMPORT_COLUMNS)}"], 1
    unknown = [c for c in frame.columns if c not in REQUIRED_IMPORT_COLUMNS + OPTIONAL_IMPORT_COLUMNS]
    if unknown:
        return frame, [f"line 1 (header): unknown column(s) {', '.join(unknown)}"], 1
    for column in OPTIONAL_IMPORT_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    line = np.arange(len(frame)) + 2  # the header is line 1
    problems: list[tuple[int, str]] = []

    def flag(mask, column, what):
        for i in np.flatnonzero(np.asarray(mask))[:MAX_REPORTED_PROBLEMS * 5]:
            problems.append((line[i], _problem(line[i], column, frame[column].iloc[i], what)))
        return int(np.asarray(mask).sum())

    counts = 0
    times = pd.to_datetime(frame.event_time, errors="coerce", utc=True, format="ISO8601")
    has_zone = frame.event_time.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
    counts += flag(times.isna(), "event_time", "is not a time; use ISO 8601 like 2026-11-02T14:05:00Z")
    counts += flag(times.notna() & ~has_zone, "event_time", "has no time zone; add Z or an offset like +01:00")
    counts += flag(times > pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=5), "event_time", "is in the future")

    event_type = frame.event_type.str.strip().str.lower().map(EVENT_CODES)
    counts += flag(event_type.isna(), "event_type", f"is not one of {', '.join(EVENT_CODES)}")
    is_conversion = (event_type == EVENT_CODES["conversion"]).to_numpy()

    member = pd.to_numeric(frame.member_id, errors="coerce")
    counts += flag(member.isna() | (member % 1 != 0), "member_id", "is not a whole number")
    counts += flag(member.notna() & ~member.isin(known_members), "member_id", "is not a known member")

    blank_campaign = frame.campaign_id.str.strip().eq("")
    campaign = pd.to_numeric(frame.campaign_id, errors="coerce")
    counts += flag(~blank_campaign & (campaign.isna() | (campaign % 1 != 0)), "campaign_id", "is not a whole number")
    counts += flag(campaign.notna() & ~campaign.isin(known_campaigns), "campaign_id", "is not a known campaign")
    counts += flag(blank_campaign & ~is_conversion, "campaign_id",
                   "is empty; only a conversion may leave it empty (it is then attributed)")

    money = {}
    for column in ("revenue", "reward_cost"):
        blank = frame[column].str.strip().eq("")
        value = pd.to_numeric(frame[column], errors="coerce")
        counts += flag(~blank & value.isna(), column, "is not a number")
        counts += flag(value < 0, column, "is negative")
        counts += flag(~blank & ~is_conversion, column, "is set on an event that is not a conversion")
        counts += flag(blank & is_conversion, column, "is missing on a conversion")
        money[column] = value
    device = frame.device.str.strip().str.lower()
    counts += flag(~device.eq("") & ~device.isin(DEVICES), "device", f"is not one of {', '.join(sorted(DEVICES))}")

    typed = pd.DataFrame({
        "event_time": times, "campaign_id": campaign.astype("Int64"), "member_id": member.astype("Int64"),
        "variant": frame.variant.str.strip().replace("", None), "event_type": event_type.astype("Int16"),
        "revenue": money["revenue"], "reward_cost": money["reward_cost"],
        "device": device.replace("", None), "region_code": frame.region_code.str.strip().replace("", None),
    })
    problems.sort()
    return typed, [p for _, p in problems], counts


def import_events(engine: Engine, path: str | Path, attribution_days: int | None = None) -> ImportResult:
    """Validate and load an events CSV; all or nothing."""
    attribution_days = attribution_days or config.ATTRIBUTION_WINDOW_DAYS
    path = Path(path)
    if not path.exists():
        raise ImportRejected([f"{path}: no such file"], 1)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ImportRejected([f"{path.name}: not a readable CSV file ({error})"], 1) from error
    if frame.empty:
        raise ImportRejected([f"{path.name}: the file has a header but no rows"], 1)
    with engine.connect() as conn:
        known_campaigns = set(fetch_df(conn, "campaign_ids").campaign_id.tolist())
        known_members = set(fetch_df(conn, "member_ids").member_id.tolist())
    typed, problems, total = validate_events(frame, known_campaigns, known_members)
    if total:
        raise ImportRejected(problems, total)

    with engine.begin() as conn:
        attributed = 0
        unattributed = typed.campaign_id.isna()
        if unattributed.any():
            wanted = typed.loc[unattributed, ["member_id", "event_time"]].reset_index()
            found = fetch_df(conn, "attribute_conversions",
                             member_ids=wanted.member_id.astype(int).tolist(),
                             event_times=wanted.event_time.tolist(),
                             window_days=attribution_days)
            campaign_by_row = dict(zip(found.ordinality - 1, found.campaign_id))
            for position, index in enumerate(wanted["index"]):
                if position in campaign_by_row and pd.notna(campaign_by_row[position]):
                    typed.at[index, "campaign_id"] = int(campaign_by_row[position])
            still = typed.campaign_id.isna()
            if still.any():
                lines = (np.flatnonzero(still.to_numpy()) + 2)[:MAX_REPORTED_PROBLEMS]
                raise ImportRejected([
                    f"line {line}, column campaign_id: empty, and member {typed.member_id.iloc[line - 2]} "
                    f"opened or clicked no campaign in the {attribution_days} days before this conversion"
                    for line in lines], int(still.sum()))
            attributed = int(unattributed.sum())
        written = write_events(conn, typed)
    after_bulk_load(engine, typed.event_time)
    return ImportResult(rows=written, attributed=attributed)


def after_bulk_load(engine: Engine, times: pd.Series) -> None:
    """After a large COPY: summarize the new BRIN ranges of the days loaded (an unsummarized
    range matches every query) and refresh the planner's statistics of events."""
    if len(times) == 0:
        return
    with engine.begin() as conn:
        execute(conn, "events_brin_summarize", first_day=times.min().tz_convert("UTC").date(),
                last_day=times.max().tz_convert("UTC").date())
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE events")
