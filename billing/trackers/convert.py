"""Converting a tracker export into a canonical export folder (FORMATS.md) for the engine.

    convert(path, mapping, timezone, out_dir, date_order=None) -> Conversion

The work is done column by column, not row by row: each distinct text of a column (a
date, a time of day, a duration, a client) is read once with the readers of
``billing.trackers.values``, and the result is spread back over the rows with numpy. A
million-row export has a few thousand distinct dates and durations, so the rules of
reading stay plain Python while the rows cost array operations only.

A record the mapping cannot read is rejected with its file, line, column and reason, and
the rest go on; the first failing check of a row decides its reason, in the order a person
would look: field count, staff, client, start, duration or end, billable, tier. Totals
rows at the end of an export (Kimai, Jira) are recognised and skipped, and counted.
Nothing is written until every record has been read, and each output file is written to
a temporary name and then renamed, so a folder never holds half a conversion.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing import canonical
from billing.policy import US_PER_MINUTE
from billing.trackers.mapping import Mapping, column_patterns, encodings_of, norm, resolve_all, spec_column
from billing.trackers.reader import Table, TrackerError, read_table
from billing.trackers.values import (
    DATE_ORDERS, date_order_evidence, decide_decimal, minutes_text, parse_bool, parse_date,
    parse_duration, parse_offset, parse_time, split_timestamp, unit_from_header)

MAX_ENTRY_US = 1440 * US_PER_MINUTE  # FORMATS.md: minutes ≤ 1440
US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND

SEED_ACTIVITIES = tuple(canonical.SEED_ACTIVITIES)

# The canonical files' columns (billing.canonical), plus what the tracker said that FORMATS.md
# keeps as extra columns, and where each row came from (so a reject points at the user's file).
ENTRY_COLUMNS = canonical.ENTRY_COLUMNS + ["project", "tags", "_source_file", "_source_line"]
APPOINTMENT_COLUMNS = canonical.APPOINTMENT_COLUMNS + ["_source_file", "_source_line"]
PREVIEW_COLUMNS = ["line", "entry_id", "started_at", "staff", "client", "customer_id", "minutes",
                   "tier", "activity", "appointment_id", "customer_requested", "notes"]

# Words that open a totals row at the end of an export (English, German, French, Spanish,
# Portuguese, Dutch, Italian).
TOTAL_WORDS = re.compile(r"^\W*(total|totals|totaal|totale|totales|summe|gesamt|insgesamt|sum|somme|suma|soma|"
                         r"σ)\b", re.I)

Reject = tuple  # (file, line, column, reason, raw_record)


@dataclass
class Conversion:
    """What converting one tracker file gave.

    ``period``: first and last written day of the converted entries (None if none);
    ``rejects``: (file, line, column, reason, raw record) per row not converted, by line;
    ``unmapped_clients``: clients no customer-map entry names (their id is their name);
    ``preview``: one row per converted entry (PREVIEW_COLUMNS); ``staff`` and
    ``customers``: the distinct staff names and customer ids converted; ``notes``: sentences
    for the import summary (fallbacks used, tiers assumed, totals skipped); ``hints``: what
    to change when rows were rejected; ``needs_date_order``: nothing was written because
    the dates are day/month ambiguous (``ambiguous_dates`` shows some).
    """
    out_dir: Path
    period: tuple[date, date] | None
    rejects: list[Reject]
    unmapped_clients: list[str]
    preview_table: object          # pyarrow.Table (or DataFrame) behind ``preview``
    needs_date_order: bool = False
    tracker: str = ""
    source_file: str = ""
    date_order: str | None = None
    timezone: str | None = None
    entries: int = 0
    appointments: int = 0
    ambiguous_dates: list[str] = field(default_factory=list)
    staff: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    skipped_totals: int = 0
    # Per reject, what could be read of it: (staff, customer id, written day), None where not;
    # an import keeps stored entries that match, as they may be the row's earlier version.
    reject_keys: list[tuple[str | None, str | None, date | None]] = field(default_factory=list)
    # The canonical tables (time_entries, appointments) as Arrow tables of text, FORMATS.md's
    # columns plus project, tags and the source file and line.
    tables: dict = field(default_factory=dict)

    def preview_head(self, rows: int):
        """The first ``rows`` rows of ``preview`` (a DataFrame), without converting the rest."""
        if isinstance(self.preview_table, pa.Table):
            return self.preview_table.slice(0, rows).to_pandas()
        return self.preview_table.head(rows)

    @property
    def preview(self):
        """One row per converted entry (PREVIEW_COLUMNS) as a pandas DataFrame, made on first
        use (an import that shows no preview never pays for it, nor for importing pandas)."""
        if isinstance(self.preview_table, pa.Table):
            self.preview_table = self.preview_table.to_pandas()
        return self.preview_table


# --- columns: which cells feed which field ------------------------------------------------

def _trimmed(array: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(array)


def _codes(array: pa.Array) -> tuple[np.ndarray, list[str]]:
    """(per-row code, distinct values): each distinct text once."""
    encoded = pc.dictionary_encode(array)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary.to_pylist()


def _distinct(*arrays: pa.Array) -> tuple[np.ndarray, list[tuple]]:
    """(per-row code, distinct tuples) of several columns taken together."""
    parts = [_codes(a) for a in arrays]
    key = np.zeros(len(arrays[0]) if arrays else 0, dtype=np.int64)
    span = 1
    for codes, values in parts:
        if span * max(len(values), 1) >= 1 << 62:
            stacked = np.stack([c for c, _ in parts], axis=1)
            uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
            return inverse.reshape(-1), [tuple(p[1][c] for p, c in zip(parts, row)) for row in uniq]
        key = key * max(len(values), 1) + codes
        span *= max(len(values), 1)
    uniq, inverse = _factorize(key)
    tuples = []
    for k in uniq.tolist():
        row = []
        for codes, values in reversed(parts):
            k, c = divmod(k, max(len(values), 1))
            row.append(values[c] if values else "")
        tuples.append(tuple(reversed(row)))
    return inverse.astype(np.int64), tuples


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, each row's index into them): np.unique's answer, hashed not sorted."""
    encoded = pc.dictionary_encode(pa.array(values))
    return encoded.dictionary.to_numpy(zero_copy_only=False), encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _per_distinct(fn, *arrays: pa.Array) -> list:
    """``fn(*values)`` for each distinct combination, as one result per row (a list)."""
    inverse, tuples = _distinct(*arrays)
    results = [fn(*t) for t in tuples]
    out = np.empty(len(results), dtype=object)
    out[:] = results
    return out[inverse]


