"""An events import file read safely: its bytes (size limit, gzip), its header, and its rows as
Arrow strings. Whatever is wrong with the file's shape — empty, binary, not UTF-8, a NUL byte,
a duplicated or unknown column, a row with too many or too few fields, a quote never closed —
becomes an ImportRejected naming the line and column, never a traceback.

Arrow reads the rows on every core but does not say which line broke (its parallel reader does
not know); when it refuses a file, the file is read again line by line with Python's csv module
to find where (only rejected files pay for that).
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pyarrow as pa
import pyarrow.csv as pacsv

MAX_FILE_BYTES = 1 << 30          # 1 GiB of CSV text (about 14 million events); split larger files
MAX_REPORTED_PROBLEMS = 20
GZIP_SIGNATURE = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
SHOWN_VALUE_CHARACTERS = 40
_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-sha256")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ImportRejected(ValueError):
    """A file that cannot be imported, with every problem found (line, column, what is wrong)."""

    def __init__(self, problems: list[str], total: int):
        self.problems = problems
        self.total = total
        shown = "\n".join(f"  - {p}" for p in problems[:MAX_REPORTED_PROBLEMS])
        more = f"\n  … and {total - MAX_REPORTED_PROBLEMS} more" if total > MAX_REPORTED_PROBLEMS else ""
        super().__init__(f"The file was not imported ({total} problem{'s' if total != 1 else ''}); "
                         f"nothing was written. Fix these rows and import again:\n{shown}{more}")


def shown(value) -> str:
    """A value as quoted in a message: repr (control characters escaped), long ones shortened."""
    if isinstance(value, str) and len(value) > SHOWN_VALUE_CHARACTERS:
        return f"{value[:SHOWN_VALUE_CHARACTERS]!r}… ({len(value):,} characters)"
    return repr(value)


def problem(line: int, column, value, what: str) -> str:
    return f"line {line}, column {column}: {shown(value)} {what}"


@dataclass
class EventFile:
    name: str
    body: pa.Buffer            # the rows after the header, trailing blank lines left out
    header: list[str]
    first_row_line: int        # the line number of the first row (the header's line + 1)
    lines: int                 # lines after the header when `quoted` (Arrow reads one row per line unless a
    quoted: bool               # quoted value runs over lines, which only a file with quotes can have)
    digest: Future             # SHA-256 of the whole (unpacked) content, computed while the rows are parsed

    @property
    def sha256(self) -> str:
        """The file's import key."""
        return self.digest.result()


