"""No input can stop the pipeline (issue 9): every malformed or hostile events file of the
attack list is either rejected with the file's line and column, what is wrong and what to do —
never a traceback — leaving the database exactly as it was, or accepted with the rollups still
advancing. Files are generated per case; times are relative to today."""
from __future__ import annotations

import gzip
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from core.access.auth import SYSTEM, PermissionDenied, User
from core.platform import config, event_file, rollup
from core.platform.db import fetch_scalar
from core.platform.event_checks import MAX_NEW_PARTITIONS
from core.platform.ingest import ImportRejected, import_events
from tests.factories import events_frame, insert_events, seed_dimensions

HEADER = "event_time,campaign_id,member_id,event_type,variant,revenue,reward_cost,device,region_code"
ADMIN = User("admin@example.com", "Admin", "admin")
NOW = datetime.now(timezone.utc)
RECENT = (NOW - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
MAXIMUM = "9999999999.99"  # the largest amount an event holds: numeric(12,2)


def row(member="1", kind="open", revenue="", cost="", variant="", region="", when=RECENT, campaign="1") -> str:
    return f"{when},{campaign},{member},{kind},{variant},{revenue},{cost},,{region}"


def lines(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


GOOD = [row(member=str(m)) for m in (2, 3, 4)]  # valid rows around each bad one
DAILY_SINCE_2016 = [row(when=f"{day:%Y-%m-%d}T12:00:00Z") for day in
                    (datetime(2016, 1, 1) + timedelta(days=d) for d in range(0, (NOW.replace(tzinfo=None) - datetime(2016, 1, 1)).days, 7))]

# case -> (file content, file name, the expected "line L, column C", what the message says)
REJECTED = {
    "1 MB region_code": (lines(*GOOD, row(region="x" * 1_048_576)), None, "line 5, column region_code", "longer than 32"),
    "revenue 1e300": (lines(row(kind="conversion", revenue="1e300", cost="1")), None, "line 2, column revenue", "more than 9,999,999,999.99"),
    "revenue 1e13": (lines(*GOOD, row(kind="conversion", revenue="1e13", cost="1")), None, "line 5, column revenue", "more than"),
    "revenue 1e11": (lines(row(kind="conversion", revenue="1e11", cost="1")), None, "line 2, column revenue", "more than"),
    "reward_cost just over the maximum": (lines(row(kind="conversion", revenue="1", cost="9999999999.995")), None,
                                          "line 2, column reward_cost", "more than"),
    "NUL byte in a text field": (lines(*GOOD, row(variant="con\x00trol")), None, "line 5, column variant", "NUL byte"),
    "2016 to now": (lines(*DAILY_SINCE_2016), None, "line 2, column event_time", "the oldest day whose raw events are kept"),
    "a 1970 event": (lines(*GOOD, row(when="1970-01-01T00:00:00Z")), None, "line 5, column event_time", "oldest day"),
    "duplicated header column": (lines(*GOOD, header=HEADER + ",member_id"), None, "line 1 (header), column 10",
                                 "'member_id' appears again (first as column 3)"),
    "extra field": (lines(*GOOD, row() + ",surplus"), None, "line 5, column 10", "10 fields, but the header has 9"),
    "missing fields": (lines(*GOOD, ",".join(row().split(",")[:6])), None, "line 5, column reward_cost",
                       "6 fields, but the header has 9"),
    "unterminated quote": (lines(*GOOD, row(variant='"control'), *GOOD), None, "line 5, column variant",
                           "never closed"),
    "quoted line break": (lines(*GOOD, row(variant='"con\ntrol"')), None, "line 5, column variant", "line breaks"),
    "not UTF-8": (lines(*GOOD).replace(b"open", b"op\xe9n", 1), None, "line 2, column event_type", "not UTF-8"),
    "UTF-16 file": (b"\xff\xfe" + lines(*GOOD).decode().encode("utf-16-le"), None, "line 1, column 1", "not UTF-8"),
    "empty file": (b"", None, "line 1, column 1", "is empty"),
    "header only": (f"{HEADER}\n".encode(), None, "line 2, column 1", "has a header but no rows"),
    "blank line inside": (lines(GOOD[0], "", GOOD[1]), None, "line 3, column 1", "the line is empty"),
    "member id 1e3": (lines(*GOOD, row(member="1e3")), None, "line 5, column member_id", "'1e3' is not a whole number"),
    "member id 1.0": (lines(row(member="1.0")), None, "line 2, column member_id", "not a whole number"),
    "campaign id 2.5e0": (lines(row(campaign="2.5e0")), None, "line 2, column campaign_id", "not a whole number"),
    "member id of 25 digits": (lines(row(member="1" * 25)), None, "line 2, column member_id", "not a whole number"),
    "formula in region_code": (lines(row(region="=cmd|' /C calc'!A0")), None, "line 2, column region_code",
                               "not allowed"),
    "leading + - @ in variant": (lines(row(variant="+1"), row(variant="-x"), row(variant="@SUM(A1)")), None,
                                 "line 4, column variant", "not allowed"),
    "control character in variant": (lines(row(variant="a\x1bb")), None, "line 2, column variant", "not allowed"),
    "variant of 41 characters": (lines(row(variant="v" * 41)), None, "line 2, column variant", "longer than 40"),
    "gzip that cannot be unpacked": (gzip.compress(lines(*GOOD))[:30], "truncated.csv", "line 1, column 1",
                                     "cannot be unpacked"),
    "spreadsheet saved as CSV": (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xa1\xb2", "book.csv", "line 1, column",
                                 "not UTF-8"),
}


def snapshot(engine) -> dict:
    with engine.connect() as conn:
        one = lambda sql: conn.execute(text(sql)).one()  # noqa: E731
        return {
            "events": one("SELECT count(*), coalesce(sum(event_id), 0) FROM events"),
            "partitions": one("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass"),
            "sequence": one("SELECT last_value FROM events_event_id_seq"),
            "watermark": one("SELECT last_event_id, latest_event_at FROM rollup_watermarks"),
            "rollups": one("SELECT count(*), coalesce(sum(revenue), 0) FROM campaign_members"),
            "imports": one("SELECT count(*) FROM event_imports"),
        }


@pytest.fixture
def seeded(db):
    seed_dimensions(db)
    insert_events(db, events_frame([(NOW - timedelta(days=5), 1, 1, "send")]))
    rollup.refresh_all(db)
    return db


def put(tmp_path: Path, content: bytes, name: str | None = None) -> Path:
    path = tmp_path / (name or "events.csv")
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_a_bad_file_is_rejected_with_line_and_column_and_changes_nothing(seeded, tmp_path, case):
    content, name, where, what = REJECTED[case]
    before = snapshot(seeded)
    with pytest.raises(ImportRejected) as rejected:
        import_events(seeded, put(tmp_path, content, name), ADMIN)
    message = str(rejected.value)
    assert where in message and what in message, message
    assert re.search(r"line \d+(?: \(header\))?, column \w+", message)
    assert "nothing was written" in message and len(message) < 10_000  # a 1 MB value is not echoed back
    assert snapshot(seeded) == before


def test_the_same_file_imported_again_writes_nothing(seeded, tmp_path):
    path = put(tmp_path, lines(*GOOD, row(kind="conversion", revenue="12.50", cost="1")))
    first = import_events(seeded, path, ADMIN)
    assert first.rows == 4 and first.already_imported_at is None
    after_first = snapshot(seeded)
    for attempt in range(3):  # the file went in four times over
        again = import_events(seeded, put(tmp_path, path.read_bytes(), f"copy{attempt}.csv"), SYSTEM)
        assert again.rows == 0 and again.already_imported_by == ADMIN.email and again.already_imported_at
    assert snapshot(seeded) == after_first
    changed = import_events(seeded, put(tmp_path, path.read_bytes() + row(member="5").encode() + b"\n"), ADMIN)
    assert changed.rows == 5  # other content is another import


def folded_to_the_end(engine) -> bool:
    rollup.refresh_all(engine)
    return fetch_scalar(engine, "rollup_watermark_read") == fetch_scalar(engine, "events_last_assigned_id")


def test_a_gzip_file_named_csv_is_read_as_its_content(seeded, tmp_path):
    result = import_events(seeded, put(tmp_path, gzip.compress(lines(*GOOD)), "events.csv"), ADMIN)
    assert result.rows == 3
    assert folded_to_the_end(seeded)


def test_a_byte_order_mark_windows_line_ends_and_trailing_blank_lines_are_fine(seeded, tmp_path):
    content = b"\xef\xbb\xbf" + lines(*GOOD).replace(b"\n", b"\r\n") + b"\r\n\r\n"
    assert import_events(seeded, put(tmp_path, content), ADMIN).rows == 3


def test_101_conversions_of_one_member_at_the_maximum_fold(seeded, tmp_path):
    """Each at the largest amount an event holds: their sums overflowed numeric(14,2) before
    the sums became numeric without a precision."""
    body = [row(member="7", kind="conversion", revenue=MAXIMUM, cost=MAXIMUM, when=f"{(NOW - timedelta(days=2, seconds=s)):%Y-%m-%dT%H:%M:%SZ}")
            for s in range(101)]
    assert import_events(seeded, put(tmp_path, lines(*body)), ADMIN).rows == 101
    assert folded_to_the_end(seeded)
    with seeded.connect() as conn:
        revenue, cost, conversions = conn.execute(text(
            "SELECT revenue, reward_cost, conversions FROM campaign_members WHERE member_id = 7")).one()
        day_total = conn.execute(text("SELECT sum(revenue) FROM rollup_campaign_day WHERE campaign_id = 1")).scalar()
    assert conversions == 101 and revenue == cost == 101 * Decimal(MAXIMUM)
    assert day_total == 101 * Decimal(MAXIMUM)
    assert fetch_scalar(seeded, "rollup_watermark_read") == fetch_scalar(seeded, "events_last_assigned_id")


@pytest.mark.parametrize("slice_rows", [None, 7])
def test_new_day_partitions_per_import_are_bounded(seeded, tmp_path, monkeypatch, slice_rows):
    """Also when the file is checked seven rows at a time: the days the slices before add count."""
    import core.platform.ingest as ingest
    if slice_rows:
        monkeypatch.setattr(ingest, "IMPORT_SLICE_ROWS", slice_rows)
    first = NOW.date() - timedelta(days=MAX_NEW_PARTITIONS + 40)
    days = [first + timedelta(days=d) for d in range(MAX_NEW_PARTITIONS + 1)]
    before = snapshot(seeded)
    with pytest.raises(ImportRejected) as rejected:
        import_events(seeded, put(tmp_path, lines(*(row(when=f"{d}T08:00:00Z") for d in days))), ADMIN)
    message = str(rejected.value)
    assert f"line {MAX_NEW_PARTITIONS + 2}, column event_time" in message
    assert f"{MAX_NEW_PARTITIONS + 1} days that have no events yet" in message and "split it by date" in message
    unchanged = snapshot(seeded)
    if slice_rows:  # refused in a later slice: rolled back, the event_ids of the rows written before it skipped
        unchanged["sequence"] = before["sequence"]
    assert unchanged == before
    accepted = import_events(seeded, put(tmp_path, lines(*(row(when=f"{d}T08:00:00Z") for d in days[:-1]))), ADMIN)
    assert accepted.new_partitions == MAX_NEW_PARTITIONS
    assert folded_to_the_end(seeded)


def test_the_edges_of_the_limits_are_accepted(seeded, tmp_path):
    now = datetime.now(timezone.utc)  # one clock for the file and the checks (not the module's import time)
    oldest = now.date() - timedelta(days=config.RAW_RETENTION_DAYS)
    body = [row(when=f"{oldest}T00:00:00Z"), row(when=(now + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")),
            row(variant="v" * 40, region="R" * 32), row(variant="Variant B.2_x-y", region="US-NY_1.a"),
            row(member="000001", kind="conversion", revenue=MAXIMUM, cost="0")]
    assert import_events(seeded, put(tmp_path, lines(*body)), ADMIN, now=now).rows == 5
    with pytest.raises(ImportRejected, match="line 2, column event_time"):
        import_events(seeded, put(tmp_path, lines(row(when=f"{oldest - timedelta(days=1)}T23:59:59Z"))), ADMIN, now=now)
    with pytest.raises(ImportRejected, match="line 2, column event_time: .* is in the future"):
        import_events(seeded, put(tmp_path, lines(row(when=(now + timedelta(minutes=6)).strftime("%Y-%m-%dT%H:%M:%SZ")))), ADMIN, now=now)
    assert folded_to_the_end(seeded)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(seeded, tmp_path, monkeypatch):
    monkeypatch.setattr(event_file, "MAX_FILE_BYTES", 1000)
    content = lines(*GOOD * 20)
    for name, data in (("big.csv", content), ("big.csv.gz", gzip.compress(content))):
        with pytest.raises(ImportRejected, match="line 1, column 1: .*split the file"):
            import_events(seeded, put(tmp_path, data, name), ADMIN)


@pytest.mark.parametrize("user", [None, {"email": "admin@example.com", "role": "admin"},
                                  *(User(f"{r}@example.com", r, r) for r in ("exec", "analyst", "manager"))],
                         ids=["nobody", "forged", "exec", "analyst", "manager"])
def test_only_admins_and_the_system_import(seeded, tmp_path, user):
    path = put(tmp_path, lines(*GOOD))
    before = snapshot(seeded)
    with pytest.raises(PermissionDenied):
        import_events(seeded, path, user)
    assert snapshot(seeded) == before
    assert import_events(seeded, path, SYSTEM).rows == 3


def test_the_same_file_imported_twice_at_once_is_written_once(seeded, tmp_path):
    import threading

    path = put(tmp_path, lines(*GOOD))
    results, errors, start = [], [], threading.Barrier(2)

    def run():
        start.wait()
        try:
            results.append(import_events(seeded, path, ADMIN))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(r.rows for r in results) == [0, 3]  # one wrote, the other found it imported
    with seeded.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM event_imports")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM events WHERE member_id IN (2, 3, 4)")).scalar() == 3