class _Context:
    """The table and mapping, and each source field as one Arrow text column per row."""

    def __init__(self, table: Table, mapping: Mapping, zone: ZoneInfo | None):
        self.table = table
        self.mapping = mapping
        self.zone = zone
        self.fmt = mapping.format
        self.order: str | None = None
        self.n = table.rows
        self.cols: dict[str, tuple[str, list[int]]] = {}
        self.patterns: dict[str, dict] = {}  # field -> {header index: pattern whose group is kept}
        for name, spec in mapping.columns.items():
            found = resolve_all(table.header, spec)
            if found:
                self.cols[name] = found
                self.patterns[name] = column_patterns(table.header, spec)
        self._cells: dict[str, pa.Array] = {}

    def has(self, name: str) -> bool:
        return name in self.cols

    def column_name(self, name: str) -> str:
        """The header cell(s) a field is read from, as the user sees them."""
        if name not in self.cols:
            return name
        kind, indices = self.cols[name]
        if kind == "join":
            return " + ".join(self.table.header[i] for i in indices)
        return self.table.header[indices[0]]

    def primary(self, name: str) -> pa.Array:
        """The field's first column only (no fallback), trimmed."""
        kind, indices = self.cols[name]
        key = f"primary:{name}"
        if key not in self._cells:
            self._cells[key] = _trimmed(self.table.columns[indices[0]])
        return self._cells[key]

    def cell(self, name: str) -> pa.Array:
        """The field's text per row, trimmed ("" when absent): the first non-empty of its
        columns, or its parts joined."""
        if name in self._cells:
            return self._cells[name]
        if name not in self.cols:
            value = pa.array([""] * self.n, pa.string()) if self.n else pa.array([], pa.string())
        else:
            kind, indices = self.cols[name]
            parts = [_trimmed(self.table.columns[i]) for i in indices]
            for k, i in enumerate(indices):
                pattern = self.patterns.get(name, {}).get(i)
                if pattern is not None and len(parts[k]):
                    parts[k] = pa.array(_per_distinct(lambda t, rx=pattern: _group(rx, t), parts[k]), pa.string())
            if kind == "first":
                value = parts[0]
                for part in parts[1:]:
                    value = pc.if_else(pc.equal(value, ""), part, value)
            else:
                spec = self.mapping.columns[name]
                sep = spec.get("sep", self.fmt["join_separator"])
                value = pa.array(_per_distinct(lambda *p: sep.join(x for x in p if x), *parts), pa.string())
        self._cells[name] = value
        return value


def _group(pattern, text: str) -> str:
    """The pattern's group in ``text`` ("" when it does not match): a column spec's part."""
    found = pattern.search(text) if text else None
    return (found.group(1) or "").strip() if found else ""


def _examples(cells: pa.Array, rows: np.ndarray, most: int = 5) -> str:
    """The distinct texts of ``cells`` in ``rows``, the first ``most`` of them, in words."""
    found = sorted(set(cells.filter(pa.array(rows, pa.bool_())).unique().to_pylist()), key=str.casefold)
    shown = ", ".join(found[:most])
    return shown + (f" and {len(found) - most} more" if len(found) > most else "")


def _need_columns(ctx: _Context, path: Path) -> None:
    """Whole-file errors: without these no row can be read."""
    needs = [("client", ("client",)), ("staff", ("staff",)), ("the start", ("start", "start_date")),
             ("the duration or end", ("duration", "end", "end_time"))]
    missing = [(label, keys) for label, keys in needs if not any(ctx.has(k) for k in keys)]
    if missing:
        wanted = "; ".join(
            f"{label} ({' or '.join(_spec_text(ctx.mapping.columns[k]) for k in keys if k in ctx.mapping.columns) or 'not mapped'})"
            for label, keys in missing)
        raise TrackerError(
            f"{path.name}: line 1: the header has no column for {wanted} "
            f"(mapping '{ctx.mapping.name}'); check the export or the mapping.")


def _spec_text(spec) -> str:
    if spec is None:
        return "not mapped"
    if isinstance(spec, str):
        return f"'{spec}'"
    if isinstance(spec, list):
        return " or ".join(f"'{spec_column(s)}'" for s in spec[:3]) + (" …" if len(spec) > 3 else "")
    return " + ".join(_spec_text(p) for p in spec["join"])


# --- row errors: the first failing check of a row is its reason ------------------------------

class _Errors:
    def __init__(self, n: int):
        self.reason = np.full(n, None, dtype=object)
        self.column = np.full(n, None, dtype=object)

    @property
    def ok(self) -> np.ndarray:
        return np.equal(self.reason, None)

    def fail(self, mask: np.ndarray, column: str | None, reason) -> None:
        """Rows in ``mask`` not already failed get ``column`` and ``reason`` (each a text, or
        an array with one per row)."""
        mask = mask & self.ok
        if not mask.any():
            return
        self.reason[mask] = reason[mask] if isinstance(reason, np.ndarray) else reason
        self.column[mask] = column[mask] if isinstance(column, np.ndarray) else column


def _parsed(fn, texts: list[str]):
    """Each distinct text read by ``fn``: (values, error reasons or None)."""
    values, errors = [], []
    for text in texts:
        try:
            values.append(fn(text))
            errors.append(None)
        except ValueError as exc:
            values.append(None)
            errors.append(str(exc))
    return values, errors


def _spread(values: list, codes: np.ndarray, dtype=object, fill=None) -> np.ndarray:
    table = np.empty(len(values), dtype=dtype) if dtype is object else np.full(len(values), fill, dtype=dtype)
    for i, v in enumerate(values):
        if v is not None:
            table[i] = v
    return table[codes] if len(values) else np.full(len(codes), fill, dtype=dtype)


# --- dates and times -------------------------------------------------------------------------

_SPLIT_RE = (r"^(?P<date>.+?)(?:[Tt]|,?\s+|,)(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?"
             r"(?:\s*[AaPp]\.?\s*[Mm]\.?)?)\s*(?P<offset>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$")


@dataclass
class _Split:
    """A column of timestamp cells, split once per distinct cell: ``codes`` per row, and per
    distinct cell its date, time-of-day and offset texts."""
    codes: np.ndarray
    date: pa.Array
    time: pa.Array
    offset: pa.Array


def _split(ctx: _Context, name: str) -> _Split:
    key = f"split:{name}"
    if key not in ctx._cells:
        codes, texts = _codes(ctx.cell(name))
        cells = pa.array(texts, pa.string())
        if len(texts) > 2000:  # many distinct cells (a date and time in each): split in Arrow
            parts = pc.extract_regex(cells, _SPLIT_RE)
            matched = pc.is_valid(parts).to_numpy(zero_copy_only=False)
            date_t = np.asarray(pc.if_else(matched, pc.struct_field(parts, "date"), cells)
                                .to_numpy(zero_copy_only=False), dtype=object)
            time_t = np.asarray(pc.if_else(matched, pc.struct_field(parts, "time"), "")
                                .to_numpy(zero_copy_only=False), dtype=object)
            offset_t = np.asarray(pc.fill_null(pc.if_else(matched, pc.struct_field(parts, "offset"), ""), "")
                                  .to_numpy(zero_copy_only=False), dtype=object)
            date_t[matched] = [d.rstrip(", ") for d in date_t[matched]] if matched.any() else []
            for i in np.flatnonzero(~matched).tolist():
                date_t[i], time_t[i], offset_t[i] = split_timestamp(texts[i])
        else:
            split = [split_timestamp(t) for t in texts]
            date_t = [x[0] for x in split]
            time_t = [x[1] for x in split]
            offset_t = [x[2] for x in split]
        ctx._cells[key] = _Split(codes, pa.array(list(date_t), pa.string()), pa.array(list(time_t), pa.string()),
                                 pa.array(list(offset_t), pa.string()))
    return ctx._cells[key]


@dataclass
class _Stamp:
    """A start or end per row: written day (days since 1970; -1: none), time of day (µs; -1:
    none), the offset written in the cell (seconds; NaN: none), whether a date was written,
    and the reject reason and column per row (None: readable)."""
    day: np.ndarray
    tod: np.ndarray
    offset: np.ndarray
    has_date: np.ndarray
    error: np.ndarray
    column: np.ndarray


_EPOCH = date(1970, 1, 1)


