"""Dates, times and durations of a tracker table: starts, ends, offsets and time worked.

    read_stamp(ctx, whole, date_field, time_field) -> Stamp
    decide_date_order(ctx, path) -> (order, ambiguous examples)
    utc_offsets(zone, day, tod) -> seconds per row;  instant_us(day, tod, offset, zone_offset)
    duration_unit(ctx, texts, decimal, elapsed) -> unit;  duration_precision_us(text, unit)

Days are counted since 1970-01-01 (EPOCH), times of day and durations in µs, offsets in
seconds east of UTC. Each distinct cell is read once (billing.trackers.columns).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.policy import US_PER_MINUTE
from billing.trackers.columns import Context, codes_of, parse_each
from billing.trackers.reader import TrackerError
from billing.trackers.values import (
    date_order_evidence, parse_date, parse_duration, parse_offset, parse_time, split_timestamp, unit_from_header)

MAX_ENTRY_US = 1440 * US_PER_MINUTE  # FORMATS.md: minutes ≤ 1440
US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
EPOCH = date(1970, 1, 1)  # day 0 of the day numbers

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


def _split(ctx: Context, name: str) -> _Split:
    """The cells of field ``name`` split into date, time and offset texts, once per context."""
    return ctx.memo(f"split:{name}", lambda: _split_cells(ctx.cell(name)))


def _split_cells(column: pa.Array) -> _Split:
    """Each distinct timestamp text of ``column`` split into its date, time and offset texts."""
    codes, texts = codes_of(column)
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
    return _Split(codes, pa.array(list(date_t), pa.string()), pa.array(list(time_t), pa.string()),
                  pa.array(list(offset_t), pa.string()))


@dataclass
class Stamp:
    """A start or end per row: written day (days since 1970; -1: none), time of day (µs; -1:
    none), the offset written in the cell (seconds; NaN: none), whether a date was written,
    and the reject reason and column per row (None: readable)."""
    day: np.ndarray
    tod: np.ndarray
    offset: np.ndarray
    has_date: np.ndarray
    error: np.ndarray
    column: np.ndarray



def _read_each(texts: pa.Array, fn) -> tuple[np.ndarray, np.ndarray, list]:
    """``fn`` (a number, or ValueError) over each distinct text of ``texts``:
    (value per element as float, NaN where empty or unreadable; reason code per element,
    -1 where readable; the reasons)."""
    codes, distinct = codes_of(texts)
    values, reasons = parse_each(lambda t: fn(t) if t else None, distinct)
    numbers = np.array([np.nan if v is None else float(v) for v in values] or [np.nan])
    found = sorted({r for r in reasons if r is not None})
    which = np.array([-1 if r is None else found.index(r) for r in reasons] or [-1], dtype=np.int64)
    return numbers[codes], which[codes], found


def read_stamp(ctx: Context, whole: str | None, date_field: str | None, time_field: str | None) -> Stamp:
    """Read a start or an end from a single cell (field ``whole``) or a date and a time cell
    (fields ``date_field``, ``time_field``; any may be None or unmapped), with ``ctx.order``.
    Unreadable cells give the row a reject reason in the Stamp; nothing is raised.

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
        return (parse_date(t, ctx.order, pattern) - EPOCH).days

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
    return Stamp(day=day, tod=tod, offset=offset, has_date=has_date, error=error, column=column)


def _tod_us(t: time) -> int:
    """A time of day as µs since midnight."""
    return ((t.hour * 60 + t.minute) * 60 + t.second) * US_PER_SECOND + t.microsecond


def utc_offsets(zone: ZoneInfo | None, day: np.ndarray, tod: np.ndarray) -> np.ndarray:
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
        when = EPOCH + timedelta(days=int(d))
        start = datetime.combine(when, time(0), zone).utcoffset()
        end = datetime.combine(when, time(23, 59, 59, 999999), zone).utcoffset()
        per_day[i] = int(start.total_seconds())
        changing[i] = start != end
    out[:] = per_day[inverse]
    for row in np.flatnonzero(changing[inverse]):
        wall = datetime.combine(EPOCH + timedelta(days=int(day[row])), time(0)) + timedelta(
            microseconds=int(max(tod[row], 0)))
        out[row] = int(wall.replace(tzinfo=zone, fold=0).utcoffset().total_seconds())
    return out


def instant_us(stamp_day, stamp_tod, offset, zone_offset) -> np.ndarray:
    """µs since 1970 UTC of wall times (int64 array): ``stamp_day`` days since 1970 and
    ``stamp_tod`` µs (-1: none, taken as midnight), shifted by ``offset`` (seconds, NaN: none)
    where written, else by ``zone_offset`` (seconds, as ``utc_offsets`` gives)."""
    wall = stamp_day * US_PER_DAY + np.maximum(stamp_tod, 0)
    own = ~np.isnan(offset)
    shift = np.where(own, np.nan_to_num(offset).astype(np.int64), zone_offset)
    return wall - shift * US_PER_SECOND


def decide_date_order(ctx: Context, path: Path) -> tuple[str | None, list[str]]:
    """(order, ambiguous examples): the date order ("dmy", "mdy" or "ymd") the start and end
    dates of ``ctx`` show, or None with up to three day/month ambiguous date texts when they
    are ambiguous throughout. Raises TrackerError when some dates are day-first and others
    month-first.

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

def duration_unit(ctx: Context, texts: list[str], decimal: str, elapsed: dict[str, int]) -> str:
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


def zone_info(path: Path, name: str | None) -> ZoneInfo | None:
    """The zone of IANA name ``name`` (None for no name); raises TrackerError naming ``path``'s
    file for a name zoneinfo does not know."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TrackerError(f"{path.name}: time zone {name!r} is not one that zoneinfo knows "
                           f"(use an IANA name such as Europe/Berlin).") from None


def format_offset(seconds: int) -> str:
    """A UTC offset in seconds as written after a time: ``+01:00``, ``-05:30``, ``+00:00:30``."""
    sign = "-" if seconds < 0 else "+"
    seconds = abs(int(seconds))
    text = f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return text + (f":{seconds % 60:02d}" if seconds % 60 else "")


def backwards_reasons(start: Stamp, end: Stamp, mask: np.ndarray) -> np.ndarray:
    """The reject reason of each row in ``mask`` (a boolean array) whose end is before its
    start, as a numpy object array over all rows (None outside ``mask``); the end's day is the
    start's where the end has no date of its own."""
    out = np.full(len(mask), None, dtype=object)
    for row in np.flatnonzero(mask).tolist():
        s = datetime.combine(EPOCH + timedelta(days=int(start.day[row])), time(0)) + timedelta(
            microseconds=int(start.tod[row]))
        e_day = end.day[row] if end.has_date[row] else start.day[row]
        e = datetime.combine(EPOCH + timedelta(days=int(e_day)), time(0)) + timedelta(microseconds=int(end.tod[row]))
        if e.date() == s.date():
            out[row] = (f"ends ({e:%H:%M}) before it starts ({s:%H:%M}) on the same day; the export may have "
                        f"lost AM/PM or the end's date: export the duration or the end date too")
        else:
            out[row] = f"ends ({e:%Y-%m-%d %H:%M}) before it starts ({s:%Y-%m-%d %H:%M})"
    return out
