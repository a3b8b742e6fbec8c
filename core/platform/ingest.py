"""Bulk loading: COPY of data frames into tables, and the validated CSV import of events.

A CSV import is all or nothing: the file's shape is checked first (core.platform.event_file),
then every row's values against the limits (core.platform.event_checks); the write itself is
one transaction, so a rejected file leaves no row, no partition and no import key behind. The
file's SHA-256 is the import's key: the same content imported again writes nothing.

The rows are checked a slice at a time (IMPORT_SLICE_ROWS), in file order, and each slice that
passes goes by binary COPY straight into its day partitions while the next one is checked: the
server stores rows while this process checks and encodes the next ones, so checking costs no
time of its own (on two cores the checks were a quarter of an import). A file whose first slice
fails is refused before anything is written; a later slice that fails stops the writing and
rolls it back. Either way every slice is still checked, so the refusal lists the file's first
problems and counts them all. What a late refusal leaves is what any rolled-back insert leaves:
the event_ids drawn for the rows written before it are skipped, and their space is vacuumed.
The rows' event_ids are drawn in one block when the other writers of events allow it
(_reserve_event_ids), which spares the server a nextval per row.
"""
from __future__ import annotations

import io
import itertools
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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
from sqlalchemy.exc import DBAPIError

from core.platform import config
from core.platform import pgcopy
from core.platform.db import execute, fetch_df, fetch_scalar, limit_lock_wait, lock_wait_ran_out
from core.platform.event_checks import (CODED_COLUMNS, DAY_MICROS, EPOCH, EVENT_COLUMNS, OPTIONAL_IMPORT_COLUMNS, REQUIRED_IMPORT_COLUMNS,
                                        missing_columns, new_partition_days, validate_events)
from core.platform.events import DAY_PARTITION, day_partition, partition_day
from core.platform.event_file import MAX_REPORTED_PROBLEMS, ImportRejected, open_event_file, read_rows

# Loaders and callers import these from here.
__all__ = ["EVENT_COLUMNS", "ImportRejected", "ImportResult", "import_events", "write_events", "copy_frame",
           "after_bulk_load", "MAX_REPORTED_PROBLEMS"]

COPY_CHUNK_ROWS = 500_000


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


def write_events(conn: Connection, events: pd.DataFrame | pa.Table, ensure_partitions: bool = True) -> int:
    """Append events (columns as EVENT_COLUMNS) in the caller's transaction, by binary COPY:
    each chunk is encoded while the server stores the one before (a writer thread sends).
    Partitions for every day from the first event's to the last's are made first, unless the
    caller made the ones it needs (ensure_partitions=False)."""
    if ensure_partitions:
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