def position(data: bytes, offset: int) -> tuple[int, int, int]:
    """Line, character column and field number (1-based; commas outside quotes counted roughly)
    of a byte offset."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    before = data[line_start:offset].decode("utf-8", "replace")
    field, quoted = 1, False
    for character in before:
        if character == '"':
            quoted = not quoted
        elif character == "," and not quoted:
            field += 1
    return data.count(b"\n", 0, offset) + 1, len(before) + 1, field


def _column_name(header: list[str], field: int) -> str:
    return header[field - 1] if 0 < field <= len(header) else f"{field}"


def read_content(path: Path) -> bytes:
    """The file's bytes, gunzipped when they are gzip (whatever the name), at most MAX_FILE_BYTES."""
    if not path.exists():
        raise ImportRejected([f"{path}: no such file"], 1)
    if not path.is_file():
        raise ImportRejected([f"{path}: not a file"], 1)
    size = path.stat().st_size
    limit = f"an import reads at most {MAX_FILE_BYTES / 2**20:,.0f} MB; split the file (by date) and import the parts"
    if size > MAX_FILE_BYTES:
        raise ImportRejected([f"line 1, column 1: {path.name} is {size / 2**20:,.0f} MB; {limit}"], 1)
    data = path.read_bytes()
    if data[:2] == GZIP_SIGNATURE:  # a .csv.gz, or a gzip file that kept a .csv name
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(MAX_FILE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as error:
            raise ImportRejected([f"line 1, column 1: {path.name} is gzip-compressed but cannot be unpacked "
                                  f"({error}); compress it again, or import the plain CSV"], 1) from None
        if len(data) > MAX_FILE_BYTES:
            raise ImportRejected([f"line 1, column 1: {path.name} unpacks to more than "
                                  f"{MAX_FILE_BYTES / 2**20:,.0f} MB; {limit}"], 1)
    return data


def open_event_file(path: str | Path, known_columns: list[str]) -> EventFile:
    """Read the file's bytes and header and check everything that does not need its rows parsed."""
    path = Path(path)
    data = read_content(path)
    start = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    end = len(data)
    while end > start and data[end - 1] in b"\r\n \t":
        end -= 1
    if end == start:
        raise ImportRejected([f"line 1, column 1: {path.name} is empty; it needs the header line "
                              f"({','.join(known_columns)}) and one line per event"], 1)
    header_end = data.find(b"\n", start, end)
    header_end = end if header_end < 0 else header_end
    line = _header_text(data, start, header_end, path.name)
    nul = data.find(b"\x00", start, end)
    if nul >= 0:
        line_number, character, field = position(data, nul)
        column = f"{field}" if line_number == 1 else _column_name(_names(line), field)
        count = data.count(b"\x00", start, end)
        raise ImportRejected([f"line {line_number}, column {column} (character {character}): a NUL byte (\\x00); "
                              f"the file is binary or damaged — export it again as CSV text "
                              f"({count:,} in all)"], 1)
    header = _header(_names(line), known_columns)
    if header_end == end:
        raise ImportRejected([f"line 2, column 1: {path.name} has a header but no rows; add one line per event"], 1)
    body = pa.py_buffer(data).slice(header_end + 1, end - header_end - 1)
    quoted = data.find(b'"', header_end + 1, end) >= 0  # without quotes no value can run over lines
    lines = data.count(b"\n", header_end + 1, end) + 1 if quoted else 0
    # Hashing releases the GIL: it runs while Arrow parses the rows.
    return EventFile(path.name, body, header, 2, lines, quoted, _HASHING.submit(_sha256, data))


def _header_text(data: bytes, start: int, end: int, name: str) -> str:
    try:
        return data[start:end].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as error:
        _, column, _ = position(data, start + error.start)
        raise ImportRejected([f"line 1, column {column}: byte 0x{data[start + error.start]:02x} is not UTF-8 text; "
                              f"{name} is binary or in another encoding — save it as UTF-8 CSV"], 1) from None


def _names(line: str) -> list[str]:
    return [name.strip() for name in next(csv.reader([line.replace("\x00", "")]), [])]


def _header(names: list[str], known_columns: list[str]) -> list[str]:
    problems = []
    seen: dict[str, int] = {}
    for index, column in enumerate(names, start=1):
        if column in seen:
            problems.append(f"line 1 (header), column {index}: {column!r} appears again (first as column "
                            f"{seen[column]}); keep one of them")
        elif column not in known_columns:
            problems.append(f"line 1 (header), column {index}: {shown(column)} is not a column of an events file; "
                            f"the columns are {', '.join(known_columns)}")
        seen.setdefault(column, index)
    if problems:
        raise ImportRejected(problems, len(problems))
    return names


def read_rows(file: EventFile, dictionary_columns=()) -> pa.Table:
    """The rows as string columns named by the header (values as written, '' when empty), one
    row per line: row i is on line first_row_line + i. dictionary_columns come dictionary-encoded
    (one dictionary for the whole column), for columns with few distinct values."""
    invalid = []

    def count_invalid(row) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(file.body),
            read_options=pacsv.ReadOptions(column_names=file.header),
            parse_options=pacsv.ParseOptions(invalid_row_handler=count_invalid, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.dictionary(pa.int32(), pa.string()) if c in dictionary_columns else pa.string()
                              for c in file.header},
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as error:
        _reject_located(file, str(error))
    if invalid:
        _reject_located(file, f"{len(invalid)} rows with the wrong number of fields")
    if file.quoted and table.num_rows != file.lines:  # a quoted value ran over lines: line numbers would be off
        _reject_located(file, f"{table.num_rows} rows on {file.lines} lines")
    return table.unify_dictionaries()


def _reject_located(file: EventFile, arrow_says: str) -> NoReturn:
    """Find, line by line, what Arrow refused, and reject the file with it."""
    data = file.body.to_pybytes()
    offset_lines = file.first_row_line - 1
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column, field = position(data, error.start)
        raise ImportRejected([f"line {line + offset_lines}, column {_column_name(file.header, field)} (character "
                              f"{column}): byte 0x{data[error.start]:02x} is not UTF-8 text; the file is binary or "
                              f"in another encoding — save it as UTF-8 CSV"], 1) from None
    expected = len(file.header)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems, total = [], 0
    while True:
        first_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            total += 1
            problems.append(_quote_problem(text, first_line, offset_lines, file.header, error))
            break
        line = first_line + offset_lines
        if reader.line_num > first_line:
            total += 1
            problems.append(f"line {line}, column {_column_name(file.header, _quoted_field(row))}: a quoted value runs "
                            f"over {reader.line_num - first_line + 1} lines (to line {reader.line_num + offset_lines}); "
                            "values cannot hold line breaks — close the quote on the same line")
        elif len(row) > expected:
            total += 1
            problems.append(f"line {line}, column {expected + 1}: {len(row)} fields, but the header has {expected}; "
                            "remove the extra field (a comma inside a value needs the value in double quotes)")
        elif len(row) < expected and row != []:
            total += 1
            problems.append(f"line {line}, column {_column_name(file.header, len(row) + 1)}: {len(row)} fields, but the "
                            f"header has {expected}; give every column, leaving optional values empty (,,)")
        if len(problems) >= MAX_REPORTED_PROBLEMS:
            break
    if not problems:
        problems, total = [f"line 1, column 1: the file could not be read as CSV ({arrow_says})"], 1
    raise ImportRejected(problems, total)


def _quoted_field(row: list[str]) -> int:
    return next((index for index, value in enumerate(row, start=1) if "\n" in value or "\r" in value), 1)


def _quote_problem(text: str, first_line: int, offset_lines: int, header: list[str], error: csv.Error) -> str:
    """Where the quote that broke the row opens: its field and character on the row's first line."""
    line_text = text.split("\n", first_line)[first_line - 1] if first_line >= 1 else ""
    in_quote, field, opened = False, 1, 0
    for index, character in enumerate(line_text, start=1):
        if character == '"':
            in_quote = not in_quote
            opened = index if in_quote else opened
        elif character == "," and not in_quote:
            field += 1
    where = f"line {first_line + offset_lines}, column {_column_name(header, field)} (character {opened or 1})"
    if "end of data" in str(error):
        return f"{where}: a quoted value starts here and is never closed; add the closing double quote"
    return f"{where}: {error}; a double quote inside a quoted value is written twice (\"\")"
