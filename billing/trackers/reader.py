"""Reading a tracker's CSV file as it was exported: BOM, `,` `;` or tab, any quoting.

Each record keeps the 1-based physical line on which it starts (a quoted field may span
lines) and its raw text, so a rejected row can be shown exactly where the user sees it.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from billing.errors import HourbankError


class TrackerError(HourbankError):
    """A tracker file or mapping that cannot be converted at all; one sentence."""


@dataclass(frozen=True)
class Record:
    line: int
    fields: list[str]
    raw: str


@dataclass(frozen=True)
class Table:
    path: Path
    header: list[str]
    records: list[Record]
    delimiter: str


DELIMITERS = (",", ";", "\t")


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
        count = len(next(csv.reader([header_line], delimiter=delimiter), []))
        if count > best_count:
            best, best_count = delimiter, count
    return best


def read_table(path: str | Path, delimiter: str | None = None) -> Table:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TrackerError(f"{path}: file not found.") from None
    except OSError as exc:
        raise TrackerError(f"{path}: cannot read the file ({exc.strerror}).") from None
    text = decode(path, data)
    lines = io.StringIO(text, newline="").readlines()
    while lines and not lines[0].strip():
        lines.pop(0)  # leading blank lines are not the header
    skipped = 0
    for i, line in enumerate(io.StringIO(text, newline="").readlines()):
        if line.strip():
            skipped = i
            break
    if not lines:
        raise TrackerError(f"{path.name}: the file is empty; it has no header row.")
    delimiter = delimiter or sniff_delimiter(lines[0])
    reader = csv.reader(iter(lines), delimiter=delimiter, quotechar='"', doublequote=True,
                        strict=False)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise TrackerError(f"{path.name}: line {skipped + 1}: the header row cannot be read ({exc}).")
    records: list[Record] = []
    previous = reader.line_num
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise TrackerError(
                f"{path.name}: line {skipped + previous + 1}: a record cannot be read ({exc}).") from None
        start = previous + 1
        raw = "".join(lines[previous:reader.line_num]).rstrip("\r\n")
        previous = reader.line_num
        if not fields or all(not f.strip() for f in fields) and len(fields) <= 1:
            continue  # a blank line
        records.append(Record(line=skipped + start, fields=fields, raw=raw))
    return Table(path=path, header=header, records=records, delimiter=delimiter)


def header_of(path: str | Path) -> list[str]:
    """The header row only (for recognising the tracker)."""
    return read_table(path).header