def _day_runs(table: pa.Table) -> tuple[pa.Table, list[tuple[date, int, int]]]:
    """The rows grouped by UTC day (file order kept within a day; a file in time order is not
    moved) and each day's [start, end) rows."""
    micros = pc.cast(table["event_time"], pa.int64()).to_numpy(zero_copy_only=False)
    days = micros // DAY_MICROS
    if len(days) > 1 and (np.diff(days) < 0).any():
        order = np.argsort(days, kind="stable")
        table, days = table.take(pa.array(order)), days[order]
    starts = np.flatnonzero(np.diff(days)) + 1
    bounds = np.concatenate([[0], starts, [len(days)]])
    return table, [(EPOCH + timedelta(days=int(days[a])), int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


@dataclass
class _CheckedSlice:
    """Rows of an import that passed every check, and the day partitions to make before them."""
    events: pa.Table          # EVENT_COLUMNS, typed, every campaign filled in
    new_days: list[date]


EVENT_ID_COLUMN = ("event_id", "bigint")
RESERVE_LOCK_TIMEOUT_MS = 200  # how long a block of event_ids waits for the writers before it


def _reserve_event_ids(conn: Connection, count: int) -> int | None:
    """The first of `count` event_ids drawn in one block for this transaction, which holds ROW
    EXCLUSIVE on events already; None when other writers keep events longer than
    RESERVE_LOCK_TIMEOUT_MS (each row then draws its own id as it is written, as before). A
    block spares the server a nextval per row, a tenth to a fifth of a COPY's time."""
    savepoint = conn.begin_nested()
    try:
        limit_lock_wait(conn, RESERVE_LOCK_TIMEOUT_MS)
        execute(conn, "events_lock_for_reserving")
        return int(fetch_scalar(conn, "events_reserve_ids", count=count))
    except DBAPIError as error:
        if not lock_wait_ran_out(error):
            raise
        return None
    finally:
        savepoint.rollback()  # releases the lock and the timeout; the sequence stays past the block


def _write_events_by_day(conn: Connection, slices: Iterable[_CheckedSlice], rows: int) -> tuple[int, int]:
    """Append checked slices of events (`rows` of them in all) in the caller's transaction, by
    binary COPY straight into each day's partition (the server skips routing every row through
    events), making the partitions a slice needs first. A thread takes the slices (checking
    them, when they come from a generator that checks) and encodes their rows while the server
    stores the ones before; an error there aborts the COPY. The parent is locked first, as a
    COPY into events locks it; then the rows' event_ids are drawn in one block when the other
    writers allow, numbered in the order the rows are written. Returns the rows written and the
    partitions made."""
    execute(conn, "events_lock_for_writing")
    first_id = _reserve_event_ids(conn, rows) if rows else None
    copy_columns = ([EVENT_ID_COLUMN] if first_id is not None else []) + EVENT_COPY_COLUMNS
    columns = psql.SQL(", ").join(psql.Identifier(name) for name, _ in copy_columns)
    pieces: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()
    written = [0]

    def hand_over(item) -> bool:
        """Queue item for the writer; False when the writer has stopped."""
        while not stop.is_set():
            try:
                pieces.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def encode() -> None:
        next_id = first_id
        try:
            for number, checked in enumerate(slices):
                if checked.new_days and not hand_over(("partitions", checked.new_days)):
                    return
                table, runs = _day_runs(checked.events.select(EVENT_COLUMNS))
                for day, start, end in runs:  # one COPY per day of each slice: (number, day) names it
                    for first in range(start, end, EVENT_COPY_CHUNK_ROWS):
                        chunk = table.slice(first, min(EVENT_COPY_CHUNK_ROWS, end - first))
                        values = [(kind, chunk[name]) for name, kind in EVENT_COPY_COLUMNS]
                        if next_id is not None:
                            values.insert(0, ("bigint", pa.array(np.arange(next_id, next_id + chunk.num_rows))))
                            next_id += chunk.num_rows
                        data = pgcopy.encode(values, header=first == start, trailer=first + EVENT_COPY_CHUNK_ROWS >= end)
                        if not hand_over(((number, day), data)):
                            return
                written[0] += table.num_rows
            hand_over(None)
        except BaseException as error:  # handed to the writer, which raises it
            hand_over(error)

    def next_piece():
        piece = pieces.get()
        if isinstance(piece, BaseException):  # inside a COPY this aborts it rather than ending it
            raise piece
        return piece

    encoder = threading.Thread(target=encode, name="import-encode", daemon=True)
    raw = conn.connection.driver_connection
    created = 0
    encoder.start()
    try:
        with raw.cursor() as cursor:
            piece = next_piece()
            while piece is not None:
                if piece[0] == "partitions":
                    created += int(fetch_scalar(conn, "events_ensure_partition_days", days=piece[1]) or 0)
                    piece = next_piece()
                    continue
                run = piece[0]
                statement = psql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
                    psql.Identifier(day_partition(run[1])), columns)
                with cursor.copy(statement) as copy:
                    while piece is not None and piece[0] == run:
                        copy.write(piece[1])
                        piece = next_piece()
    finally:
        stop.set()
        encoder.join()
    return written[0], created


@dataclass
class ImportResult:
    rows: int
    attributed: int
    new_partitions: int = 0
    already_imported_at: datetime | None = None  # set when this content was imported before: nothing written
    already_imported_by: str | None = None


# Who may import is decided in core.access (PERMISSIONS["import_events"]), which the platform may
# not import: core.access.auth hands its check down here when it is loaded. Until then every
# import is refused (fail closed).
_authorize: Callable[[object, str], object] | None = None


def authorize_with(check: Callable[[object, str], object]) -> None:
    """Install the check of who may import: check(user, "import_events") raises when they may not."""
    global _authorize
    _authorize = check


def _require_import_right(user) -> None:
    if _authorize is None:
        raise PermissionError("Imports are refused: no permission check is loaded (import core.access.auth).")
    _authorize(user, "import_events")


def _attribute(db, typed: pa.Table, attribution_days: int, first_line: int = 2) -> tuple[pa.Table, int]:
    """Fill the empty campaign of each conversion with the campaign the member last opened or
    clicked within the window before it; rejects the file when some conversion has none.
    first_line: the line of typed's first row."""
    campaign = typed["campaign_id"].to_numpy(zero_copy_only=False).astype(float)  # NaN where empty
    rows = np.flatnonzero(np.isnan(campaign))
    if len(rows) == 0:
        return typed, 0
    members = typed["member_id"].to_numpy()[rows]
    times = typed["event_time"].to_pandas().iloc[rows]
    found = fetch_df(db, "attribute_conversions", member_ids=members.astype(int).tolist(),
                     event_times=times.tolist(), window_days=attribution_days)
    by_position = dict(zip(found.ordinality - 1, found.campaign_id))
    for position, row in enumerate(rows):
        if position in by_position and pd.notna(by_position[position]):
            campaign[row] = by_position[position]
    still = np.flatnonzero(np.isnan(campaign))
    if len(still):
        raise ImportRejected([
            f"line {row + first_line}, column campaign_id: empty, and member {typed['member_id'][int(row)].as_py()} "
            f"opened or clicked no campaign in the {attribution_days} days before this conversion"
            for row in still[:MAX_REPORTED_PROBLEMS]], len(still))
    index = typed.column_names.index("campaign_id")
    return typed.set_column(index, "campaign_id", pa.array(campaign.astype(np.int64))), len(rows)


IMPORT_SLICE_ROWS = 250_000  # rows checked at a time: the first slice's checks are the only ones not hidden


class _FileChecks:
    """Every check of a file's rows, a slice at a time in file order (see the module's
    docstring). Conversions are attributed from what is committed, on a connection of their
    own, as before the import writes: never from rows of the same file."""

    def __init__(self, engine: Engine, raw: pa.Table, known_campaigns, known_members, existing_days: set[date],
                 attribution_days: int, now: datetime | None):
        self.engine, self.raw, self.now = engine, raw, now
        self.known_campaigns, self.known_members = known_campaigns, known_members
        self.attribution_days = attribution_days
        self.days = set(existing_days)   # partitions there, or made by the slices before
        self.planned = 0                 # of those, made by this import
        self.attributed = 0
        self.problems: list[str] = []
        self.total = 0
        self.first_day: date | None = None
        self.last_day: date | None = None

    def check(self, start: int) -> _CheckedSlice | None:
        """The slice of rows from `start`, checked; None when it fails (its problems are kept)."""
        first_line = start + 2
        rows = self.raw.slice(start, IMPORT_SLICE_ROWS)
        typed, problems, total = validate_events(rows, self.known_campaigns, self.known_members, now=self.now,
                                                 first_line=first_line)
        if not total:
            try:
                typed, attributed = _attribute(self.engine, typed, self.attribution_days, first_line)
                new_days = new_partition_days(typed, self.days, first_line, self.planned)
            except ImportRejected as rejected:
                problems, total = rejected.problems, rejected.total
        if total:
            self.problems += problems
            self.total += total
            return None
        self.attributed += attributed
        self.days.update(new_days)
        self.planned += len(new_days)
        days = _utc_days(typed["event_time"])
        self.first_day = min(days[0], self.first_day or days[0])
        self.last_day = max(days[1], self.last_day or days[1])
        return _CheckedSlice(typed, new_days)

    def rejection(self, after: int) -> ImportRejected:
        """The file's refusal, once the slices from row `after` on are checked too."""
        for start in range(after, self.raw.num_rows, IMPORT_SLICE_ROWS):
            self.check(start)
        return ImportRejected(self.problems, self.total)

    def slices(self) -> Iterator[_CheckedSlice]:
        """Every slice, checked as it is asked for; the first failure raises the file's refusal."""
        for start in range(0, self.raw.num_rows, IMPORT_SLICE_ROWS):
            checked = self.check(start)
            if checked is None:
                raise self.rejection(start + IMPORT_SLICE_ROWS)
            yield checked


def import_events(engine: Engine, path: str | Path, user, attribution_days: int | None = None,
                  now: datetime | None = None) -> ImportResult:
    """Validate and load an events CSV as `user` (who needs the import right); all or nothing.
    The same content imported again writes nothing (its SHA-256 is the import's key)."""
    _require_import_right(user)
    attribution_days = attribution_days or config.ATTRIBUTION_WINDOW_DAYS
    file = open_event_file(path, REQUIRED_IMPORT_COLUMNS + OPTIONAL_IMPORT_COLUMNS)
    raw = read_rows(file, CODED_COLUMNS)
    earlier = fetch_df(engine, "event_import_find", content_sha256=file.sha256)
    if len(earlier):  # before the values are checked: the same file is a no-op even if it no longer passes
        return _already_imported(earlier)
    with engine.connect() as conn:
        known_campaigns = execute(conn, "campaign_ids").scalars().all()
        known_members = execute(conn, "member_ids").scalars().all()
        existing_days = {partition_day(name) for name in execute(conn, "event_partitions").scalars()
                         if DAY_PARTITION.fullmatch(name)}
    header_problems = missing_columns(raw)
    if header_problems:
        raise ImportRejected(header_problems, 1)
    checks = _FileChecks(engine, raw, known_campaigns, known_members, existing_days, attribution_days, now)
    slices = checks.slices()
    first = next(slices)  # a file refused in its first slice is refused before a transaction begins
    try:
        with engine.begin() as conn:
            # The key first: a second import of the same content waits here for the first to commit.
            if fetch_scalar(conn, "event_import_claim", content_sha256=file.sha256, file_name=file.name[:200],
                            rows=raw.num_rows, attributed=0,
                            imported_by=getattr(user, "email", str(user))) is None:
                raise _ImportedMeanwhile
            written, created = _write_events_by_day(conn, itertools.chain([first], slices), raw.num_rows)
            if checks.attributed:
                execute(conn, "event_import_attributed", content_sha256=file.sha256, attributed=checks.attributed)
    except _ImportedMeanwhile:  # rolled back: nothing of this import was written
        return _already_imported(fetch_df(engine, "event_import_find", content_sha256=file.sha256))
    _summarize_days(engine, checks.first_day, checks.last_day)
    return ImportResult(rows=written, attributed=checks.attributed, new_partitions=created)


class _ImportedMeanwhile(Exception):
    """The same content was imported by someone else while this import was being checked."""


def _already_imported(earlier: pd.DataFrame) -> ImportResult:
    first = earlier.iloc[0]
    return ImportResult(rows=0, attributed=0, already_imported_at=first.imported_at.to_pydatetime(),
                        already_imported_by=str(first.imported_by))


def after_bulk_load(engine: Engine, times, analyze: bool = True) -> None:
    """After a large COPY: summarize the new BRIN ranges of the days loaded (an unsummarized
    range matches every query) and, for a fresh load, refresh the planner's statistics of
    events. An import into a loaded table leaves statistics to autovacuum, which analyzes each
    partition whose rows changed enough; ANALYZE of every partition here would cost as much as
    the COPY itself at ten million events."""
    days = _utc_days(times)
    if days is None:
        return
    _summarize_days(engine, *days)
    if analyze:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE events")


def _summarize_days(engine: Engine, first_day: date | None, last_day: date | None) -> None:
    """Summarize the BRIN ranges of the day partitions from first_day to last_day: the earlier
    half of the days and the later half at the same time, each on a connection of its own (each
    partition's summary reads the rows written to it; two server processes share the work)."""
    if first_day is None:
        return

    def summarize(first: date, last: date) -> None:
        with engine.begin() as conn:
            execute(conn, "events_brin_summarize", first_day=first, last_day=last)

    middle = first_day + timedelta(days=(last_day - first_day).days // 2)
    if middle == last_day:
        return summarize(first_day, last_day)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="brin-summary") as later:
        later_half = later.submit(summarize, middle + timedelta(days=1), last_day)
        summarize(first_day, middle)
        later_half.result()
