"""Bulk loading: COPY of data frames into tables, and the validated CSV import of events.

A CSV import is all or nothing: every row is checked before anything is written, and the
write itself is one transaction, so a rejected file leaves the database exactly as it was.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql as psql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from core.platform import config
from core.platform import pgcopy
from core.platform.db import execute, fetch_df
from core.platform.events import EVENT_CODES

EVENT_COLUMNS = ["event_time", "campaign_id", "member_id", "variant", "event_type",
                 "revenue", "reward_cost", "device", "region_code"]
REQUIRED_IMPORT_COLUMNS = ["event_time", "campaign_id", "member_id", "event_type"]
OPTIONAL_IMPORT_COLUMNS = ["variant", "revenue", "reward_cost", "device", "region_code"]
DEVICES = {"ios", "android", "web"}
COPY_CHUNK_ROWS = 500_000
MAX_REPORTED_PROBLEMS = 20


def _arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
    return frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)


def _csv_bytes(table: pa.Table) -> bytes:
    """Table as CSV that COPY reads: NULL unquoted-empty; aware times as UTC wall-clock times in
    microseconds (the session's time zone is UTC), because Arrow writes zone-less times about
    twenty times faster than zoned ones."""
    for index, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            micros = pc.cast(pc.cast(table.column(index), pa.timestamp("us", tz="UTC"), safe=False), pa.int64())
            table = table.set_column(index, column.name, pc.cast(micros, pa.timestamp("us")))
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    return buffer.getvalue()


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame | pa.Table, chunk_rows: int = COPY_CHUNK_ROWS) -> int:
    """COPY frame's columns into table (CSV over the wire, in chunks). Returns rows written."""
    data = _arrow(frame)
    raw = conn.connection.driver_connection
    statement = psql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        psql.Identifier(table), psql.SQL(", ").join(map(psql.Identifier, data.column_names)))
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL timezone = 'UTC'")  # the zone-less times written above are UTC
        with cursor.copy(statement) as copy:
            for start in range(0, data.num_rows, chunk_rows):
                copy.write(_csv_bytes(data.slice(start, chunk_rows)))
    return data.num_rows


def _utc_days(times: pd.Series | pa.ChunkedArray | pa.Array) -> tuple[date, date] | None:
    """First and last UTC day of aware times (None when there are none)."""
    if isinstance(times, pd.Series):
        if times.empty:
            return None
        return times.min().tz_convert("UTC").date(), times.max().tz_convert("UTC").date()
    bounds = pc.min_max(pc.cast(times, pa.timestamp("us", tz="UTC")))
    if not bounds["min"].is_valid:
        return None
    return bounds["min"].as_py().date(), bounds["max"].as_py().date()


def ensure_partitions_for(conn: Connection, times) -> None:
    days = _utc_days(times)
    if days:
        execute(conn, "events_ensure_partitions", first_day=days[0], last_day=days[1])


# The events' columns in the order of their binary COPY (fixed-width first) and their kinds.
EVENT_COPY_COLUMNS = [("event_time", "timestamptz"), ("campaign_id", "integer"), ("member_id", "bigint"),
                      ("event_type", "smallint"), ("revenue", "numeric_2dp"), ("reward_cost", "numeric_2dp"),
                      ("variant", "text"), ("device", "text"), ("region_code", "text")]
EVENT_COPY_CHUNK_ROWS = 200_000


def write_events(conn: Connection, events: pd.DataFrame | pa.Table) -> int:
    """Append events (columns as EVENT_COLUMNS) in the caller's transaction, by binary COPY:
    each chunk is encoded while the server stores the one before (a writer thread sends)."""
    ensure_partitions_for(conn, events["event_time"])
    table = _arrow(events[EVENT_COLUMNS] if isinstance(events, pd.DataFrame) else events.select(EVENT_COLUMNS))
    statement = psql.SQL("COPY events ({}) FROM STDIN (FORMAT binary)").format(
        psql.SQL(", ").join(psql.Identifier(name) for name, _ in EVENT_COPY_COLUMNS))
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        for start in range(0, max(table.num_rows, 1), EVENT_COPY_CHUNK_ROWS):
            chunk = table.slice(start, EVENT_COPY_CHUNK_ROWS)
            copy.write(pgcopy.encode([(kind, chunk[name]) for name, kind in EVENT_COPY_COLUMNS],
                                     header=start == 0, trailer=start + EVENT_COPY_CHUNK_ROWS >= table.num_rows))
    return table.num_rows


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


def read_events_csv(path: Path) -> pa.Table:
    """The file's columns as trimmed strings ('' when empty), read by Arrow on every core."""
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in REQUIRED_IMPORT_COLUMNS + OPTIONAL_IMPORT_COLUMNS},
            strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise ImportRejected([f"{path.name}: not a readable CSV file ({error})"], 1) from error
    return pa.table({name: pc.ascii_trim_whitespace(pc.cast(table[name], pa.string()))
                     for name in table.column_names})


