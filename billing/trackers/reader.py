"""Reading a tracker's export as it was written: a CSV file (BOM, `,` `;` or tab, any quoting)
or a spreadsheet (XLSX, XLS, ODS).

    read_table(path, delimiter=None, encodings=("utf-8",)) -> Table
    read_header(path) -> list[str]

A ``Table`` holds the header and one Arrow string column per header cell, for the records
that have as many fields as the header, plus the 1-based line (spreadsheet row) on which
each record starts, so that a rejected row is shown exactly where the user sees it. Records
with another number of fields are kept apart in ``Table.ragged`` (line, field count, text).

CSV files are parsed by Arrow's CSV reader (a million rows in well under a second). Where
each record starts is found by one vectorised pass over the bytes: a line break ends a
record when an even number of quote characters comes before it (a doubled quote inside a
quoted value adds two). A file this pass cannot explain is re-read with Python's csv module,
slower but exact. Spreadsheets are read with python-calamine; their typed cells become the
text a CSV export would hold (dates ``YYYY-MM-DD``, times ``HH:MM:SS``, durations
``H:MM:SS``, numbers without a float's noise).

Raises ``TrackerError`` (one sentence naming the file, and the line where it applies) for a
missing, unreadable, empty or non-UTF-8 file.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from billing.errors import HourbankError


class TrackerError(HourbankError):
    """A tracker file or mapping that cannot be converted at all; one sentence."""


DELIMITERS = (",", ";", "\t")
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


@dataclass
class Table:
    """A tracker export read into columns.

    ``columns[i]`` is the Arrow string array (no nulls; an empty cell is ``""``) of header
    cell ``i``, one value per well-shaped record; ``lines[k]`` is the line (CSV) or row
    (spreadsheet) on which record ``k`` starts. ``ragged`` lists the records whose field
    count differs from the header's as (line, fields, raw text).
    """
    path: Path
    header: list[str]
    columns: list[pa.Array]
    lines: np.ndarray
    delimiter: str
    ragged: list[tuple[int, int, str]] = field(default_factory=list)
    sheet: str | None = None
    _raw: object = None          # callable: record index -> its text as written
    encoding: str = "utf-8"      # the text encoding that read a CSV file

    @property
    def rows(self) -> int:
        return len(self.lines)

    @property
    def line_word(self) -> str:
        return "row" if self.sheet is not None else "line"

    def raw(self, k: int) -> str:
        """Record ``k`` as written (CSV: its physical lines; spreadsheet: its cells joined by tabs)."""
        return self._raw(k)


def decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise TrackerError(
            f"{path.name}: line {line} is not UTF-8 text (byte 0x{data[exc.start]:02x}); "
            f"export the file as UTF-8 and try again.") from None


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header row into the most columns."""
    best, best_count = ",", 0
    for delimiter in DELIMITERS:
        try:
            count = len(next(csv.reader([header_line], delimiter=delimiter), []))
        except csv.Error:  # a bare CR inside the line: count the marks instead
            count = header_line.count(delimiter) + 1
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _is_spreadsheet(path: Path, head: bytes) -> bool:
    return path.suffix.lower() in SPREADSHEET_SUFFIXES or head[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def _read_bytes(path: Path, size: int = -1) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except FileNotFoundError:
        raise TrackerError(f"{path}: file not found.") from None
    except OSError as exc:
        raise TrackerError(f"{path}: cannot read the file ({exc.strerror}).") from None


def read_table(path: str | Path, delimiter: str | None = None, encodings: tuple[str, ...] = ("utf-8",)) -> Table:
    """Read a tracker export (CSV or spreadsheet) into a ``Table``; see the module docstring.

    ``encodings``: the text encodings a CSV file may be in, tried in order (a mapping's
    ``format.encoding``; Redmine writes ISO-8859-1 by default). ``Table.encoding`` says
    which one read it. Raises TrackerError for a file that none of them reads."""
    path = Path(path)
    data = _read_bytes(path)
    if _is_spreadsheet(path, data):
        return _read_spreadsheet(path, data)
    used = "utf-8"
    if len(encodings) > 1 or encodings[0].replace("_", "-").lower() not in ("utf-8", "utf8"):
        data, used = _as_utf8(path, data, encodings)
    table = _read_csv(path, data, delimiter)
    table.encoding = used
    return table


def _as_utf8(path: Path, data: bytes, encodings: tuple[str, ...]) -> tuple[bytes, str]:
    """The file's bytes as UTF-8, decoded with the first of ``encodings`` that reads them."""
    for encoding in encodings:
        try:
            text = data.decode("utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding)
        except UnicodeDecodeError:
            continue
        return (data if encoding.lower().startswith("utf") else text.encode("utf-8")), encoding
    decode(path, data)  # raises, naming the line of the first byte that is not UTF-8
    raise TrackerError(f"{path.name}: the file is in none of the encodings {', '.join(encodings)}.")


def read_header(path: str | Path) -> list[str]:
    """The header row only (to recognise the tracker), read from the start of the file:
    UTF-8, else Windows-1252, so that any export's tracker can be recognised."""
    path = Path(path)
    head = _read_bytes(path, 1 << 16)
    if _is_spreadsheet(path, head):
        return read_table(path).header
    text = head.decode("utf-8-sig", errors="ignore") if head.startswith(b"\xef\xbb\xbf") else None
    if text is None:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = head[:exc.start].decode("utf-8") if exc.start > len(head) - 4 else head.decode("cp1252", "replace")
    first = next((line for line in text.splitlines() if line.strip()), "")
    return [h.strip() for h in next(csv.reader([first], delimiter=sniff_delimiter(first)), [])]


# --- CSV -------------------------------------------------------------------------------

def _read_csv(path: Path, data: bytes, delimiter: str | None) -> Table:
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    body = data[bom:]
    # Leading blank lines are not the header.
    stripped = body.lstrip(b" \t\r\n")
    if not stripped:
        raise TrackerError(f"{path.name}: the file is empty; it has no header row.")
    offset = bom + len(body) - len(stripped)
    skipped = data[:offset].count(b"\n")
    first_line = stripped.split(b"\n", 1)[0]
    try:
        first_text = first_line.decode("utf-8")
    except UnicodeDecodeError:
        decode(path, data)  # raises with the line
        raise
    delimiter = delimiter or sniff_delimiter(first_text)
    try:
        return _read_csv_fast(path, data, offset, skipped, delimiter)
    except _SlowPath:
        return _read_csv_exact(path, data, offset, skipped, delimiter)


class _SlowPath(Exception):
    """The vectorised record scan cannot explain this file; read it with Python's csv."""


def _positions(buf: np.ndarray, byte: int, chunk: int = 1 << 22) -> np.ndarray:
    """Where ``byte`` occurs in ``buf``, found a few MB at a time (a comparison over the
    whole file would allocate as many bytes again)."""
    found = [np.flatnonzero(buf[at:at + chunk] == byte) + at for at in range(0, len(buf), chunk)]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _record_spans(data: bytes, buf: np.ndarray, start: int) -> tuple[np.ndarray, ...]:
    """(starts, ends, quote positions, line break positions): the byte span of each record from ``start`` on,
    blank ones dropped. A line break ends a record when the quotes before it are even in
    number. ``ends`` exclude the line break (and a CR before it)."""
    quotes = _positions(buf, 34)
    newlines = _positions(buf, 10)
    enders = _outside_quotes(quotes, newlines[newlines >= start])
    starts = np.concatenate(([start], enders + 1))
    ends = np.concatenate((enders, [len(buf)]))
    keep = starts < ends
    starts, ends = starts[keep], ends[keep]
    ends = ends - ((ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13))
    # Blank records (empty, or spaces and tabs only) are skipped, as the reader does; only
    # records that start with white space need a look.
    blank = ends == starts
    for k in np.flatnonzero(np.isin(buf[np.minimum(starts, len(buf) - 1)], (9, 13, 32))).tolist():
        if not data[starts[k]:ends[k]].strip():
            blank[k] = True
    return starts[~blank], ends[~blank], quotes, newlines


def _outside_quotes(quotes: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The positions that an even number of quotes precedes (not inside a quoted value)."""
    if not len(quotes):
        return positions
    return positions[(np.searchsorted(quotes, positions) & 1) == 0]


def _field_counts(buf: np.ndarray, quotes: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                  delimiter: str) -> np.ndarray:
    """How many fields each record has (delimiters outside quotes, plus one)."""
    delims = _outside_quotes(quotes, _positions(buf, ord(delimiter)))
    return np.searchsorted(delims, ends) - np.searchsorted(delims, starts) + 1


def _read_csv_fast(path: Path, data: bytes, offset: int, skipped: int, delimiter: str) -> Table:
    import pyarrow.csv as pcsv

    buf = np.frombuffer(data, dtype=np.uint8)
    starts, ends, quotes, newline_at = _record_spans(data, buf, offset)
    if not len(starts):
        raise TrackerError(f"{path.name}: the file is empty; it has no header row.")
    header_end = int(ends[0])
    try:
        header_text = data[offset:header_end].decode("utf-8")
        header = [h.strip() for h in next(csv.reader([header_text.replace("\r\n", "\n")], delimiter=delimiter))]
    except UnicodeDecodeError:
        decode(path, data)
        raise
    except (csv.Error, StopIteration) as exc:
        raise TrackerError(f"{path.name}: line {skipped + 1}: the header row cannot be read ({exc}).") from None
    starts, ends = starts[1:], ends[1:]
    # 1-based line of each record's first byte; a lone CR breaks a line too, as editors show it.
    lone_cr = _positions(buf, 13)
    lone_cr = lone_cr[(lone_cr + 1 >= len(buf)) | (buf[np.minimum(lone_cr + 1, len(buf) - 1)] != 10)]
    if len(_outside_quotes(quotes, lone_cr)):
        raise _SlowPath()  # a bare CR ends a line for some readers and not for others
    breaks = np.union1d(newline_at, lone_cr) if len(lone_cr) else newline_at
    lines_all = np.searchsorted(breaks, starts) + 1
    ncols = len(header)
    invalid: list[str] = []

    def on_invalid(row) -> str:
        invalid.append(row.text)
        return "skip"

    names = [f"c{i}" for i in range(ncols)]
    try:
        table = pcsv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(header_end)),
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=0, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                            escape_char=False, newlines_in_values=True,
                                            ignore_empty_lines=True, invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            decode(path, data)  # raises with the line
        raise _SlowPath() from None
    # Arrow keeps a whitespace-only line as a one-field record; the scan dropped it as blank.
    invalid = [t for t in invalid if t.strip()]
    if invalid:
        fields = _field_counts(buf, quotes, starts, ends, delimiter)
        good = fields == ncols
    else:
        fields, good = None, np.ones(len(starts), dtype=bool)
    ragged_idx = np.flatnonzero(~good)
    if table.num_rows != int(good.sum()) or len(invalid) != len(ragged_idx):
        raise _SlowPath()
    columns = [table.column(i) for i in range(ncols)]
    ragged = [(int(lines_all[k]), int(fields[k]), data[starts[k]:ends[k]].decode("utf-8", "replace"))
              for k in ragged_idx]
    good_idx = np.flatnonzero(good)
    g_starts, g_ends = starts[good_idx], ends[good_idx]

    def raw(k: int) -> str:
        return data[int(g_starts[k]):int(g_ends[k])].decode("utf-8", "replace")

    return Table(path=path, header=header, columns=columns, lines=lines_all[good_idx].astype(np.int64),
                 delimiter=delimiter, ragged=ragged, _raw=raw)


def _read_csv_exact(path: Path, data: bytes, offset: int, skipped: int, delimiter: str) -> Table:
    """Python's csv module, record by record: for files the vectorised scan cannot explain
    (a quote inside an unquoted value, say)."""
    text = decode(path, data)
    lines = io.StringIO(text, newline="").readlines()
    lead = 0
    while lead < len(lines) and not lines[lead].strip():
        lead += 1
    lines = lines[lead:]
    reader = csv.reader(iter(lines), delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise TrackerError(f"{path.name}: line {lead + 1}: the header row cannot be read ({exc}).") from None
    cells: list[list[str]] = []
    at: list[int] = []
    raws: list[str] = []
    ragged = []
    previous = reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise TrackerError(
                f"{path.name}: line {lead + previous + 1}: a record cannot be read ({exc}).") from None
        start = lead + previous + 1
        raw = "".join(lines[previous:reader.line_num]).rstrip("\r\n")
        previous = reader.line_num
        if not record or all(not f.strip() for f in record) and len(record) <= 1:
            continue
        if len(record) != len(header):
            ragged.append((start, len(record), raw))
            continue
        cells.append(record)
        at.append(start)
        raws.append(raw)
    columns = [pa.array([r[i] for r in cells], pa.string()) for i in range(len(header))]
    return Table(path=path, header=header, columns=columns, lines=np.array(at, dtype=np.int64),
                 delimiter=delimiter, ragged=ragged, _raw=raws.__getitem__)


# --- spreadsheets ----------------------------------------------------------------------

def cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        seconds = abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)  # the shortest text that reads back as the same number
    return str(value).strip()


def _read_spreadsheet(path: Path, data: bytes) -> Table:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - a dependency in requirements.txt
        raise TrackerError(f"{path.name}: reading spreadsheets needs python-calamine (requirements.txt).") from None
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_names = book.sheet_names
        rows = None
        for name in sheet_names:  # the first sheet that has anything in it
            candidate = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            if any(any(c not in (None, "") for c in r) for r in candidate):
                rows, sheet = candidate, name
                break
    except Exception as exc:  # calamine raises its own types for damaged files
        raise TrackerError(f"{path.name}: the spreadsheet cannot be read ({exc}); "
                           f"save it again as XLSX or export CSV.") from None
    if rows is None:
        raise TrackerError(f"{path.name}: the spreadsheet is empty; it has no header row.")
    texts = [[cell_text(c) for c in r] for r in rows]
    first = next(i for i, r in enumerate(texts) if any(r))
    header = texts[first]
    while header and not header[-1]:
        header.pop()  # formatting beyond the last named column
    ncols = len(header)
    cells, at, ragged = [], [], []
    for i in range(first + 1, len(texts)):
        row = texts[i]
        if not any(row):
            continue
        extra = [c for c in row[ncols:] if c]
        if extra:
            width = max(j for j, c in enumerate(row) if c) + 1
            ragged.append((i + 1, width, "\t".join(row[:width])))
            continue
        cells.append((row + [""] * ncols)[:ncols])
        at.append(i + 1)
    columns = [pa.array([r[j] for r in cells], pa.string()) for j in range(ncols)]

    def raw(k: int) -> str:
        return "\t".join(cells[k]).rstrip("\t")

    return Table(path=path, header=[h.strip() for h in header], columns=columns,
                 lines=np.array(at, dtype=np.int64), delimiter="", ragged=ragged, sheet=sheet, _raw=raw)
