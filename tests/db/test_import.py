"""CSV import of events: every row validated, a bad file rejected with line, column and
problem, and the database left exactly as it was; good files load and conversions without a
campaign are attributed to the last open or click within the window. Times are days before
today (the retention window moves with the calendar)."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from core.access.auth import User
from core.platform import rollup
from core.platform.ingest import ImportRejected, import_events, write_events
from tests.factories import events_frame, insert_events, seed_dimensions

HEADER = "event_time,campaign_id,member_id,event_type,variant,revenue,reward_cost,device,region_code\n"
ADMIN = User("admin@example.com", "Admin", "admin")
FIRST_DAY = datetime.now(timezone.utc).date() - timedelta(days=60)


def day(number: int) -> date:
    """The tests' day `number` (day 1 is sixty days ago)."""
    return FIRST_DAY + timedelta(days=number - 1)


def at(number: int, clock: str = "10:00:00") -> str:
    return f"{day(number)}T{clock}Z"


def times(body: str) -> str:
    """body with {d1}, {d2}, … replaced by 10:00 UTC on the tests' days."""
    return body.format_map({f"d{n}": at(n) for n in range(1, 60)})


def snapshot(engine) -> dict:
    with engine.connect() as conn:
        return {
            "events": conn.execute(text("SELECT count(*), coalesce(sum(event_id), 0) FROM events")).one(),
            "partitions": conn.execute(text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass")).scalar(),
            "sequence": conn.execute(text("SELECT last_value FROM events_event_id_seq")).scalar(),
            "imports": conn.execute(text("SELECT count(*) FROM event_imports")).scalar(),
        }


def write(tmp_path: Path, body: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


@pytest.fixture
def seeded(db):
    seed_dimensions(db)
    insert_events(db, events_frame([(at(1), 1, 1, "send")]))
    return db


BAD_ROWS = [
    ("{d2},1,1,open,,,,,\n" + f"{day(2)} 10:00:00,1,1,click,,,,,\n", "line 3, column event_time", "no time zone"),
    ("{d2},1,1,opened,,,,,\n", "line 2, column event_type", "is not one of"),
    ("{d2},99,1,open,,,,,\n", "line 2, column campaign_id", "not a known campaign"),
    ("{d2},1,abc,open,,,,,\n", "line 2, column member_id", "not a whole number"),
    ("{d2},1,1,conversion,,,,,\n", "line 2, column revenue", "missing on a conversion"),
    ("{d2},1,1,conversion,,-5,1,,\n", "line 2, column revenue", "is negative"),
    ("{d2},1,1,open,,12.5,,,\n", "line 2, column revenue", "not a conversion"),
    ("{d2},1,1,open,,,,tablet,\n", "line 2, column device", "is not one of"),
    ("2099-10-02T10:00:00Z,1,1,open,,,,,\n", "line 2, column event_time", "in the future"),
    ("{d2},,1,open,,,,,\n", "line 2, column campaign_id", "only a conversion may leave it empty"),
    ("{d20},,5,conversion,,10,1,,\n", "line 2, column campaign_id", "opened or clicked no campaign"),
]


@pytest.mark.parametrize("body, where, what", BAD_ROWS)
def test_bad_file_is_rejected_and_changes_nothing(seeded, tmp_path, body, where, what):
    before = snapshot(seeded)
    good = times("{d46},2,3,send,,,,,\n") * 3  # valid rows in a new day's partition
    with pytest.raises(ImportRejected) as rejected:
        import_events(seeded, write(tmp_path, times(body) + good), ADMIN)
    message = str(rejected.value)
    assert where in message and what in message
    assert "nothing was written" in message
    assert snapshot(seeded) == before


def test_header_problems_are_named(seeded, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text(f"when,campaign,member\n{at(1)},1,1\n")
    with pytest.raises(ImportRejected, match="line 1 \\(header\\), column 1: 'when' is not a column"):
        import_events(seeded, path, ADMIN)
    path.write_text(f"event_time,member_id\n{at(1)},1\n")
    with pytest.raises(ImportRejected, match="line 1 \\(header\\), column 3: missing column\\(s\\) campaign_id, event_type"):
        import_events(seeded, path, ADMIN)


def test_many_problems_are_counted_and_the_first_listed(seeded, tmp_path):
    body = "".join(f"{at(2)},1,{i},jump,,,,,\n" for i in range(1, 21)) * 3
    with pytest.raises(ImportRejected) as rejected:
        import_events(seeded, write(tmp_path, body), ADMIN)
    assert rejected.value.total == 60
    assert "and 40 more" in str(rejected.value)


@pytest.mark.parametrize("slice_rows", [None, 1])
def test_good_file_loads_and_attributes_conversions(seeded, tmp_path, monkeypatch, slice_rows):
    """Also when each row is a slice of its own: the conversions are then attributed while the
    rows before them are being written, and the import's record counts them all."""
    import core.platform.ingest as ingest
    if slice_rows:
        monkeypatch.setattr(ingest, "IMPORT_SLICE_ROWS", slice_rows)
    insert_events(seeded, events_frame([(at(10, "09:00:00"), 2, 4, "click"), (at(12, "09:00:00"), 3, 4, "open")]))
    rollup.refresh_all(seeded)
    body = times("{d13},,4,conversion,,80.00,4.00,ios,NYC\n"     # last touch: campaign 3 (day 12)
                 "{d11},,4,conversion,,20.00,1.00,,\n"           # last touch before it: campaign 2 (day 10)
                 "{d13},1,2,send,control,,,android,LAX\n")
    result = import_events(seeded, write(tmp_path, body), ADMIN)
    assert (result.rows, result.attributed) == (3, 2)
    with seeded.connect() as conn:
        rows = conn.execute(text("SELECT campaign_id, revenue FROM events WHERE event_type = 6 ORDER BY revenue")).all()
    assert [(r[0], float(r[1])) for r in rows] == [(2, 20.0), (3, 80.0)]
    with seeded.connect() as conn:
        assert conn.execute(text("SELECT rows, attributed FROM event_imports")).one() == (3, 2)


def test_values_are_read_as_written(seeded, tmp_path):
    """Offsets become UTC, spaces around values are ignored, names are case-insensitive, empty
    optional values are NULL, and columns may come in any order or be left out."""
    path = tmp_path / "events.csv"
    path.write_text("member_id,event_type,campaign_id,event_time,revenue,reward_cost,device\n"
                    f" 2 , Conversion ,1, {day(2)}T12:30:00+02:00 , 12.34 ,0.5, IOS \n"
                    f"3,open,2,{at(2)},,,\n")
    assert import_events(seeded, path, ADMIN).rows == 2
    with seeded.connect() as conn:
        rows = conn.execute(text("""SELECT event_time AT TIME ZONE 'UTC', campaign_id, member_id, event_type, revenue,
                                           reward_cost, device, variant, region_code
                                    FROM events WHERE member_id IN (2, 3) ORDER BY member_id""")).all()
    ten_thirty = datetime.combine(day(2), datetime.min.time()) + timedelta(hours=10, minutes=30)
    assert [tuple(r) for r in rows] == [
        (ten_thirty, 1, 2, 6, Decimal("12.34"), Decimal("0.50"), "ios", None, None),
        (ten_thirty - timedelta(minutes=30), 2, 3, 3, None, None, None, None, None)]


@pytest.mark.parametrize("value, what", [("abc", "is not a number"), ("inf", "is not a number"),
                                         ("1e400", "is not a number")])
def test_numbers_that_are_not_amounts_are_named(seeded, tmp_path, value, what):
    with pytest.raises(ImportRejected, match=f"line 3, column revenue: '{value}' {what}"):
        import_events(seeded, write(tmp_path, f"{at(2)},1,1,conversion,,5,1,,\n"
                                              f"{at(2)},1,1,conversion,,{value},1,,\n"), ADMIN)


def expected_rows(content: str) -> list[tuple]:
    """What an import file says, read here independently of the import (Python's csv, datetime
    and Decimal): (event_time UTC, campaign, member, type code, revenue, reward_cost, variant,
    device, region) with empty optional values as None and times cut to microseconds."""
    import csv
    import io
    import re
    codes = {"send": 1, "delivered": 2, "open": 3, "impression": 4, "click": 5, "conversion": 6}
    rows = []
    for record in csv.DictReader(io.StringIO(content)):
        value = {k.strip(): v.strip() for k, v in record.items()}
        when = re.sub(r"(\.\d{6})\d+", r"\1", value["event_time"])  # digits past microseconds are cut
        moment = datetime.fromisoformat(when).astimezone(timezone.utc).replace(tzinfo=None)
        amount = {k: Decimal(value[k]).quantize(Decimal("0.01")) if value.get(k) else None for k in ("revenue", "reward_cost")}
        optional = {k: value.get(k) or None for k in ("variant", "device", "region_code")}
        rows.append((moment, int(value["campaign_id"]), int(value["member_id"]), codes[value["event_type"].lower()],
                     amount["revenue"], amount["reward_cost"], optional["variant"],
                     optional["device"].lower() if optional["device"] else None, optional["region_code"]))
    return rows


@pytest.mark.parametrize("slice_rows", [None, 3])
def test_the_table_holds_what_the_file_says(seeded, tmp_path, monkeypatch, slice_rows):
    """Every row lands with the file's values, compared field by field with the file read here:
    quoted and unquoted values, empty optional fields, zones (Z, +hh:mm, -hhmm, a zone that moves
    the event to the previous or next UTC day), fractions of a second up to nine digits, amounts
    at the edges of numeric(12,2), rows out of time order spanning days (new ones) and
    several COPY chunks per day (the chunk size made tiny); and the same when the file is
    checked and written three rows at a time (a day's rows then come in several slices)."""
    import core.platform.ingest as ingest
    monkeypatch.setattr(ingest, "EVENT_COPY_CHUNK_ROWS", 2)
    if slice_rows:
        monkeypatch.setattr(ingest, "IMPORT_SLICE_ROWS", slice_rows)
    d3, d4, d5, d46 = day(3), day(4), day(5), day(46)
    content = (
        "event_time,campaign_id,member_id,event_type,variant,revenue,reward_cost,device,region_code\n"
        f"{d4}T10:00:00Z,1,1,send,control,,,ios,NYC\n"
        f'"{d4}T10:00:01.5Z","2","3","open","variant B",,,"android","LAX"\n'
        f"{d3}T23:30:00-0130,1,2,conversion,,0.1,0,web,\n"                     # 01:00 UTC on day 4
        f"{d5}T00:30:00+02:00,3,4,click,,,,,\n"                                # 22:30 UTC on day 4
        f"{d4}T10:00:02.123456789Z,1,5,conversion,A_1.x,9999999999.99,0.01,,SFO-2\n"
        f'{d3}T08:00:00.000001Z,2,6,conversion,"",1234567.89,5,"",""\n'
        f"{d46}T12:00:00Z,3,7, Impression ,,,,IOS,\n"
        f"{d3}T08:00:00Z,1,8,delivered,,,,,\n"
        f"{d4}T10:00:03Z,2,9,conversion, 7 , 7.25 , 0.50 ,web,NYC\n"
        f"{d46}T12:00:00.5Z,1,1,send,,,,,\n"
        f"{d4}T10:00:04Z,1,2,open,,,,,\n")
    path = tmp_path / "edges.csv"
    path.write_text(content)
    before = snapshot(seeded)["events"][0]
    result = import_events(seeded, path, ADMIN)
    assert (result.rows, result.attributed, result.new_partitions) == (11, 0, 3)  # days 3, 4 and 46
    with seeded.connect() as conn:
        stored = conn.execute(text(
            """SELECT event_time AT TIME ZONE 'UTC', campaign_id, member_id, event_type, revenue, reward_cost,
                      variant, device, region_code, event_id
               FROM events WHERE event_id > (SELECT min(event_id) FROM events) ORDER BY event_id""")).all()
    assert snapshot(seeded)["events"][0] == before + 11
    expected = expected_rows(content)
    key = lambda r: (r[0], r[2], r[1])  # noqa: E731
    assert sorted((tuple(r[:9]) for r in stored), key=key) == sorted(expected, key=key)
    # Within a UTC day, the rows keep the file's order (event_id orders arrival).
    for utc_day in {r[0].date() for r in expected}:
        in_file = [(r[2], r[0]) for r in expected if r[0].date() == utc_day]
        in_table = [(r[2], r[0]) for r in stored if r[0].date() == utc_day]
        assert in_table == in_file


def test_a_failure_while_writing_leaves_no_row_and_no_key(seeded, tmp_path, monkeypatch):
    """The rows are encoded in a thread while earlier ones are stored: an error there (here the
    encoder fails on the third chunk, after two were stored) aborts the COPY and rolls the whole
    import back; the same file imports afterwards."""
    import core.platform.ingest as ingest
    from core.platform import pgcopy
    monkeypatch.setattr(ingest, "EVENT_COPY_CHUNK_ROWS", 2)
    original, calls = pgcopy.encode, []

    def failing_encode(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("encoder broke")
        return original(*args, **kwargs)

    monkeypatch.setattr(pgcopy, "encode", failing_encode)
    path = write(tmp_path, times("{d2},1,1,open,,,,,\n{d2},1,2,open,,,,,\n{d2},1,3,open,,,,,\n{d3},1,4,open,,,,,\n"
                                 "{d3},1,5,open,,,,,\n"))
    before = snapshot(seeded)
    with pytest.raises(RuntimeError, match="encoder broke"):
        import_events(seeded, path, ADMIN)
    assert len(calls) == 3
    after = snapshot(seeded)
    assert (after["events"], after["partitions"], after["imports"]) == (before["events"], before["partitions"],
                                                                        before["imports"])
    monkeypatch.setattr(pgcopy, "encode", original)
    assert import_events(seeded, path, ADMIN).rows == 5
    assert snapshot(seeded)["events"][0] == before["events"][0] + 5


def test_a_file_refused_in_a_later_slice_is_rolled_back_and_every_problem_is_listed(seeded, tmp_path, monkeypatch):
    """Checked two rows at a time, the first slices pass and are written (one of them into a new
    day's partition) before the third fails: the import is rolled back, nothing of it is left
    but the event_ids its rows drew, and the refusal lists the problems of every slice, the
    ones after the first failure too, by their lines in the file."""
    import core.platform.ingest as ingest
    monkeypatch.setattr(ingest, "IMPORT_SLICE_ROWS", 2)
    before = snapshot(seeded)
    body = times("{d2},1,1,open,,,,,\n{d2},1,2,open,,,,,\n"      # lines 2-3: slice 1
                 "{d47},1,3,open,,,,,\n{d47},1,4,open,,,,,\n"    # lines 4-5: slice 2, a new day
                 "{d3},1,5,jump,,,,,\n{d3},1,6,open,,,,,\n"      # line 6: the first problem
                 "{d3},1,7,open,,,,,\n{d3},99,8,open,,,,,\n"     # line 9: a problem after it
                 "{d3},1,9,open,,,,,\n")
    with pytest.raises(ImportRejected) as rejected:
        import_events(seeded, write(tmp_path, body), ADMIN)
    assert rejected.value.total == 2
    assert [p.split(":")[0] for p in rejected.value.problems] == ["line 6, column event_type",
                                                                   "line 9, column campaign_id"]
    after = snapshot(seeded)
    assert {k: v for k, v in after.items() if k != "sequence"} == {k: v for k, v in before.items() if k != "sequence"}
    assert after["sequence"] >= before["sequence"]  # ids drawn by rolled-back rows are skipped, as PostgreSQL does
    monkeypatch.setattr(ingest, "IMPORT_SLICE_ROWS", 250_000)
    with pytest.raises(ImportRejected) as whole:  # the same refusal when the file is one slice
        import_events(seeded, write(tmp_path, body), ADMIN)
    assert (whole.value.problems, whole.value.total) == (rejected.value.problems, rejected.value.total)
    assert snapshot(seeded) == after


def test_a_file_refused_in_its_first_slice_writes_nothing_and_counts_the_later_problems(seeded, tmp_path, monkeypatch):
    import core.platform.ingest as ingest
    monkeypatch.setattr(ingest, "IMPORT_SLICE_ROWS", 2)
    before = snapshot(seeded)
    body = times("{d2},1,1,opened,,,,,\n{d2},1,2,open,,,,,\n{d2},1,3,open,,,,,\n{d2},1,x,open,,,,,\n"
                 "{d2},,5,open,,,,,\n")
    with pytest.raises(ImportRejected) as rejected:
        import_events(seeded, write(tmp_path, body), ADMIN)
    assert [p.split(":")[0] for p in rejected.value.problems] == [
        "line 2, column event_type", "line 5, column member_id", "line 6, column campaign_id"]
    assert snapshot(seeded) == before  # not even an event_id: the transaction never began


def test_an_import_draws_its_event_ids_in_one_block_that_no_other_writer_enters(seeded):
    """The block is drawn while the other writers are held off: it starts after every id drawn
    before, the sequence moves past it at once (what the roller's window reads), and an id
    drawn afterwards lies beyond it, even though the importing transaction has not committed."""
    import core.platform.ingest as ingest
    last = snapshot(seeded)["sequence"]
    with seeded.connect() as conn, conn.begin():
        ingest.execute(conn, "events_lock_for_writing")
        first = ingest._reserve_event_ids(conn, 1000)
        with seeded.connect() as other:
            assert other.execute(text("SELECT last_value FROM events_event_id_seq")).scalar() == first + 999
            other.rollback()
            with other.begin():  # not kept out once the block is drawn (a lock left held would time out here)
                other.execute(text("SET LOCAL lock_timeout = 5000"))
                write_events(other, events_frame([(at(1), 1, 2, "open")]))  # day 1 has its partition
            assert other.execute(text("SELECT max(event_id) FROM events")).scalar() == first + 1000
    assert first == last + 1


def test_an_import_beside_a_writer_that_holds_events_draws_ids_row_by_row_and_all_are_rolled_up(seeded, tmp_path):
    """Another transaction is writing events and stays open: the import does not wait for it
    past RESERVE_LOCK_TIMEOUT_MS; its rows draw their ids one by one as they are written. The
    roller then folds both writers' rows, once each."""
    import threading
    # Day 1 only, whose partition is there: making one waits for every writer of events.
    path = write(tmp_path, f"{at(1, '11:00:00')},1,1,open,,,,,\n{at(1, '12:00:00')},1,2,click,,,,,\n"
                           f"{at(1, '13:00:00')},2,3,send,,,,,\n")
    done: dict = {}
    with seeded.connect() as writer:
        transaction = writer.begin()
        write_events(writer, events_frame([(at(1, "09:00:00"), 2, 4, "open")]))
        importing = threading.Thread(target=lambda: done.update(result=import_events(seeded, path, ADMIN)))
        importing.start()
        importing.join(timeout=30)
        assert not importing.is_alive() and done["result"].rows == 3  # committed while the writer is still open
        transaction.commit()
    rollup.refresh_all(seeded)
    with seeded.connect() as conn:
        events = conn.execute(text("SELECT count(*) FROM events")).scalar()
        folded = conn.execute(text("SELECT coalesce(sum(sends + opens + clicks), 0) FROM rollup_campaign_day")).scalar()
    assert events == 1 + 1 + 3 and folded == events
