"""The values of an events import checked column-wise, with the limits that keep what is stored
foldable by the rollups and harmless where it is shown or exported:

- ids in digits only (1e3 is refused, not read as 1000), and known;
- times with a zone, within the raw-event retention window, at most MAX_CLOCK_SKEW ahead;
- amounts within numeric(12,2), on conversions only;
- free text (variant, region_code) short and of letters, digits and a few signs, starting with a
  letter or digit: no control character, no NUL, no leading = + - @ (a spreadsheet formula);
- at most MAX_NEW_PARTITIONS new day partitions per import.

Low-cardinality text columns (event type, variant, device, region) arrive dictionary-encoded, so
their checks run once per distinct value, not once per row.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.platform import config
from core.platform.event_file import MAX_REPORTED_PROBLEMS, ImportRejected, problem
from core.platform.events import EVENT_CODES

EVENT_COLUMNS = ["event_time", "campaign_id", "member_id", "variant", "event_type",
                 "revenue", "reward_cost", "device", "region_code"]
REQUIRED_IMPORT_COLUMNS = ["event_time", "campaign_id", "member_id", "event_type"]
OPTIONAL_IMPORT_COLUMNS = ["variant", "revenue", "reward_cost", "device", "region_code"]
CODED_COLUMNS = ["event_type", "variant", "device", "region_code"]  # read dictionary-encoded
DEVICES = {"ios", "android", "web"}
# Free text an event carries: (longest, allowed characters, the rule in words). Short, so every
# rollup key holding them fits an index row. Variants as the A/B tracker names them.
TEXT_RULES = {
    "variant": (40, r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$",
                "letters, digits, spaces, '-', '_' or '.', starting with a letter or digit"),
    "region_code": (32, r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                    "letters, digits, '-', '_' or '.', starting with a letter or digit"),
}
ID_DIGITS = {"member_id": 18, "campaign_id": 9}  # bigint and integer, with room to spare
MAX_AMOUNT_CENTS = 10 ** 12 - 1        # revenue and reward_cost are numeric(12,2): at most 9,999,999,999.99
MAX_CLOCK_SKEW = timedelta(minutes=5)  # how far ahead of this machine's clock an event may be
MAX_NEW_PARTITIONS = 100               # day partitions one import may create (each takes ~8 locks until commit)
DAY_MICROS = 86_400_000_000
EPOCH = date(1970, 1, 1)
NULL_STRING = pa.scalar(None, pa.string())


class _Coded:
    """A dictionary-encoded column: its distinct values (trimmed) and each row's index into them."""

    def __init__(self, column: pa.ChunkedArray, lower: bool = False):
        array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        values = pc.ascii_trim_whitespace(array.dictionary)
        self.values = pc.utf8_lower(values) if lower else values
        self.indices = array.indices.to_numpy(zero_copy_only=False)

    def rows(self, per_value) -> np.ndarray:
        """A per-value array (Arrow or numpy) spread to the rows."""
        per_value = per_value.to_numpy(zero_copy_only=False) if hasattr(per_value, "to_numpy") else per_value
        return np.asarray(per_value)[self.indices]

    def value(self, row: int) -> str:
        return self.values[int(self.indices[row])].as_py()

    def strings(self) -> pa.Array:
        """One string per row, null where blank."""
        return pc.take(pc.if_else(pc.equal(self.values, ""), NULL_STRING, self.values), pa.array(self.indices))