def _read_each(texts: pa.Array, fn) -> tuple[np.ndarray, np.ndarray, list]:
    """``fn`` (a number, or ValueError) over each distinct text of ``texts``:
    (value per element as float, NaN where empty or unreadable; reason code per element,
    -1 where readable; the reasons)."""
    codes, distinct = _codes(texts)
    values, reasons = _parsed(lambda t: fn(t) if t else None, distinct)
    numbers = np.array([np.nan if v is None else float(v) for v in values] or [np.nan])
    found = sorted({r for r in reasons if r is not None})
    which = np.array([-1 if r is None else found.index(r) for r in reasons] or [-1], dtype=np.int64)
    return numbers[codes], which[codes], found


def _read_stamp(ctx: _Context, whole: str | None, date_field: str | None, time_field: str | None) -> _Stamp:
    """Read a start or an end from a single cell (``whole``) or a date and a time cell.

    Every distinct cell is read once; the rows get numbers (days, µs, seconds) by index."""
    n = ctx.n
    day = np.full(n, -1, dtype=np.int64)
    tod = np.full(n, -1, dtype=np.int64)
    offset = np.full(n, np.nan)
    has_date = np.zeros(n, dtype=bool)
    error = np.full(n, None, dtype=object)
    column = np.full(n, None, dtype=object)
    pattern = ctx.fmt["date_pattern"] or None
    if pattern and any(x in pattern for x in ("%H", "%I", "%M")):
        pattern = pattern.split("%H")[0].split("%I")[0].strip(" T,") or None

    def date_of(t):
        return (parse_date(t, ctx.order, pattern) - _EPOCH).days

    def time_of(t):
        return _tod_us(parse_time(t, ctx.fmt["clock"]))

    def record(rows: np.ndarray, which: np.ndarray, found: list, name: str, override=False) -> None:
        bad = rows & (which >= 0) & (np.equal(error, None) | override)
        if bad.any():
            error[bad] = np.array(found, dtype=object)[which[bad]]
            column[bad] = name

    for field_name in (f for f in (whole, date_field) if f and ctx.has(f)):
        split = _split(ctx, field_name)
        take = ~has_date & (pc.not_equal(split.date, "").to_numpy(zero_copy_only=False)[split.codes]
                            if len(split.codes) else np.zeros(0, bool))
        name = ctx.column_name(field_name)
        for texts, fn, target in ((split.date, date_of, day), (split.time, time_of, tod),
                                  (split.offset, parse_offset, offset)):
            numbers, which, found = _read_each(texts, fn)
            numbers, which = numbers[split.codes], which[split.codes]
            got = take & ~np.isnan(numbers)
            target[got] = numbers[got]
            record(take, which, found, name)
        has_date |= take
    if time_field and ctx.has(time_field):
        cells = ctx.cell(time_field)
        numbers, which, found = _read_each(cells, time_of)
        given = pc.not_equal(cells, "").to_numpy(zero_copy_only=False)
        got = given & ~np.isnan(numbers)
        tod[got] = numbers[got]
        record(given, which, found, ctx.column_name(time_field), override=~has_date)
    return _Stamp(day=day, tod=tod, offset=offset, has_date=has_date, error=error, column=column)


def _tod_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * US_PER_SECOND + t.microsecond


def _utc_offsets(zone: ZoneInfo | None, day: np.ndarray, tod: np.ndarray) -> np.ndarray:
    """R1: the zone's UTC offset (seconds) of each wall time (fold 0 where a change skips or
    repeats it). Constant over a day without a change; rows on a change day are read one by one."""
    n = len(day)
    if zone is None or n == 0:
        return np.zeros(n, dtype=np.int64)
    out = np.zeros(n, dtype=np.int64)
    uniq, inverse = np.unique(day, return_inverse=True)
    per_day = np.zeros(len(uniq), dtype=np.int64)
    changing = np.zeros(len(uniq), dtype=bool)
    for i, d in enumerate(uniq.tolist()):
        when = _EPOCH + timedelta(days=int(d))
        start = datetime.combine(when, time(0), zone).utcoffset()
        end = datetime.combine(when, time(23, 59, 59, 999999), zone).utcoffset()
        per_day[i] = int(start.total_seconds())
        changing[i] = start != end
    out[:] = per_day[inverse]
    for row in np.flatnonzero(changing[inverse]):
        wall = datetime.combine(_EPOCH + timedelta(days=int(day[row])), time(0)) + timedelta(
            microseconds=int(max(tod[row], 0)))
        out[row] = int(wall.replace(tzinfo=zone, fold=0).utcoffset().total_seconds())
    return out


def _instant_us(stamp_day, stamp_tod, offset, zone_offset) -> np.ndarray:
    """µs since 1970 UTC of wall times: their own offset where written, else the zone's."""
    wall = stamp_day * US_PER_DAY + np.maximum(stamp_tod, 0)
    own = ~np.isnan(offset)
    shift = np.where(own, np.nan_to_num(offset).astype(np.int64), zone_offset)
    return wall - shift * US_PER_SECOND


def decide_date_order(ctx: _Context, path: Path) -> tuple[str | None, list[str]]:
    """(order, ambiguous examples): None when dates are day/month ambiguous throughout.

    Each distinct date text of the start and the end is weighed once, in the order of the
    file (the row where it first appears, the start before the end)."""
    possible = {"dmy", "mdy"}
    ambiguous, decided_by = [], {}
    seen = []
    for which, fields in enumerate((("start", "start_date"), ("end", "end_date"))):
        for field_name in (f for f in fields if ctx.has(f)):
            split = _split(ctx, field_name)
            first = _first_rows(split.codes, len(split.date))
            seen += [(int(first[i]), which, text) for i, text in enumerate(split.date.to_pylist())
                     if text and first[i] >= 0]
    for row, _, text in sorted(set(seen)):
        evidence = date_order_evidence(text)
        if not evidence:
            continue  # None: says nothing; empty: no date in either order (that row is rejected)
        if len(evidence) == 2:
            if len(ambiguous) < 3:
                ambiguous.append(text)
            continue
        for order in evidence:
            decided_by.setdefault(order, (int(ctx.table.lines[row]), text))
        possible &= evidence
    if not possible:
        (l1, t1), (l2, t2) = decided_by["dmy"], decided_by["mdy"]
        raise TrackerError(
            f"{path.name}: the dates mix day-first (line {l1}: {t1}) and month-first "
            f"(line {l2}: {t2}) order; fix the export so all dates use one order.")
    if len(possible) == 1:
        return possible.pop(), []
    return (None, ambiguous) if ambiguous else ("ymd", [])


def _first_rows(codes: np.ndarray, count: int) -> np.ndarray:
    """The first row of each code (-1 for a code no row has)."""
    first = np.full(count, -1, dtype=np.int64)
    if len(codes):
        rows = np.arange(len(codes))[::-1]
        first[codes[::-1]] = rows
    return first


# --- durations -------------------------------------------------------------------------------

def _duration_unit(ctx: _Context, texts: list[str], decimal: str, elapsed: dict[str, int]) -> str:
    """The unit of plain-number durations: the mapping's, or with ``auto`` the one the column's
    name states, else the largest of hours, minutes and seconds that keeps every value within
    a day and within the row's start-to-end time where both are written (Kimai 1.x writes
    seconds: 2700 is 45 minutes, not 2,700 hours)."""
    unit = ctx.fmt["duration_unit"]
    if unit != "auto":
        return unit
    stated = unit_from_header(ctx.column_name("duration"))
    if stated:
        return stated
    numbers = {}
    for text in texts:
        if text and ":" not in text and not re.search(r"[A-Za-z]", text):
            try:
                numbers[text] = parse_duration(text, "number", "hours", decimal, ctx.fmt["thousands"])
            except ValueError:
                pass
    for candidate, scale in (("hours", 1), ("minutes", 60), ("seconds", 3600)):
        fits = all(us // scale <= MAX_ENTRY_US and (text not in elapsed or us // scale <= elapsed[text] + US_PER_MINUTE)
                   for text, us in numbers.items())
        if fits:
            return candidate
    return "hours"


