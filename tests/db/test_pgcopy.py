"""Binary COPY built from columns (core.platform.pgcopy) reads back exactly as the values written:
NULLs, empty and multi-byte text, amounts at the edges of numeric(12,2), times before 2000."""
from datetime import datetime, timezone
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from core.platform import pgcopy

COLUMNS = "at timestamptz, small smallint, id integer, big bigint, amount numeric(12,2), label text, other text"


def copy_back(engine, columns: list[tuple[str, object]], chunk: int | None = None) -> list[tuple]:
    rows = len(columns[0][1])
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE copied ({COLUMNS})")
            with cursor.copy("COPY copied FROM STDIN (FORMAT binary)") as copy:
                step = chunk or max(rows, 1)
                for start in range(0, max(rows, 1), step):
                    part = [(kind, values.slice(start, step)) for kind, values in columns]
                    copy.write(pgcopy.encode(part, header=start == 0, trailer=start + step >= rows))
            return cursor.execute("SELECT * FROM copied").fetchall()


def sample_columns():
    times = [datetime(1999, 12, 31, 23, 59, 59, 999999, timezone.utc), datetime(2026, 11, 27, 10, 0, 0, 1, timezone.utc),
             datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2038, 1, 19, 3, 14, 8, tzinfo=timezone.utc)]
    return [
        ("timestamptz", pa.array(times, pa.timestamp("us", tz="UTC"))),
        ("smallint", pa.array([-32768, 0, 6, 32767], pa.int16())),
        ("integer", pa.array([1, -2, 2_147_483_647, 74], pa.int32())),
        ("bigint", pa.array([-(2 ** 63), 0, 2 ** 63 - 1, 31052], pa.int64())),
        ("numeric_2dp", pa.array([0.0, np.nan, 9_999_999_999.99, 12.345])),
        ("text", pa.array(["", None, "Zoë · ☕", "x" * 300])),
        ("text", pa.array([None, None, None, "ios"])),
    ]


EXPECTED = [
    (datetime(1999, 12, 31, 23, 59, 59, 999999, timezone.utc), -32768, 1, -(2 ** 63), Decimal("0.00"), "", None),
    (datetime(2026, 11, 27, 10, 0, 0, 1, timezone.utc), 0, -2, 0, None, None, None),
    (datetime(2000, 1, 1, tzinfo=timezone.utc), 6, 2_147_483_647, 2 ** 63 - 1, Decimal("9999999999.99"), "Zoë · ☕", None),
    (datetime(2038, 1, 19, 3, 14, 8, tzinfo=timezone.utc), 32767, 74, 31052, Decimal("12.35"), "x" * 300, "ios"),
]


def test_values_read_back_exactly(db):
    assert copy_back(db, sample_columns()) == EXPECTED


def test_chunks_make_one_stream(db):
    """Signature only on the first chunk, trailer only on the last, as write_events sends them."""
    assert copy_back(db, sample_columns(), chunk=3) == EXPECTED


def test_amounts_outside_numeric_are_refused():
    with pytest.raises(ValueError, match="between 0 and 10"):
        pgcopy.encode([("timestamptz", pa.array([datetime(2026, 1, 1, tzinfo=timezone.utc)])),
                       ("numeric_2dp", pa.array([-1.0]))])


def test_fixed_width_columns_come_first():
    with pytest.raises(ValueError, match="fixed-width columns must come first"):
        pgcopy.encode([("text", pa.array(["a"])), ("integer", pa.array([1], pa.int32()))])


def test_missing_values_in_fixed_width_columns_are_refused_not_written_as_numbers():
    with pytest.raises(ValueError, match="column 2 \\(integer\\) has 1 missing values"):
        pgcopy.encode([("timestamptz", pa.array([datetime(2026, 1, 1, tzinfo=timezone.utc)] * 2)),
                       ("integer", pa.array([1, None], pa.int32()))])
