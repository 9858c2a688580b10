"""Converting a tracker export into a canonical export folder (FORMATS.md) for the engine.

    convert(path, mapping, timezone, out_dir=None, date_order=None) -> Conversion

The steps are modules of their own: columns (which cells feed which field), stamps (dates,
times and durations), meaning (tier, sessions, activity), rows (rejects, empty and totals
rows, hints) and output (the canonical tables); this module reads a file with them.

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

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.trackers.columns import Context, codes_of, examples, need_columns, parse_each, spec_text, spread
from billing.trackers.mapping import Mapping, encodings_of
from billing.trackers.meaning import read_meanings
from billing.trackers.output import (
    build_appointments, build_entries, canonical_tables, preview_of, write_tables)
from billing.trackers.reader import Table, TrackerError, read_table
from billing.trackers.rows import (
    Errors, Reject, Totals, collect_rejects, empty_rows, find_totals, hints_for)
from billing.trackers.stamps import (
    EPOCH, MAX_ENTRY_US, US_PER_DAY, US_PER_SECOND, Stamp, backwards_reasons, decide_date_order,
    duration_precision_us, duration_unit, instant_us, read_stamp, utc_offsets, zone_info)
from billing.canonical import minutes_text
from billing.trackers.values import DATE_ORDERS, decide_decimal, parse_duration


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
    out_dir: Path | None   # where the files were written (None: held in ``tables`` only)
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



def convert(path: str | Path, mapping: Mapping, timezone: str | None, out_dir: str | Path | None = None,
            date_order: str | None = None) -> Conversion:
    """Convert one tracker file into ``out_dir`` (time_entries.csv, maybe appointments.csv).

    ``timezone`` is the zone of the file's wall times (None: the mapping's, else written
    without an offset); a cell with its own offset (``…+01:00``, ``…Z``) keeps it: the offset
    decides the instant (R1). ``date_order`` (ymd/dmy/mdy) overrides the mapping's; when the
    order is needed but cannot be decided, nothing is written and ``needs_date_order`` is
    set so the caller can ask. Where a row gives a duration, that is what was worked; its
    start and end only date it. The canonical tables are also returned as Arrow tables
    (``Conversion.tables``); without ``out_dir`` no file is written. Raises TrackerError for a file
    that cannot be read at all (unreadable, no column for a field every row needs, dates in
    mixed day/month orders), a time zone zoneinfo does not know, or a date order not in
    DATE_ORDERS.
    """
    path, out_dir = Path(path), (Path(out_dir) if out_dir is not None else None)
    if date_order is not None and date_order not in DATE_ORDERS:
        raise TrackerError(f"date order {date_order!r} must be one of {', '.join(DATE_ORDERS)}.")
    delimiter = None if mapping.format["delimiter"] == "auto" else mapping.format["delimiter"]
    table = read_table(path, delimiter, encodings_of(mapping.format))
    zone_name = timezone or mapping.format["timezone"] or None
    ctx = Context(table, mapping, zone_info(path, zone_name))
    need_columns(ctx, path)
    notes = _file_notes(table, mapping)
    totals = find_totals(ctx)
    notes += _totals_notes(totals, table)
    order, ambiguous = _date_order(ctx, path, date_order)
    if order is None and ambiguous:  # the dates are day/month ambiguous: the caller asks
        return Conversion(out_dir=out_dir, period=None, rejects=[], unmapped_clients=[],
                          preview_table=preview_of(None), needs_date_order=True,
                          tracker=mapping.name, source_file=path.name, timezone=zone_name,
                          ambiguous_dates=ambiguous)
    ctx.order = order
    errors = Errors(ctx.n)
    errors.fail(totals.rows, None, "totals row")
    errors.fail(empty_rows(ctx), None, "empty")
    staff, client = _read_people(ctx, errors, notes)
    start, zone_start, us = _read_when(ctx, errors, notes)
    meant = read_meanings(ctx, client, errors, notes)
    rejected = collect_rejects(ctx, errors, totals, staff, client, start.day, path.name)
    entries = build_entries(ctx, np.flatnonzero(errors.ok), staff, client, meant, start, us, zone_start, path.name)
    conversion = _assemble(ctx, entries, rejected, out_dir, path.name, zone_name, notes, totals.count)
    if out_dir is not None:
        write_tables(out_dir, conversion.tables)
    conversion.hints = hints_for(conversion, mapping, table)
    return conversion


def _file_notes(table: Table, mapping: Mapping) -> list[str]:
    """Sentences about the file as a whole: its encoding when it is not UTF-8."""
    if table.encoding.replace("_", "-").lower() not in ("utf-8", "utf8"):
        return [f"The file is not UTF-8 text: it was read as {table.encoding} (format.encoding of the "
                f"mapping '{mapping.name}')."]
    return []


def _totals_notes(totals: Totals, table: Table) -> list[str]:
    """A sentence saying which totals rows were skipped, when there are any."""
    count = totals.count
    if not count:
        return []
    return [f"{count} totals row{'s' if count > 1 else ''} at the end of the file "
            f"({table.line_word} {', '.join(map(str, totals.lines(table)))}) "
            f"{'were' if count > 1 else 'was'} skipped."]


def _date_order(ctx: Context, path: Path, date_order: str | None) -> tuple[str | None, list[str]]:
    """(order, ambiguous dates): the order given, else the mapping's, else the one the file's
    dates show (None with examples when they are day/month ambiguous throughout). With a
    date pattern and no order, the order stays None and nothing is ambiguous."""
    mapping = ctx.mapping
    order = date_order or (None if mapping.format["date_order"] == "auto" else mapping.format["date_order"])
    if order is None and not mapping.format["date_pattern"]:
        ctx.order = None
        return decide_date_order(ctx, path)
    return order, []


def _read_people(ctx: Context, errors: Errors, notes: list[str]) -> tuple[pa.Array, pa.Array]:
    """(staff, client) texts per row. Rows without either are rejected (R3: everyone's time
    counts, so a row without its person is refused); where the client comes from a fallback
    column, or there is no client column at all, a note says so."""
    staff = ctx.cell("staff")
    errors.fail(pc.equal(staff, "").to_numpy(zero_copy_only=False), ctx.column_name("staff"),
                "has no staff member (who did the work)")
    client = ctx.cell("client")
    client_empty = pc.equal(client, "").to_numpy(zero_copy_only=False)
    client_columns = ctx.cols["client"][1]
    errors.fail(client_empty, ctx.column_name("client"),
                "has no client" + (f" (nor {', '.join(ctx.table.header[i] for i in client_columns[1:])})"
                                   if len(client_columns) > 1 else "")
                + ", so no customer can be billed")
    client_first = client_columns[0]
    if len(client_columns) > 1:
        fell_back = pc.and_(pc.equal(ctx.primary("client"), ""), pc.not_equal(client, "")).to_numpy(
            zero_copy_only=False) & errors.ok
        if fell_back.any():
            used = [ctx.table.header[i] for i in client_columns[1:]]
            notes.append(f"{int(fell_back.sum())} row{'s have' if fell_back.sum() > 1 else ' has'} no "
                         f"{ctx.column_name('client')}: the {' or '.join(used)} is used as the customer "
                         f"({examples(client, fell_back)}; mapping key client = "
                         f"{spec_text(ctx.mapping.columns['client'])}).")
    from_pattern = client_first in ctx.patterns.get("client", {})
    if from_pattern or (ctx.has("project") and client_first == ctx.cols["project"][1][0]):
        # No client column at all (Redmine, Jira): say where every customer comes from.
        whole = errors.ok & ~client_empty
        if whole.any():
            notes.append(f"The file has no client column: the customer of each entry is its "
                         f"{ctx.table.header[client_first]}"
                         + (" (the project of the issue key)" if from_pattern else "")
                         + f" ({examples(client, whole)}). To bill other customers, add their column "
                         f"or map these names to customer ids in the mapping's [customers].")
    return staff, client


def _read_when(ctx: Context, errors: Errors, notes: list[str]) -> tuple[Stamp, np.ndarray, np.ndarray]:
    """(start, the zone's UTC offset of each start in seconds, µs worked per row). Rows
    without a readable start, or without a readable duration or end, or whose time worked
    is zero, under 30 µs or over a day, are rejected."""
    start = read_stamp(ctx, "start", "start_date", "start_time")
    errors.fail(np.not_equal(start.error, None), start.column, start.error)
    errors.fail(~start.has_date, ctx.column_name("start" if ctx.has("start") else "start_date"),
                "has no start" if ctx.has("start") else "has no date")
    end = (read_stamp(ctx, "end", "end_date", "end_time")
           if any(ctx.has(f) for f in ("end", "end_date", "end_time")) else None)
    zone_start = utc_offsets(ctx.zone, start.day, start.tod)
    elapsed, end_ok = _elapsed(ctx, start, zone_start, end)
    us = _worked(ctx, errors, notes, start, end, elapsed, end_ok)
    duration_column = ctx.column_name("duration") if ctx.has("duration") else ctx.column_name(
        "end_time" if ctx.has("end_time") else "end")
    errors.fail(us <= 0, duration_column, "the duration is zero; there is no time to bill")
    too_long = us > MAX_ENTRY_US
    if too_long.any():
        m_codes, m_values = codes_of(pa.array(us, pa.int64()).cast(pa.string()))
        texts = np.array([f"the duration is {minutes_text(int(v))} minutes, more than a day (1440)"
                          for v in m_values], dtype=object)[m_codes]
        errors.fail(too_long, duration_column, texts)
    errors.fail((us > 0) & (us < 30), duration_column, "the duration rounds to zero minutes")
    return start, zone_start, us


def _elapsed(ctx: Context, start: Stamp, zone_start: np.ndarray, end: Stamp | None) -> tuple[np.ndarray, np.ndarray]:
    """(µs from start to end per row, -1 where not both have a readable time; whether both do).
    Instants, so a daylight-saving change counts as it happened."""
    if end is None:
        return np.full(ctx.n, -1, dtype=np.int64), np.zeros(ctx.n, bool)
    start_instant = instant_us(start.day, start.tod, start.offset, zone_start)
    end_day = np.where(end.has_date, end.day, start.day)
    end_instant = instant_us(end_day, end.tod, end.offset, utc_offsets(ctx.zone, end_day, end.tod))
    end_ok = (end.tod >= 0) & (start.tod >= 0) & np.equal(end.error, None)
    return np.where(end_ok, end_instant - start_instant, -1), end_ok


def _worked(ctx: Context, errors: Errors, notes: list[str], start: Stamp, end: Stamp | None,
            elapsed: np.ndarray, end_ok: np.ndarray) -> np.ndarray:
    """µs worked per row: the duration where a row has one, else the end minus the start
    (0 where neither can be read; those rows are rejected)."""
    us = np.zeros(ctx.n, dtype=np.int64)
    has_duration = np.zeros(ctx.n, bool)
    if ctx.has("duration"):
        has_duration = pc.not_equal(ctx.cell("duration"), "").to_numpy(zero_copy_only=False)
        us = _duration_us(ctx, errors, notes, has_duration, elapsed, end_ok)
    no_duration = ~has_duration
    if end is not None:
        # Without a duration, the time worked is the end minus the start, as real elapsed time.
        end_has_time = end.tod >= 0
        use_end = no_duration & end_has_time
        errors.fail(use_end & np.not_equal(end.error, None), end.column, end.error)
        backwards = use_end & end_ok & (elapsed < 0)
        end_name = ctx.column_name("end" if ctx.has("end") else "end_time")
        errors.fail(backwards, end_name, backwards_reasons(start, end, backwards))
        us = np.where(use_end & end_ok, elapsed, us)
        missing = no_duration & ~end_has_time
    else:
        missing = no_duration
    what = "no end time and no duration" if ctx.has("duration") else "no end time"
    errors.fail(missing, ctx.column_name("duration" if ctx.has("duration") else "end_time"),
                f"has {what} (a running timer?)")
    return us


def _duration_us(ctx: Context, errors: Errors, notes: list[str], has_duration: np.ndarray,
                 elapsed: np.ndarray, end_ok: np.ndarray) -> np.ndarray:
    """µs worked per row from the duration column (0 where it is empty); unreadable
    durations reject their row."""
    fmt = ctx.fmt
    d_codes, d_texts = codes_of(ctx.cell("duration"))
    decimal = fmt["decimal"]
    if decimal == "auto":
        decimal = decide_decimal(d_texts, "," if ctx.table.delimiter == ";" else ".")
    # Per distinct duration text, the longest start-to-end time of a row that has it.
    longest = np.full(len(d_texts), -1, dtype=np.int64)
    np.maximum.at(longest, d_codes[end_ok], elapsed[end_ok] % US_PER_DAY)
    elapsed_by_text = {d_texts[i]: int(v) for i, v in enumerate(longest.tolist()) if v >= 0}
    unit = duration_unit(ctx, d_texts, decimal, elapsed_by_text)
    if fmt["duration_unit"] == "auto" and unit != "hours":
        notes.append(f"{ctx.column_name('duration')} is read as {unit} (a plain number in it is a count of {unit}).")
    values, reasons = parse_each(
        lambda t: parse_duration(t, fmt["duration"], unit, decimal, fmt["thousands"]) if t else None, d_texts)
    d_us = spread(values, d_codes, np.int64, 0)
    d_err = spread(reasons, d_codes)
    errors.fail(has_duration & np.not_equal(d_err, None), ctx.column_name("duration"), d_err)
    # The duration is what was worked. Written as 0.33 hours or 0:13 it is exact only to
    # its last digit; where the start and end agree with it within that, the exact
    # start-to-end time is taken (12:00-12:20 with 0.33 h is 20 minutes, not 19.8). A coarser
    # figure (1.5 hours) is taken as written: the gap may be a break the tracker subtracted.
    tolerance = spread([duration_precision_us(t, unit) for t in d_texts], d_codes, np.int64, 0)
    close = end_ok & (tolerance <= 30 * US_PER_SECOND) & (np.abs(elapsed - d_us) <= tolerance)
    return np.where(has_duration, np.where(close, elapsed, d_us), 0)


def _assemble(ctx: Context, entries: dict, rejected: list[tuple[Reject, tuple]], out_dir: Path,
              source_file: str, zone_name: str | None, notes: list[str], skipped_totals: int) -> Conversion:
    """The Conversion of the converted ``entries`` (as ``build_entries`` gives them) and the
    ``rejected`` rows (as ``collect_rejects`` gives them); its hints are left to the caller."""
    mapping = ctx.mapping
    appointments = build_appointments(entries, mapping.name, source_file)
    tables = canonical_tables(entries, appointments)
    client_values = codes_of(entries["customer_name"])[1]
    unmapped = sorted({re.sub(r"\s+", " ", c).strip() for c in client_values if mapping.customer_for(c) is None},
                      key=str.casefold)
    count = len(entries["_day"])
    # The file covers the written days of all its rows, the rejected ones with a readable date too.
    days = [EPOCH + timedelta(days=int(d)) for d in (entries["_day"].min(), entries["_day"].max())] \
        if count else []
    days += [k[2] for _, k in rejected if k[2] is not None]
    return Conversion(
        out_dir=out_dir, period=(min(days), max(days)) if days and count else None,
        rejects=[r for r, _ in rejected], unmapped_clients=unmapped, preview_table=preview_of(entries),
        tracker=mapping.name, source_file=source_file, date_order=ctx.order, timezone=zone_name,
        entries=count, appointments=0 if appointments is None else appointments.num_rows,
        staff=sorted(set(codes_of(entries["staff"])[1]), key=str.casefold),
        customers=sorted(set(codes_of(entries["customer_id"])[1]), key=str.casefold),
        notes=notes, skipped_totals=skipped_totals, reject_keys=[k for _, k in rejected], tables=tables)