def duration_precision_us(text: str, unit: str) -> int:
    """Half the last written digit of a duration, in µs: ``0.33`` hours 18 s, ``1.5`` hours
    3 min, ``0:13`` 30 s, ``0:13:00`` 0.5 s; 0 for a text that is not a plain duration."""
    t = text.strip()
    if not t:
        return 0
    m = re.fullmatch(r"\d+:\d{1,2}:\d{1,2}(?:[.,](\d+))?", t)
    if m:
        return (US_PER_SECOND // 2) // (10 ** len(m[1] or ""))
    if re.fullmatch(r"\d+:\d{1,2}", t):
        return 30 * US_PER_SECOND
    m = re.fullmatch(r"\d*(?:[.,](\d+))?", t)
    if m:
        unit_us = {"hours": 3600, "minutes": 60, "seconds": 1}[unit] * US_PER_SECOND
        return unit_us // 2 // (10 ** len(m[1] or ""))
    return 0


# --- tier, sessions, activity -------------------------------------------------------------------

def _in(value: str, names: list[str]) -> bool:
    return bool(value) and norm(value) in {norm(n) for n in names}


def _any_in(values: list[str], names: list[str]) -> bool:
    wanted = {norm(n) for n in names}
    return any(norm(v) in wanted for v in values)


def _tags(text: str, separator: str) -> list[str]:
    return [t.strip() for t in text.split(separator) if t.strip()]


def decide_tier(mapping: Mapping, client: str, project: str, tags: list[str],
                billable: bool | None) -> tuple[str | None, str | None, str]:
    """R2: (tier, None, how) or (None, field, reason): from client, project, tags (in that
    order), then the billable flag, then the mapping's default tier."""
    meaning = mapping.meaning
    for kind, values in (("clients", [client]), ("projects", [project]), ("tags", tags)):
        general = _any_in(values, meaning[f"general_{kind}"])
        one = _any_in(values, meaning[f"one_on_one_{kind}"])
        if general and one:
            return None, ("tags" if kind == "tags" else kind[:-1]), \
                f"its {kind} mean both one_on_one and general (R2); fix the mapping"
        if general or one:
            return ("general" if general else "one_on_one"), None, kind
    if billable is not None:
        return (meaning["billable_yes"] if billable else meaning["billable_no"]), None, "billable"
    if meaning["default_tier"]:
        return meaning["default_tier"], None, "default"
    return None, "billable", ("nothing says whether this is one_on_one or general work (R2); "
                              "set a billable column or default_tier in the mapping")


def decide_activity(mapping: Mapping, sources: dict[str, str], tags: list[str]) -> str:
    """Task, tags, project, ... -> activity; a name that reads as a seed category becomes it."""
    meaning = mapping.meaning
    meaning_tags = set()
    for key in ("session_tags", "requested_tags", "one_on_one_tags", "general_tags"):
        meaning_tags |= {norm(t) for t in meaning[key]}
    value = ""
    for source in meaning["activity_from"]:
        if source == "tags":
            value = next((t for t in tags if norm(t) not in meaning_tags), "")
        else:
            value = sources.get(source, "")
        if value:
            break
    if not value:
        return ""
    for name, target in mapping.activity_map.items():
        if norm(name) == norm(value):
            return target
    seed = re.sub(r"[\s\-]+", "_", norm(value))
    return seed if seed in SEED_ACTIVITIES else value


def _bool_column(ctx: _Context, name: str, errors: _Errors) -> np.ndarray | None:
    """Yes/no per row (object array of True/False), or None when the field has no column."""
    if not ctx.has(name):
        return None
    codes, texts = _codes(ctx.cell(name))
    values, reasons = _parsed(lambda t: parse_bool(t, ctx.mapping.yes, ctx.mapping.no), texts)
    errors.fail(np.not_equal(_spread(reasons, codes), None), ctx.column_name(name), _spread(reasons, codes))
    return _spread(values, codes)


# --- ids, sessions, output ----------------------------------------------------------

def _digest(text: str, n: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def _sha256_hex(strings: pa.Array) -> np.ndarray:
    """sha256 hex digest of each text, computed by DuckDB (vectorised; the same digest as hashlib)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("ids", pa.table({"s": strings}))
        return con.sql("SELECT sha256(s) AS h FROM ids").to_arrow_table().column("h").to_numpy(zero_copy_only=False)
    finally:
        con.close()


def _zone(path: Path, name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TrackerError(f"{path.name}: time zone {name!r} is not one that zoneinfo knows "
                           f"(use an IANA name such as Europe/Berlin).") from None


def _offset_text(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    seconds = abs(int(seconds))
    text = f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return text + (f":{seconds % 60:02d}" if seconds % 60 else "")


def _write_csv(path: Path, table: pa.Table) -> None:
    import pyarrow.csv as pcsv

    tmp = path.with_name(f".{path.name}.tmp")
    pcsv.write_csv(table, tmp, write_options=pcsv.WriteOptions(quoting_style="needed"))
    os.replace(tmp, path)


def _empty_rows(ctx: _Context) -> np.ndarray:
    """Records whose every field is empty (``,,,,,``: a spreadsheet saved as CSV): skipped
    like blank lines, as the spreadsheet reader skips empty rows."""
    key = "empty-rows"
    if key not in ctx._cells:
        empty = np.zeros(ctx.n, dtype=bool)
        columns = ctx.table.columns
        if columns:
            # The first column rules out almost every row; the rest are looked at on the few left.
            candidates = np.flatnonzero(pc.equal(_trimmed(columns[0]), "").to_numpy(zero_copy_only=False))
            for column in columns[1:]:
                if not len(candidates):
                    break
                cells = _trimmed(column.take(pa.array(candidates, pa.int64())))
                candidates = candidates[pc.equal(cells, "").to_numpy(zero_copy_only=False)]
            empty[candidates] = True
        ctx._cells[key] = empty
    return ctx._cells[key]


def _totals_rows(ctx: _Context, tail: int = 20) -> np.ndarray:
    """Rows at the end of the file that are a totals row: no staff and no start, and a total
    word or a duration (Kimai's and Jira's spreadsheets add them under the entries). Only the
    last ``tail`` rows are looked at."""
    n = ctx.n
    totals = np.zeros(n, dtype=bool)
    if n == 0:
        return totals
    first = max(0, n - tail)

    def texts(array) -> list[str]:
        return [t.strip() for t in array.slice(first).to_pylist()]

    staff = texts(ctx.cell("staff")) if ctx.has("staff") else [""] * (n - first)
    starts = texts(ctx.cell("start" if ctx.has("start") else "start_date"))
    durations = texts(ctx.cell("duration")) if ctx.has("duration") else [""] * (n - first)
    leading = [texts(c) for c in ctx.table.columns[:3]]
    empty = _empty_rows(ctx)[first:]
    for k in range(n - first - 1, -1, -1):
        if empty[k]:
            continue  # a record of empty fields between the entries and the totals row
        worded = any(TOTAL_WORDS.match(col[k]) for col in leading) or bool(TOTAL_WORDS.match(starts[k]))
        if staff[k] or not (not starts[k] or worded) or not (worded or durations[k]):
            break
        totals[first + k] = True
    return totals


# --- the conversion ---------------------------------------------------------------------------

def convert(path: str | Path, mapping: Mapping, timezone: str | None, out_dir: str | Path,
            date_order: str | None = None, *, write: bool = True) -> Conversion:
    """Convert one tracker file into ``out_dir`` (time_entries.csv, maybe appointments.csv).

    ``timezone`` is the zone of the file's wall times (None: the mapping's, else written
    without an offset); a cell with its own offset (``…+01:00``, ``…Z``) keeps it: the offset
    decides the instant (R1). ``date_order`` (ymd/dmy/mdy) overrides the mapping's; when the
    order is needed but cannot be decided, nothing is written and ``needs_date_order`` is
    set so the caller can ask. Where a row gives a duration, that is what was worked; its
    start and end only date it. The canonical tables are also returned as Arrow tables
    (``Conversion.tables``); ``write=False`` writes no files. Raises TrackerError for a file
    that cannot be read at all.
    """
    path = Path(path)
    out_dir = Path(out_dir)
    if date_order is not None and date_order not in DATE_ORDERS:
        raise TrackerError(f"date order {date_order!r} must be one of {', '.join(DATE_ORDERS)}.")
    delimiter = None if mapping.format["delimiter"] == "auto" else mapping.format["delimiter"]
    table = read_table(path, delimiter, encodings_of(mapping.format))
    zone_name = timezone or mapping.format["timezone"] or None
    zone = _zone(path, zone_name)
    ctx = _Context(table, mapping, zone)
    _need_columns(ctx, path)
    source_file = path.name
    n = ctx.n
    notes: list[str] = []
    word = table.line_word

    if table.encoding.replace("_", "-").lower() not in ("utf-8", "utf8"):
        notes.append(f"The file is not UTF-8 text: it was read as {table.encoding} (format.encoding of the "
                     f"mapping '{mapping.name}').")
    totals = _totals_rows(ctx)
    skipped_totals = int(totals.sum())
    ragged_totals = [r for r in table.ragged
                     if (not len(table.lines) or r[0] > table.lines[-1]) and TOTAL_WORDS.match(r[2].strip('"'))]
    skipped_totals += len(ragged_totals)
    if skipped_totals:
        where = sorted([int(x) for x in table.lines[totals]] + [r[0] for r in ragged_totals])
        notes.append(f"{skipped_totals} totals row{'s' if skipped_totals > 1 else ''} at the end of the file "
                     f"({word} {', '.join(map(str, where))}) {'were' if skipped_totals > 1 else 'was'} skipped.")

    order = date_order or (None if mapping.format["date_order"] == "auto" else mapping.format["date_order"])
    start = end = None
    if order is None and not mapping.format["date_pattern"]:
        ctx.order = None
        order, ambiguous = decide_date_order(ctx, path)
        if order is None:
            return Conversion(out_dir=out_dir, period=None, rejects=[], unmapped_clients=[],
                              preview_table=pa.table({c: pa.array([], pa.string()) for c in PREVIEW_COLUMNS}),
                              needs_date_order=True,
                              tracker=mapping.name, source_file=source_file, timezone=zone_name,
                              ambiguous_dates=ambiguous)
    ctx.order = order

    errors = _Errors(n)
    errors.fail(totals, None, "totals row")
    empty_rows = _empty_rows(ctx)
    errors.fail(empty_rows, None, "empty")
    # Staff and client (R3: everyone's time counts, so a row without its person is refused).
    staff = ctx.cell("staff")
    errors.fail(pc.equal(staff, "").to_numpy(zero_copy_only=False), ctx.column_name("staff"),
                "has no staff member (who did the work)")
    client = ctx.cell("client")
    client_empty = pc.equal(client, "").to_numpy(zero_copy_only=False)
    errors.fail(client_empty, ctx.column_name("client"),
                "has no client" + (f" (nor {', '.join(ctx.table.header[i] for i in ctx.cols['client'][1][1:])})"
                                   if len(ctx.cols["client"][1]) > 1 else "")
                + ", so no customer can be billed")
    client_first = ctx.cols["client"][1][0]
    if len(ctx.cols["client"][1]) > 1:
        fell_back = pc.and_(pc.equal(ctx.primary("client"), ""), pc.not_equal(client, "")).to_numpy(
            zero_copy_only=False) & errors.ok
        if fell_back.any():
            used = [ctx.table.header[i] for i in ctx.cols["client"][1][1:]]
            notes.append(f"{int(fell_back.sum())} row{'s have' if fell_back.sum() > 1 else ' has'} no "
                         f"{ctx.column_name('client')}: the {' or '.join(used)} is used as the customer "
                         f"({_examples(client, fell_back)}; mapping key client = "
                         f"{_spec_text(mapping.columns['client'])}).")
    if client_first in ctx.patterns.get("client", {}) or (
            ctx.has("project") and client_first == ctx.cols["project"][1][0]):
        # No client column at all (Redmine, Jira): say where every customer comes from.
        whole = errors.ok & ~client_empty
        if whole.any():
            notes.append(f"The file has no client column: the customer of each entry is its "
                         f"{ctx.table.header[client_first]}" + (" (the project of the issue key)"
                                                                if client_first in ctx.patterns.get("client", {})
                                                                else "")
                         + f" ({_examples(client, whole)}). To bill other customers, add their column "
                         f"or map these names to customer ids in the mapping's [customers].")

    # Start, end and duration.
    start = _read_stamp(ctx, "start", "start_date", "start_time")
    errors.fail(np.not_equal(start.error, None), start.column, start.error)
    no_start = ~start.has_date
    errors.fail(no_start, ctx.column_name("start" if ctx.has("start") else "start_date"),
                "has no start" if ctx.has("start") else "has no date")

    end = _read_stamp(ctx, "end", "end_date", "end_time") if any(ctx.has(f) for f in ("end", "end_date", "end_time")) else None
    duration_text = ctx.cell("duration") if ctx.has("duration") else None
    has_duration = (pc.not_equal(duration_text, "").to_numpy(zero_copy_only=False)
                    if duration_text is not None else np.zeros(n, bool))
    zone_start = _utc_offsets(zone, start.day, start.tod)
    start_instant = _instant_us(start.day, start.tod, start.offset, zone_start)
    elapsed = np.full(n, -1, dtype=np.int64)
    end_ok = np.zeros(n, bool)
    if end is not None:
        end_has_time = end.tod >= 0
        end_day = np.where(end.has_date, end.day, start.day)
        zone_end = _utc_offsets(zone, end_day, end.tod)
        end_instant = _instant_us(end_day, end.tod, end.offset, zone_end)
        end_ok = end_has_time & (start.tod >= 0) & np.equal(end.error, None)
        elapsed = np.where(end_ok, end_instant - start_instant, -1)

    us = np.zeros(n, dtype=np.int64)
    duration_column = ctx.column_name("duration") if ctx.has("duration") else ctx.column_name(
        "end_time" if ctx.has("end_time") else "end")
    if duration_text is not None:
        d_codes, d_texts = _codes(duration_text)
        decimal = mapping.format["decimal"]
        if decimal == "auto":
            decimal = decide_decimal(d_texts, "," if table.delimiter == ";" else ".")
        # Per distinct duration text, the longest start-to-end time of a row that has it.
        longest = np.full(len(d_texts), -1, dtype=np.int64)
        np.maximum.at(longest, d_codes[end_ok], elapsed[end_ok] % US_PER_DAY)
        elapsed_by_text = {d_texts[i]: int(v) for i, v in enumerate(longest.tolist()) if v >= 0}
        unit = _duration_unit(ctx, d_texts, decimal, elapsed_by_text)
        if mapping.format["duration_unit"] == "auto" and unit != "hours":
            notes.append(f"{ctx.column_name('duration')} is read as {unit} (a plain number in it is a count of {unit}).")
        values, reasons = _parsed(
            lambda t: parse_duration(t, mapping.format["duration"], unit, decimal, mapping.format["thousands"])
            if t else None, d_texts)
        d_us = _spread(values, d_codes, np.int64, 0)
        d_err = _spread(reasons, d_codes)
        errors.fail(has_duration & np.not_equal(d_err, None), ctx.column_name("duration"), d_err)
        # The duration is what was worked. Written as 0.33 hours or 0:13 it is exact only to
        # its last digit; where the start and end agree with it within that, the exact
        # start-to-end time is taken (12:00-12:20 with 0.33 h is 20 minutes, not 19.8). A coarser
        # figure (1.5 hours) is taken as written: the gap may be a break the tracker subtracted.
        tolerance = _spread([duration_precision_us(t, unit) for t in d_texts], d_codes, np.int64, 0)
        close = end_ok & (tolerance <= 30 * US_PER_SECOND) & (np.abs(elapsed - d_us) <= tolerance)
        us = np.where(has_duration, np.where(close, elapsed, d_us), us)
    no_duration = ~has_duration
    if end is not None:
        # Without a duration, the time worked is the end minus the start, as real elapsed time
        # (instants, so a daylight-saving change counts as it happened).
        use_end = no_duration & end_has_time
        bad_end = use_end & np.not_equal(end.error, None)
        errors.fail(bad_end, end.column, end.error)
        backwards = use_end & end_ok & (elapsed < 0)
        end_name = ctx.column_name("end" if ctx.has("end") else "end_time")
        errors.fail(backwards, end_name, _backwards_reasons(start, end, backwards))
        us = np.where(use_end & end_ok, elapsed, us)
        missing = no_duration & ~end_has_time
    else:
        missing = no_duration
    what = "no end time and no duration" if ctx.has("duration") else "no end time"
    errors.fail(missing, ctx.column_name("duration" if ctx.has("duration") else "end_time"),
                f"has {what} (a running timer?)")
    errors.fail(us <= 0, duration_column, "the duration is zero; there is no time to bill")
    too_long = us > MAX_ENTRY_US
    if too_long.any():
        m_codes, m_values = _codes(pa.array(us, pa.int64()).cast(pa.string()))
        texts = np.array([f"the duration is {minutes_text(int(v))} minutes, more than a day (1440)"
                          for v in m_values], dtype=object)[m_codes]
        errors.fail(too_long, duration_column, texts)
    errors.fail((us > 0) & (us < 30), duration_column, "the duration rounds to zero minutes")

    # R2 tier, R4 sessions, R3 customer-requested, activity.
    project = ctx.cell("project")
    task = ctx.cell("task")
    tags_text = ctx.cell("tags")
    billable = _bool_column(ctx, "billable", errors)
    billable_text = pa.array(np.where(np.equal(billable, None), "", np.where(np.equal(billable, True), "True", "False"))
                             if billable is not None else [""] * n, pa.string())
    separator = mapping.format["tags_separator"]
    tier_inverse, tier_tuples = _distinct(client, project, tags_text, billable_text)
    decided = [decide_tier(mapping, c, p, _tags(t, separator), None if b == "" else b == "True")
               for c, p, t, b in tier_tuples]
    tier = np.array([d[0] or "" for d in decided] or [""], dtype="U10")[tier_inverse] if n else np.zeros(0, "U10")
    how = np.array([d[2] for d in decided] or [""], dtype=object)[tier_inverse] if n else np.zeros(0, object)
    undecided = np.equal(tier, "")
    if undecided.any() and not ctx.has("billable"):
        # No column decides the tier (Kimai 1.x, some Clockify exports): the work is the team's
        # paid 1-on-1 time (R2), as the summary says, with the setting that changes it.
        tier = np.where(undecided, "one_on_one", tier)
        count = int((undecided & errors.ok).sum())
        if count:
            notes.append(f"The file has no column that says whether work is billable: {count} "
                         f"entr{'ies load' if count > 1 else 'y loads'} as 1-on-1 (billable, R2). To change that, "
                         f"set meaning.default_tier = \"general\" or name the General Support projects or "
                         f"tags (meaning.general_projects, meaning.general_tags) in a mapping.")
        undecided = np.zeros(n, bool)
    if undecided.any():
        field_of = np.array([d[1] or "" for d in decided], dtype=object)[tier_inverse]
        for fld in ("client", "project", "tags", "billable"):
            column_name = ctx.column_name(fld) if ctx.has(fld) else fld
            errors.fail(undecided & (field_of == fld), column_name, how)

    session_flag = _bool_column(ctx, "session", errors)
    requested_flag = _bool_column(ctx, "customer_requested", errors)
    meaning = mapping.meaning
    session = _per_distinct(
        lambda p, t, k: _in(p, meaning["session_projects"]) or _any_in(_tags(t, separator), meaning["session_tags"])
        or _in(k, meaning["session_tasks"]), project, tags_text, task).astype(bool) if n else np.zeros(0, bool)
    if session_flag is not None:
        session |= np.equal(session_flag, True)
    requested = _per_distinct(lambda t: _any_in(_tags(t, separator), meaning["requested_tags"]),
                              tags_text).astype(bool) if n else np.zeros(0, bool)
    if requested_flag is not None:
        requested |= np.equal(requested_flag, True)
    activity_sources = [s for s in meaning["activity_from"] if s != "tags"]
    activity_cells = [ctx.cell(s) for s in activity_sources]
    activity_inverse, activity_tuples = _distinct(tags_text, *activity_cells)
    activity = _texts_of([decide_activity(mapping, dict(zip(activity_sources, cells)), _tags(t, separator))
                          for t, *cells in activity_tuples], activity_inverse)

    ok = errors.ok
    if billable is not None and ok.any() and ctx.has("billable"):
        flags = billable[ok]
        decided_by_flag = how[ok] == "billable"
        if decided_by_flag.all() and not np.equal(flags, True).any():
            notes.append(f"{ctx.column_name('billable')} is No on every row: "
                         f"{'all ' + str(int(ok.sum())) + ' entries load' if ok.sum() > 1 else 'its entry loads'} as "
                         f"General Support (free, R2), so nothing in this file is billable. If that is wrong, "
                         f"check the export or set meaning.billable_no in a mapping.")

    # Rejects, in the order of the file, each with what could be read of it.
    rejected: list[tuple[Reject, tuple]] = []
    bad_rows = np.flatnonzero(~ok & ~totals & ~empty_rows).tolist()
    if bad_rows:
        pick = pa.array(bad_rows, pa.int64())
        who = staff.take(pick).to_pylist()
        whose = client.take(pick).to_pylist()
    for k, row in enumerate(bad_rows):
        key = (who[k] or None,
               (mapping.customer_for(whose[k]) or re.sub(r"\s+", " ", whose[k]).strip()) if whose[k] else None,
               _EPOCH + timedelta(days=int(start.day[row])) if start.day[row] >= 0 else None)
        rejected.append(((source_file, int(table.lines[row]), errors.column[row], errors.reason[row],
                          table.raw(row)), key))
    width = len(table.header)
    totals_lines = {r[0] for r in ragged_totals}
    for line, count, raw in table.ragged:
        if line not in totals_lines:
            rejected.append(((source_file, line, None, f"has {count} fields but the header has {width}", raw),
                             (None, None, None)))
    rejected.sort(key=lambda r: r[0][1])
    rejects = [r for r, _ in rejected]

    rows = np.flatnonzero(ok)
    entries = _entries(ctx, rows, staff, client, project, task, tags_text, start, us, tier, activity, session,
                       requested, billable, zone_start, source_file)
    appointments = _appointments(entries, mapping.name, source_file)
    tables = {"time_entries": pa.table({c: entries[c] for c in ENTRY_COLUMNS})}
    if appointments is not None:
        tables["appointments"] = appointments
    if write:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_csv(out_dir / "time_entries.csv", tables["time_entries"])
        if appointments is not None:
            _write_csv(out_dir / "appointments.csv", appointments)
        elif (out_dir / "appointments.csv").exists():
            (out_dir / "appointments.csv").unlink()  # left by an earlier conversion into this folder

    client_codes, client_values = _codes(entries["customer_name"])
    unmapped = sorted({re.sub(r"\s+", " ", c).strip() for c in client_values if mapping.customer_for(c) is None},
                      key=str.casefold)
    preview = pa.table({
        "line": pa.array(entries["_line"], pa.int64()), "entry_id": entries["entry_id"],
        "started_at": entries["started_at"], "staff": entries["staff"], "client": entries["customer_name"],
        "customer_id": entries["customer_id"], "minutes": entries["minutes"], "tier": entries["tier"],
        "activity": entries["activity"], "appointment_id": entries["appointment_id"],
        "customer_requested": pa.array(entries["_requested"], pa.bool_()), "notes": entries["notes"]})
    # The file covers the written days of all its rows, the rejected ones with a readable date too.
    days = [_EPOCH + timedelta(days=int(d)) for d in (entries["_day"].min(), entries["_day"].max())] \
        if len(entries["_day"]) else []
    days += [k[2] for _, k in rejected if k[2] is not None]
    period = (min(days), max(days)) if days and len(rows) else None
    conversion = Conversion(
        out_dir=out_dir, period=period, rejects=rejects, unmapped_clients=unmapped, preview_table=preview,
        tracker=mapping.name, source_file=source_file, date_order=order, timezone=zone_name,
        entries=len(rows), appointments=0 if appointments is None else appointments.num_rows,
        staff=sorted(set(_codes(entries["staff"])[1]), key=str.casefold),
        customers=sorted(set(_codes(entries["customer_id"])[1]), key=str.casefold),
        notes=notes, skipped_totals=skipped_totals, reject_keys=[k for _, k in rejected], tables=tables)
    conversion.hints = hints_for(conversion, mapping, table)
    return conversion


def _backwards_reasons(start: _Stamp, end: _Stamp, mask: np.ndarray) -> np.ndarray:
    out = np.full(len(mask), None, dtype=object)
    for row in np.flatnonzero(mask).tolist():
        s = datetime.combine(_EPOCH + timedelta(days=int(start.day[row])), time(0)) + timedelta(
            microseconds=int(start.tod[row]))
        e_day = end.day[row] if end.has_date[row] else start.day[row]
        e = datetime.combine(_EPOCH + timedelta(days=int(e_day)), time(0)) + timedelta(microseconds=int(end.tod[row]))
        if e.date() == s.date():
            out[row] = (f"ends ({e:%H:%M}) before it starts ({s:%H:%M}) on the same day; the export may have "
                        f"lost AM/PM or the end's date: export the duration or the end date too")
        else:
            out[row] = f"ends ({e:%Y-%m-%d %H:%M}) before it starts ({s:%Y-%m-%d %H:%M})"
    return out


def _texts_of(values: list[str], inverse: np.ndarray) -> pa.Array:
    """Per-row texts from distinct ``values`` and each row's index into them."""
    return pa.array(values, pa.string()).take(pa.array(inverse, pa.int64()))


def _bool_texts(mask: np.ndarray, yes: str, no: str) -> pa.Array:
    return pc.if_else(pa.array(mask, pa.bool_()), yes, no)


def _stamped_ids(columns: dict, tracker: str) -> tuple[pa.Array, pa.Array]:
    """(entry ids, started_at texts) of the rows in ``columns``, computed by DuckDB on every core.

    ``columns``: day (days since 1970), tod (µs since midnight, -1 without a time), off
    (the offset text written after the wall time, "" for none), us (µs worked), and the texts staff,
    email, client, project, task, notes, billable, tags. The id is the first 16 hex digits
    of the sha256 of the row's content joined by U+001F (tracker, staff, email, client,
    project, task, notes, the written start, whether it had a time, µs, billable, tags), as
    every version has made it; identical rows get an occurrence counter in the order of the
    file (``-2``, ``-3``).
    """
    import duckdb

    whole = pa.table(columns)
    con = duckdb.connect()
    try:
        # In batches, so that DuckDB works on every core (one batch is one thread).
        con.register("entries", pa.Table.from_batches(whole.to_batches(max_chunksize=1 << 17), schema=whole.schema))
        found = con.sql(
            """SELECT h, hash(h) AS k, wall || off AS started_at FROM (
                 SELECT $p || left(sha256(concat_ws(chr(31), $name, staff, email, client, project, task, notes, wall,
                          CASE WHEN tod >= 0 THEN 'True' ELSE 'False' END, CAST(us AS VARCHAR), billable, tags)), 16) AS h,
                        wall, off
                 FROM (SELECT *, strftime(make_timestamp(CAST(day AS BIGINT) * 86400000000 + greatest(tod, 0)),
                                          '%Y-%m-%dT%H:%M:%S')
                                 || CASE WHEN tod > 0 AND tod % 1000000 <> 0
                                         THEN '.' || lpad(CAST(tod % 1000000 AS VARCHAR), 6, '0') ELSE '' END AS wall
                       FROM entries))""",
            params={"p": f"{tracker}-", "name": tracker}).to_arrow_table()
    finally:
        con.close()
    digests = found.column("h")
    started_at = found.column("started_at").combine_chunks()
    keys = np.sort(found.column("k").to_numpy())
    if not (keys[1:] == keys[:-1]).any():
        return digests.combine_chunks(), started_at  # no two rows alike (the usual case)
    series = digests.to_pandas()
    repeated = series.duplicated(keep=False).to_numpy()
    ids = series.to_numpy(dtype=object)
    nth = series[repeated].groupby(series[repeated], sort=False).cumcount().to_numpy() + 1
    ids[np.flatnonzero(repeated)] = [i if n == 1 else f"{i}-{n}" for i, n in zip(ids[repeated], nth)]
    return pa.array(ids, pa.string()), started_at


def _entries(ctx: _Context, rows: np.ndarray, staff, client, project, task, tags_text, start: _Stamp, us, tier,
             activity, session, requested, billable, zone_offset, source_file: str) -> dict:
    """The converted entries as columns (canonical texts, FORMATS.md), ids assigned."""
    count = len(rows)
    everyone = count == ctx.n
    take_rows = pa.array(rows, pa.int64())

    def take(array):
        return array if everyone else array.take(take_rows)

    mapping = ctx.mapping
    day, tod, own = start.day[rows], start.tod[rows], start.offset[rows]
    # The offset written after the wall time: the cell's own, else the zone's (fold 0, R1);
    # a date without a time keeps no offset, so its written day is its business day.
    offset_seconds = np.where(np.isnan(own), zone_offset[rows], np.nan_to_num(own)).astype(np.int64)
    show_offset = (tod >= 0) & (~np.isnan(own) | (ctx.zone is not None))
    offs_u, offs_i = _factorize(offset_seconds)
    offset_text = pc.if_else(pa.array(show_offset, pa.bool_()),
                             _texts_of([_offset_text(o) for o in offs_u], offs_i), "")
    us_rows = us[rows]
    us_u, us_i = _factorize(us_rows)
    minutes = _texts_of([minutes_text(int(v)) for v in us_u], us_i)

    staff_r, client_r = take(staff), take(client)
    project_r, task_r, tags_r = take(project), take(task), take(tags_text)
    notes_r = take(ctx.cell("description"))
    email_r = take(ctx.cell("email"))
    billable_r = (_bool_texts(np.equal(billable[rows], True), "True", "False") if billable is not None
                  else pa.repeat(pa.scalar("", pa.string()), count))
    client_i, client_u = _codes(client_r)
    customer = _texts_of([mapping.customer_for(c) or re.sub(r"\s+", " ", c).strip() for c in client_u], client_i)
    if count:
        entry_id, started_at = _stamped_ids(
            {"day": pa.array(day, pa.int64()), "tod": pa.array(tod, pa.int64()), "off": offset_text,
             "us": pa.array(us_rows, pa.int64()), "staff": staff_r, "email": email_r, "client": client_r,
             "project": project_r, "task": task_r, "notes": notes_r, "billable": billable_r, "tags": tags_r},
            mapping.name)
    else:
        entry_id = started_at = pa.array([], pa.string())
    if ctx.has("id") and count:
        # The tracker's own id, where its export has one (Jira's Worklog Id): an edited entry
        # then replaces its earlier version instead of being removed and added again.
        own_id = take(ctx.cell("id"))
        entry_id = pc.if_else(pc.equal(own_id, ""), entry_id,
                              pc.binary_join_element_wise(pa.scalar(f"{mapping.name}-id-"), own_id, ""))
    return {
        "entry_id": entry_id, "customer_id": customer, "customer_name": client_r, "staff": staff_r,
        "started_at": started_at, "minutes": minutes, "tier": pa.array(tier[rows], pa.string()),
        "activity": activity if everyone else activity.take(take_rows),
        "appointment_id": pa.repeat(pa.scalar("", pa.string()), count),
        "customer_requested": _bool_texts(requested[rows], "true", "false"),
        "notes": notes_r, "project": project_r, "tags": tags_r,
        "_source_file": pa.repeat(pa.scalar(source_file, pa.string()), count),
        "_source_line": pa.array(ctx.table.lines[rows], pa.int64()).cast(pa.string()),
        # for the caller, not written
        "_line": ctx.table.lines[rows], "_day": day, "_us": us_rows,
        "_session": session[rows] & (tier[rows] == "one_on_one"),
        "_sort": _instant_us(day, tod, own, zone_offset[rows]), "_requested": requested[rows],
    }


def _appointments(entries: dict, tracker: str, source_file: str) -> pa.Table | None:
    """R4: session entries get one completed appointment per customer, (written) day and
    staff member, so that per-person exports of the same session add up instead of
    replacing each other's appointment.

    Only one_on_one entries are tied to it (general work is never billable, R2, so it
    stays plain non-billable usage). The booked length is what was logged, so that
    ``at_least_booked`` adds nothing to a session no one booked in advance.
    """
    members = np.flatnonzero(entries["_session"])
    if not len(members):
        return None
    import pandas as pd

    frame = pd.DataFrame({
        "row": members, "customer_id": entries["customer_id"].take(pa.array(members)).to_numpy(zero_copy_only=False),
        "day": entries["_day"][members], "sort": entries["_sort"][members], "line": entries["_line"][members],
        "us": entries["_us"][members],
        "staff": entries["staff"].take(pa.array(members)).to_numpy(zero_copy_only=False),
        "started_at": entries["started_at"].take(pa.array(members)).to_numpy(zero_copy_only=False)})
    appointment_of_row = np.full(len(entries["_day"]), "", dtype=object)
    out = []
    frame = frame.sort_values(["customer_id", "day", "staff", "sort", "line"], kind="stable")
    for (customer_id, day, staff), group in frame.groupby(["customer_id", "day", "staff"], sort=True):
        when = (_EPOCH + timedelta(days=int(day))).isoformat()
        appointment_id = f"{tracker}-session-{_digest(chr(31).join((customer_id, when, staff)), 12)}"
        appointment_of_row[group["row"].to_numpy()] = appointment_id
        first = group.iloc[0]
        out.append({"appointment_id": appointment_id, "customer_id": customer_id,
                    "staff": staff, "scheduled_start": first["started_at"],
                    "scheduled_minutes": minutes_text(int(group["us"].sum())), "status": "completed",
                    "cancelled_at": "", "cancelled_by": "", "_source_file": source_file,
                    "_source_line": str(int(first["line"]))})
    entries["appointment_id"] = pa.array(appointment_of_row, pa.string())
    return pa.Table.from_pylist(out, schema=pa.schema([(c, pa.string()) for c in APPOINTMENT_COLUMNS]))


# --- what to change when rows are rejected -------------------------------------------------------

# What to change, by the kind of reason rows were rejected for: (pattern of the reason, hint).
# "{tracker}" is the mapping's name.
REJECT_HINTS = [
    (r"is not a date|not a calendar date|does not match the date pattern",
     "Dates could not be read: give the date order (--date-order dmy, mdy or ymd on the command "
     "line, Date order on the Import page), or a "
     "mapping with format.date_pattern (a strptime pattern such as \"%d/%b/%y\")."),
    (r"is not a time of day|12-hour|24-hour",
     "Times of day could not be read: set format.clock (\"12h\" or \"24h\") in a mapping."),
    (r"is not a duration",
     "Durations could not be read: set format.duration (hms or number), "
     "format.duration_unit (hours, minutes, seconds) or format.decimal in a mapping."),
    (r"has no client",
     "Rows without a client: name a fallback column in a mapping, e.g. "
     "extends = \"{tracker}\" with [columns] client = [\"Client\", \"Project\"]."),
    (r"neither a yes",
     "Yes/no values were not understood: list them in a mapping's [values] yes = [...] and no = [...]."),
    (r"one_on_one or general",
     "Nothing decides the tier of some rows (R2): set meaning.default_tier, or name the 1-on-1 "
     "and General Support projects or tags in a mapping."),
    (r"more than a day",
     "Durations over 24 hours are refused: a number may be in another unit than hours "
     "(format.duration_unit = \"seconds\" or \"minutes\")."),
    (r"has no staff member",
     "Rows without a staff member are refused (R3: everyone's time counts): check the export's "
     "user column, or map columns.staff to the column that names the person."),
    (r"before it starts",
     "Entries that end before they start are refused: export the Duration column or the end "
     "date too; if the times lost AM/PM, export them with AM/PM or as 24-hour times."),
    (r"fields but the header has",
     "Some records have a different number of fields than the header: check the delimiter "
     "(format.delimiter) and the quoting of the export."),
]


def hints_for(conversion: Conversion, mapping: Mapping, table: Table) -> list[str]:
    """Sentences that say what to change, one per kind of reason rows were rejected for
    (REJECT_HINTS), in that order."""
    reasons = [r[3] or "" for r in conversion.rejects]
    return [hint.replace("{tracker}", mapping.name) for pattern, hint in REJECT_HINTS
            if any(re.search(pattern, r) for r in reasons)]