def _numbers(strings: pa.ChunkedArray) -> np.ndarray:
    """Strings as float64; NaN where blank or not a number."""
    blanked = pc.if_else(pc.equal(strings, ""), pa.scalar(None, pa.string()), strings)
    try:
        values = pc.cast(blanked, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:  # some value is not a number: parse leniently, the checks name it
        values = pd.to_numeric(pd.Series(blanked.to_numpy(zero_copy_only=False)), errors="coerce").to_numpy(float)
    return np.where(np.isfinite(values), values, np.nan)


def _utc_micros(strings: pa.ChunkedArray) -> np.ndarray:
    """ISO 8601 times as UTC microseconds (float, NaN where not a time)."""
    try:
        parsed = pc.cast(strings, pa.timestamp("us", tz="UTC"))
        return pc.cast(parsed, pa.int64()).to_numpy(zero_copy_only=False).astype(float)
    except pa.ArrowInvalid:  # some value is not a time: parse row by row, the checks name it
        times = pd.to_datetime(pd.Series(strings.to_numpy(zero_copy_only=False)), errors="coerce", utc=True,
                               format="ISO8601")
        micros = times.to_numpy(dtype="datetime64[us]").astype(np.int64).astype(float)
        return np.where(times.isna().to_numpy(), np.nan, micros)


def _known(values: np.ndarray, known: set[int]) -> np.ndarray:
    """values (float) that are in known (a hash lookup per value)."""
    return pc.is_in(pa.array(values), value_set=pa.array(sorted(known), pa.float64())).to_numpy(zero_copy_only=False)


def validate_events(raw: pa.Table, known_campaigns: set[int],
                    known_members: set[int]) -> tuple[pa.Table, list[str], int]:
    """Check every row; return the typed events (an Arrow table of EVENT_COLUMNS, campaign_id
    null where the file leaves it empty), the first problems found (line numbers as in the
    file) and how many problems there are in all."""
    columns = raw.column_names
    missing = [c for c in REQUIRED_IMPORT_COLUMNS if c not in columns]
    if missing:
        return raw, [f"line 1 (header): missing column(s) {', '.join(missing)}; "
                     f"expected {', '.join(REQUIRED_IMPORT_COLUMNS + OPTIONAL_IMPORT_COLUMNS)}"], 1
    unknown = [c for c in columns if c not in REQUIRED_IMPORT_COLUMNS + OPTIONAL_IMPORT_COLUMNS]
    if unknown:
        return raw, [f"line 1 (header): unknown column(s) {', '.join(unknown)}"], 1
    rows = raw.num_rows
    text = {c: raw[c] if c in columns else pa.chunked_array([pc.fill_null(pa.nulls(rows, pa.string()), "")])
            for c in REQUIRED_IMPORT_COLUMNS + OPTIONAL_IMPORT_COLUMNS}
    blank = {c: pc.equal(text[c], "").to_numpy(zero_copy_only=False) for c in text}
    problems: list[tuple[int, str]] = []

    def flag(mask, column, what):
        mask = np.asarray(mask, dtype=bool)
        for i in np.flatnonzero(mask)[:MAX_REPORTED_PROBLEMS * 5]:
            line = int(i) + 2  # the header is line 1
            problems.append((line, _problem(line, column, text[column][int(i)].as_py(), what)))
        return int(mask.sum())

    counts = 0
    micros = _utc_micros(text["event_time"])
    has_zone = pc.match_substring_regex(text["event_time"], r"(?:Z|[+-]\d\d:?\d\d)$").to_numpy(zero_copy_only=False)
    now = pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=5)
    counts += flag(np.isnan(micros), "event_time", "is not a time; use ISO 8601 like 2026-11-02T14:05:00Z")
    counts += flag(~np.isnan(micros) & ~has_zone, "event_time", "has no time zone; add Z or an offset like +01:00")
    counts += flag(micros > now.value / 1000, "event_time", "is in the future")

    names = list(EVENT_CODES)
    position = pc.index_in(pc.utf8_lower(text["event_type"]), value_set=pa.array(names)).to_numpy(zero_copy_only=False)
    known_type = ~np.isnan(position.astype(float))
    counts += flag(~known_type, "event_type", f"is not one of {', '.join(names)}")
    codes = np.array([EVENT_CODES[n] for n in names], dtype=np.int16)
    event_type = np.where(known_type, codes[np.nan_to_num(position.astype(float)).astype(int)], 0).astype(np.int16)
    is_conversion = event_type == EVENT_CODES["conversion"]

    member = _numbers(text["member_id"])
    whole_member = ~np.isnan(member) & (member % 1 == 0)
    counts += flag(~whole_member, "member_id", "is not a whole number")
    counts += flag(whole_member & ~_known(member, known_members), "member_id", "is not a known member")

    campaign = _numbers(text["campaign_id"])
    counts += flag(~blank["campaign_id"] & (np.isnan(campaign) | (campaign % 1 != 0)), "campaign_id", "is not a whole number")
    counts += flag(~np.isnan(campaign) & ~_known(campaign, known_campaigns), "campaign_id", "is not a known campaign")
    counts += flag(blank["campaign_id"] & ~is_conversion, "campaign_id",
                   "is empty; only a conversion may leave it empty (it is then attributed)")

    money = {}
    for column in ("revenue", "reward_cost"):
        value = _numbers(text[column])
        counts += flag(~blank[column] & np.isnan(value), column, "is not a number")
        counts += flag(value < 0, column, "is negative")
        counts += flag(~blank[column] & ~is_conversion, column, "is set on an event that is not a conversion")
        counts += flag(blank[column] & is_conversion, column, "is missing on a conversion")
        money[column] = value
    device = pc.utf8_lower(text["device"])
    counts += flag(~blank["device"] & ~pc.is_in(device, value_set=pa.array(sorted(DEVICES))).to_numpy(zero_copy_only=False),
                   "device", f"is not one of {', '.join(sorted(DEVICES))}")
    if counts:
        problems.sort()
        return raw, [p for _, p in problems], counts

    empty_is_null = lambda strings: pc.if_else(pc.equal(strings, ""), pa.scalar(None, pa.string()), strings)  # noqa: E731
    typed = pa.table({
        "event_time": pa.array(micros.astype(np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "campaign_id": pa.array(np.nan_to_num(campaign).astype(np.int64), mask=np.isnan(campaign)),
        "member_id": pa.array(member.astype(np.int64)),
        "variant": empty_is_null(text["variant"]), "event_type": pa.array(event_type),
        "revenue": pa.array(money["revenue"], mask=np.isnan(money["revenue"])),
        "reward_cost": pa.array(money["reward_cost"], mask=np.isnan(money["reward_cost"])),
        "device": empty_is_null(device), "region_code": empty_is_null(text["region_code"]),
    })
    return typed, [], 0


def _attribute(conn: Connection, typed: pa.Table, attribution_days: int) -> tuple[pa.Table, int]:
    """Fill the empty campaign of each conversion with the campaign the member last opened or
    clicked within the window before it; rejects the file when some conversion has none."""
    campaign = typed["campaign_id"].to_numpy(zero_copy_only=False)  # float, NaN where empty
    rows = np.flatnonzero(np.isnan(campaign.astype(float)))
    if len(rows) == 0:
        return typed, 0
    members = typed["member_id"].to_numpy()[rows]
    times = typed["event_time"].to_pandas().iloc[rows]
    found = fetch_df(conn, "attribute_conversions", member_ids=members.astype(int).tolist(),
                     event_times=times.tolist(), window_days=attribution_days)
    campaign = campaign.astype(float)
    by_position = dict(zip(found.ordinality - 1, found.campaign_id))
    for position, row in enumerate(rows):
        if position in by_position and pd.notna(by_position[position]):
            campaign[row] = by_position[position]
    still = np.flatnonzero(np.isnan(campaign))
    if len(still):
        raise ImportRejected([
            f"line {row + 2}, column campaign_id: empty, and member {typed['member_id'][int(row)].as_py()} "
            f"opened or clicked no campaign in the {attribution_days} days before this conversion"
            for row in still[:MAX_REPORTED_PROBLEMS]], len(still))
    index = typed.column_names.index("campaign_id")
    return typed.set_column(index, "campaign_id", pa.array(campaign.astype(np.int64))), len(rows)


def import_events(engine: Engine, path: str | Path, attribution_days: int | None = None) -> ImportResult:
    """Validate and load an events CSV; all or nothing."""
    attribution_days = attribution_days or config.ATTRIBUTION_WINDOW_DAYS
    path = Path(path)
    if not path.exists():
        raise ImportRejected([f"{path}: no such file"], 1)
    raw = read_events_csv(path)
    if raw.num_rows == 0:
        raise ImportRejected([f"{path.name}: the file has a header but no rows"], 1)
    with engine.connect() as conn:
        known_campaigns = set(execute(conn, "campaign_ids").scalars())
        known_members = set(execute(conn, "member_ids").scalars())
    typed, problems, total = validate_events(raw, known_campaigns, known_members)
    if total:
        raise ImportRejected(problems, total)
    with engine.begin() as conn:
        typed, attributed = _attribute(conn, typed, attribution_days)
        written = write_events(conn, typed)
    after_bulk_load(engine, typed["event_time"], analyze=False)
    return ImportResult(rows=written, attributed=attributed)


def after_bulk_load(engine: Engine, times, analyze: bool = True) -> None:
    """After a large COPY: summarize the new BRIN ranges of the days loaded (an unsummarized
    range matches every query) and, for a fresh load, refresh the planner's statistics of
    events. An import into a loaded table leaves statistics to autovacuum, which analyzes each
    partition whose rows changed enough; ANALYZE of every partition here would cost as much as
    the COPY itself at ten million events."""
    days = _utc_days(times)
    if days is None:
        return
    with engine.begin() as conn:
        execute(conn, "events_brin_summarize", first_day=days[0], last_day=days[1])
    if analyze:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE events")
