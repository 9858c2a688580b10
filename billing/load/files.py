"""Finding and reading the canonical export's files: header rows, the lines a text editor
shows, and tables a converter holds in memory."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path


from billing.load.results import ImportError_
from billing.load.specs import SPECS


MAX_COLUMNS = 200


# --------------------------------------------------------------------------- reading
def read_header(path: Path) -> list[str]:
    """The header row's column names. A byte that is not UTF-8 in the header refuses the file
    with a sentence naming it and the line; only a multi-byte character cut by the end of the
    1 MiB chunk read here (the file goes on) is left for the next read, never taken as bad."""
    import codecs

    chunk = 1 << 20
    try:
        with path.open("rb") as fh:
            head = fh.read(chunk)
            cut = len(head) == chunk and fh.read(1) != b""
    except OSError as exc:
        raise ImportError_(f"{path}: cannot read the file ({exc.strerror}).")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if not head.strip():
        raise ImportError_(f"{path.name}: the file is empty (a header row is required).")
    line = head.split(b"\n", 1)[0]
    first = line if b'"' not in line else head  # a quoted header may span lines
    # The header ends within the chunk unless its first line fills the whole chunk: only then
    # may the chunk have cut a character in two (held back, not decoded, by final=False).
    final = not (cut and (first is head or len(line) == len(head)))
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(first, final=final)
    try:
        header = next(csv.reader(io.StringIO(text)))
    except (csv.Error, StopIteration):
        raise ImportError_(f"{path.name}: the header row cannot be read as CSV.")
    for i, name in enumerate(header, 1):
        bad = next((k for k, ch in enumerate(name) if "\udc80" <= ch <= "\udcff"), None)
        if bad is not None:
            byte = ord(name[bad]) - 0xDC00
            raise ImportError_(f"{path.name}: line 1 (the header) is not UTF-8 text: column {i} has the byte "
                               f"0x{byte:02x}; save the file as UTF-8 and import again.")
    header = [h.strip() for h in header]
    if len(header) > MAX_COLUMNS:
        raise ImportError_(f"{path.name}: the header has {len(header)} columns; at most {MAX_COLUMNS} are accepted.")
    seen = set()
    for i, name in enumerate(header, 1):
        if not name:
            raise ImportError_(f"{path.name}: column {i} of the header has no name.")
        if name in seen:
            raise ImportError_(f"{path.name}: the header names column '{name}' twice.")
        seen.add(name)
    return header


def physical_lines(path: Path, ncols: int, wanted: dict[tuple, list] | None = None):
    """One pass of Python's csv module (the DuckDB reader's dialect) over the file, run only
    when a reject needs its line: the line a text editor shows where each record starts.

    Returns (start lines of the well-shaped records, of the mis-shaped ones); with ``wanted``
    (field tuple → list to fill), the lines of well-shaped records with those exact fields are
    appended to their list instead of keeping every line. None if the file cannot be re-read.
    """
    if isinstance(path, TableSource):
        return None  # held in memory: its rows carry their source file and line
    good, bad = [], []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, strict=False)
            last = 0
            for i, record in enumerate(reader):
                start = last + 1
                last = reader.line_num
                if i == 0 or not record:
                    continue
                if len(record) != ncols:
                    bad.append(start)
                elif wanted is None:
                    good.append(start)
                else:
                    hit = wanted.get(tuple(record))
                    if hit is not None:
                        hit.append(start)
    except (csv.Error, UnicodeDecodeError):
        return None
    return good, bad


# --------------------------------------------------------------------------- the import
@dataclass(frozen=True)
class TableSource:
    """A canonical file that a converter holds in memory: ``name`` (as the file would be
    called) and an Arrow table of text columns named as the file's header. It is staged
    exactly as that CSV file would be, without writing and re-reading it."""
    name: str
    table: object          # pyarrow.Table
    origin: str = ""       # where it came from, for the import log

    def __str__(self) -> str:
        return self.origin or self.name


def find_files(source: Path) -> dict[str, Path]:
    if not source.exists():
        raise ImportError_(f"{source}: no such folder.")
    if source.is_file():
        candidates = {source.name: source}
    else:
        candidates = {p.name: p for p in source.iterdir() if p.is_file()}
    found = {t: candidates[s.filename] for t, s in SPECS.items() if s.filename in candidates}
    if not found:
        names = ", ".join(s.filename for s in SPECS.values())
        raise ImportError_(f"{source}: none of the export's files is there (expected at least one of {names}).")
    return found


def unreadable_csv(path: Path) -> str:
    import mmap
    import re

    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        lone_cr = re.search(rb"\r(?!\n)", data)
        line = data[:lone_cr.start()].count(b"\n") + 1 if lone_cr else None
        mixed = line is None and data.find(b"\r\n") != -1 and re.search(rb"(?<!\r)\n", data) is not None
    if mixed:
        return (f"{path.name}: some lines end in CR LF and others in LF only; save the file again as CSV "
                f"(one kind of line ending) and import again.")
    if line is None:
        return f"{path.name}: the file cannot be read as CSV; save it again as UTF-8 CSV and import again."
    return (f"{path.name}: line {line} has a carriage return inside a value that is not in quotes; "
            f"save the file again as CSV and import again.")