def _numbers(strings: pa.ChunkedArray) -> np.ndarray:
    """Strings as float64; NaN where blank or not a number."""
    blanked = pc.if_else(pc.equal(strings, ""), NULL_STRING, strings)
    try:
        values = pc.cast(blanked, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:  # some value is not a number: parse leniently, the checks name it
        values = pd.to_numeric(pd.Series(blanked.to_numpy(zero_copy_only=False)), errors="coerce").to_numpy(float)
    return np.where(np.isfinite(values), values, np.nan)


def _integers(strings: pa.ChunkedArray, digits: int) -> tuple[np.ndarray, pa.ChunkedArray]:
    """Which values are whole numbers written in digits only (no sign, point or exponent: 1e3 is
    not 1000 here), and those values as int64 (null elsewhere, and where blank)."""
    blank = pc.equal(strings, "")
    nulled = pc.if_else(blank, NULL_STRING, strings) if pc.any(blank).as_py() else strings
    try:  # the usual file: every value is digits, and Arrow parses them all at once
        values = pc.cast(nulled, pa.int64())
        if ((pc.max(pc.utf8_length(nulled)).as_py() or 0) <= digits and (pc.min(values).as_py() or 0) >= 0
                and not pc.any(pc.match_substring(nulled, "+")).as_py()):
            return pc.is_valid(values).to_numpy(zero_copy_only=False), values
    except pa.ArrowInvalid:
        pass
    whole = pc.fill_null(pc.match_substring_regex(nulled, f"^[0-9]{{1,{digits}}}$"), False)
    return whole.to_numpy(zero_copy_only=False), pc.cast(pc.if_else(whole, nulled, NULL_STRING), pa.int64())


def _known(values: pa.ChunkedArray, known) -> np.ndarray:
    return pc.fill_null(pc.is_in(values, value_set=pa.array(known, pa.int64())), False).to_numpy(zero_copy_only=False)


def _utc_micros(strings: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """ISO 8601 times as UTC microseconds (float, NaN where not a time), and which have a zone."""
    zoned = pc.ends_with(strings, "Z")
    if not pc.all(zoned).as_py():
        zoned = pc.or_(zoned, pc.match_substring_regex(strings, r"(?:Z|[+-]\d\d:?\d\d)$"))
    zoned = zoned.to_numpy(zero_copy_only=False)
    for unit, per_micro in (("us", 1), ("ns", 1000)):  # Arrow reads at most the unit's digits of a second
        try:
            parsed = pc.cast(pc.cast(strings, pa.timestamp(unit, tz="UTC")), pa.int64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return (parsed // per_micro).astype(float), zoned  # nanoseconds cut to microseconds as pandas cuts them
    # some value is not a time (or outside what nanoseconds hold): row by row, the checks name it
    times = pd.to_datetime(pd.Series(strings.to_numpy(zero_copy_only=False)), errors="coerce", utc=True,
                           format="ISO8601")
    micros = times.to_numpy(dtype="datetime64[us]").astype(np.int64).astype(float)
    return np.where(times.isna().to_numpy(), np.nan, micros), zoned


def oldest_accepted_day(now: datetime) -> date:
    """The first UTC day whose raw events are kept (maintenance drops partitions before it)."""
    return now.astimezone(timezone.utc).date() - timedelta(days=config.RAW_RETENTION_DAYS)


def missing_columns(raw: pa.Table) -> list[str]:
    """The header's problem when a required column is missing (else nothing)."""
    missing = [c for c in REQUIRED_IMPORT_COLUMNS if c not in raw.column_names]
    if not missing:
        return []
    return [f"line 1 (header), column {raw.num_columns + 1}: missing column(s) {', '.join(missing)}; "
            f"the header names {', '.join(REQUIRED_IMPORT_COLUMNS)} and any of {', '.join(OPTIONAL_IMPORT_COLUMNS)}"]


def validate_events(raw: pa.Table, known_campaigns, known_members, now: datetime | None = None,
                    first_line: int = 2) -> tuple[pa.Table, list[str], int]:
    """Check every row; return the typed events (an Arrow table of EVENT_COLUMNS, campaign_id
    null where the file leaves it empty), the first problems found (line numbers as in the
    file: row i is on line i + first_line; a slice of the file's rows passes its first line)
    and how many problems there are in all."""
    missing = missing_columns(raw)
    if missing:
        return raw, missing, 1
    rows = raw.num_rows
    absent = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), pa.array([""]))
    text = {c: (_Coded(raw[c] if c in raw.column_names else pa.chunked_array([absent]), lower=c in ("event_type", "device"))
                if c in CODED_COLUMNS else pc.ascii_trim_whitespace(raw[c]) if c in raw.column_names
                else pa.chunked_array([pc.fill_null(pa.nulls(rows, pa.string()), "")]))
            for c in REQUIRED_IMPORT_COLUMNS + OPTIONAL_IMPORT_COLUMNS}
    blank = {c: v.rows(pc.equal(v.values, "")) if isinstance(v, _Coded) else pc.equal(v, "").to_numpy(zero_copy_only=False)
             for c, v in text.items()}
    empty_line = np.logical_and.reduce([blank[c] for c in raw.column_names])
    any_empty = bool(empty_line.any())
    problems: list[tuple[int, str]] = [(int(i) + first_line, f"line {int(i) + first_line}, column 1: the line is empty; remove it")
                                       for i in np.flatnonzero(empty_line)[:MAX_REPORTED_PROBLEMS]]

    def flag(mask, column, what) -> int:
        mask = np.asarray(mask, dtype=bool)
        mask = mask & ~empty_line if any_empty else mask
        found = np.flatnonzero(mask)
        for i in found[:MAX_REPORTED_PROBLEMS * 5]:
            value = text[column].value(i) if isinstance(text[column], _Coded) else text[column][int(i)].as_py()
            problems.append((int(i) + first_line, problem(int(i) + first_line, column, value, what)))
        return len(found)

    counts = int(empty_line.sum())
    now = now or datetime.now(timezone.utc)
    oldest = oldest_accepted_day(now)
    micros, zoned = _utc_micros(text["event_time"])
    counts += flag(np.isnan(micros), "event_time", "is not a time; use ISO 8601 like 2026-11-02T14:05:00Z")
    counts += flag(~np.isnan(micros) & ~zoned, "event_time", "has no time zone; add Z or an offset like +01:00")
    counts += flag(micros > (now + MAX_CLOCK_SKEW).timestamp() * 1e6, "event_time",
                   f"is in the future (more than {MAX_CLOCK_SKEW.seconds // 60} minutes after "
                   f"{now:%Y-%m-%d %H:%M} UTC); check its time zone")
    counts += flag(micros < datetime.combine(oldest, datetime.min.time(), timezone.utc).timestamp() * 1e6, "event_time",
                   f"is before {oldest}, the oldest day whose raw events are kept (RAW_RETENTION_DAYS = "
                   f"{config.RAW_RETENTION_DAYS}); leave the row out, or raise RAW_RETENTION_DAYS")

    names = list(EVENT_CODES)
    kinds = text["event_type"]
    position = pc.index_in(kinds.values, value_set=pa.array(names)).to_numpy(zero_copy_only=False).astype(float)
    counts += flag(kinds.rows(np.isnan(position)), "event_type", f"is not one of {', '.join(names)}")
    codes = np.array([0] + [EVENT_CODES[n] for n in names], dtype=np.int16)
    event_type = kinds.rows(codes[np.nan_to_num(position, nan=-1).astype(int) + 1])
    is_conversion = event_type == EVENT_CODES["conversion"]

    ids = {}
    for column, digits in ID_DIGITS.items():
        whole, ids[column] = _integers(text[column], digits)
        kind = column.split("_")[0]
        counts += flag(~blank[column] & ~whole, column,
                       f"is not a whole number; write ids in digits only (up to {digits}), like {12 if digits < 10 else 1042}")
        counts += flag(whole & ~_known(ids[column], known_members if kind == "member" else known_campaigns), column,
                       f"is not a known {kind}")
    counts += flag(blank["member_id"], "member_id", "is empty; every event needs its member")
    counts += flag(blank["campaign_id"] & ~is_conversion, "campaign_id",
                   "is empty; only a conversion may leave it empty (it is then attributed)")

    money = {}
    for column in ("revenue", "reward_cost"):
        value = _numbers(text[column])
        counts += flag(~blank[column] & np.isnan(value), column, "is not a number")
        counts += flag(value < 0, column, "is negative")
        counts += flag(np.floor(value * 100 + 0.5) > MAX_AMOUNT_CENTS, column,
                       f"is more than {MAX_AMOUNT_CENTS / 100:,.2f}, the largest amount an event holds; check its unit")
        counts += flag(~blank[column] & ~is_conversion, column, "is set on an event that is not a conversion")
        counts += flag(blank[column] & is_conversion, column, "is missing on a conversion")
        money[column] = value
    devices = text["device"]
    counts += flag(~blank["device"] & devices.rows(~pc.is_in(devices.values, value_set=pa.array(sorted(DEVICES))).to_numpy(
        zero_copy_only=False)), "device", f"is not one of {', '.join(sorted(DEVICES))}")
    for column, (longest, allowed, described) in TEXT_RULES.items():
        coded = text[column]
        too_long = pc.greater(pc.utf8_length(coded.values), longest).to_numpy(zero_copy_only=False)
        refused = ~too_long & ~pc.match_substring_regex(coded.values, allowed).to_numpy(zero_copy_only=False)
        counts += flag(coded.rows(too_long), column, f"is longer than {longest} characters")
        counts += flag(~blank[column] & coded.rows(refused), column, f"has a character that is not allowed; use {described}")
    if counts:
        problems.sort()
        return raw, [p for _, p in problems], counts

    typed = pa.table({
        "event_time": pa.array(micros.astype(np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "campaign_id": ids["campaign_id"], "member_id": ids["member_id"],
        "variant": text["variant"].strings(), "event_type": pa.array(event_type),
        "revenue": pa.array(money["revenue"], mask=np.isnan(money["revenue"])),
        "reward_cost": pa.array(money["reward_cost"], mask=np.isnan(money["reward_cost"])),
        "device": devices.strings(), "region_code": text["region_code"].strings(),
    })
    return typed, [], 0


def new_partition_days(typed: pa.Table, existing: set[date], first_line: int = 2, planned: int = 0) -> list[date]:
    """The UTC days of the events that have no partition in `existing` (the import creates them),
    or a rejection when there are more than an import may create. When the file is checked a
    slice at a time, first_line is the line of typed's first row, `existing` holds the days the
    slices before add too, and `planned` says how many those are."""
    micros = pc.cast(typed["event_time"], pa.int64()).to_numpy(zero_copy_only=False)
    days = micros // DAY_MICROS  # a few hundred days at most: the times are within the retention window
    first = int(days.min())
    present = np.flatnonzero(np.bincount(days - first)) + first
    new = [day for day in (EPOCH + timedelta(days=int(d)) for d in present) if day not in existing]
    allowed = MAX_NEW_PARTITIONS - planned
    if len(new) <= allowed:
        return new
    beyond = (new[allowed] - EPOCH).days
    line = int(np.flatnonzero(days == beyond)[0]) + first_line
    spans = f"{planned + len(new)} days that have no events yet"
    raise ImportRejected([
        f"line {line}, column event_time: {new[allowed]} would be new day number {MAX_NEW_PARTITIONS + 1} "
        f"of this file; the file spans {'at least ' if planned else ''}{spans} "
        f"({'…' if planned else new[0]} … {new[-1]}) and an import adds at most {MAX_NEW_PARTITIONS}; "
        f"split it by date (up to {MAX_NEW_PARTITIONS} new days per file)"], 1)
