"""A tracker table's rows that do not become entries: rejects, empty rows and totals rows.

    Errors(n)                       each row's first reject reason and column
    empty_rows(ctx), find_totals(ctx) rows skipped without a reject
    collect_rejects(...)            the rejects in the order of the file, with what could be read
    hints_for(conversion, mapping, table) -> what to change, from REJECT_HINTS

The first failing check of a row decides its reason, in the order a person would look:
field count, staff, client, start, duration or end, billable, tier.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.trackers.columns import Context, trimmed
from billing.trackers.mapping import Mapping
from billing.trackers.reader import Table
from billing.trackers.stamps import EPOCH

if TYPE_CHECKING:
    from billing.trackers.convert import Conversion

# Words that open a totals row at the end of an export (English, German, French, Spanish,
# Portuguese, Dutch, Italian).
TOTAL_WORDS = re.compile(r"^\W*(total|totals|totaal|totale|totales|summe|gesamt|insgesamt|sum|somme|suma|soma|"
                         r"σ)\b", re.I)

Reject = tuple  # (file, line, column, reason, raw_record)


class Errors:
    """Each row's reject reason and column (numpy object arrays, None: not rejected)."""

    def __init__(self, n: int):
        self.reason = np.full(n, None, dtype=object)
        self.column = np.full(n, None, dtype=object)

    @property
    def ok(self) -> np.ndarray:
        """Whether each row is still unrejected (a boolean array)."""
        return np.equal(self.reason, None)

    def fail(self, mask: np.ndarray, column: str | None, reason) -> None:
        """Rows in ``mask`` not already failed get ``column`` and ``reason`` (each a text, or
        an array with one per row)."""
        mask = mask & self.ok
        if not mask.any():
            return
        self.reason[mask] = reason[mask] if isinstance(reason, np.ndarray) else reason
        self.column[mask] = column[mask] if isinstance(column, np.ndarray) else column


def empty_rows(ctx: Context) -> np.ndarray:
    """Records whose every field is empty (``,,,,,``: a spreadsheet saved as CSV), as a
    boolean array over the rows: skipped like blank lines, as the spreadsheet reader skips
    empty rows. Worked out once per context."""
    return ctx.memo("empty-rows", lambda: _empty_rows(ctx))


def _empty_rows(ctx: Context) -> np.ndarray:
    empty = np.zeros(ctx.n, dtype=bool)
    columns = ctx.table.columns
    if columns:
        # The first column rules out almost every row; the rest are looked at on the few left.
        candidates = np.flatnonzero(pc.equal(trimmed(columns[0]), "").to_numpy(zero_copy_only=False))
        for column in columns[1:]:
            if not len(candidates):
                break
            cells = trimmed(column.take(pa.array(candidates, pa.int64())))
            candidates = candidates[pc.equal(cells, "").to_numpy(zero_copy_only=False)]
        empty[candidates] = True
    return empty


def _totals_rows(ctx: Context, tail: int = 20) -> np.ndarray:
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
    empty = empty_rows(ctx)[first:]
    for k in range(n - first - 1, -1, -1):
        if empty[k]:
            continue  # a record of empty fields between the entries and the totals row
        worded = any(TOTAL_WORDS.match(col[k]) for col in leading) or bool(TOTAL_WORDS.match(starts[k]))
        if staff[k] or not (not starts[k] or worded) or not (worded or durations[k]):
            break
        totals[first + k] = True
    return totals


@dataclass
class Totals:
    """The totals rows at the end of a file: ``rows``, a boolean array over the table's rows,
    and ``ragged_lines``, the lines of records with a wrong field count that open with a total
    word after the last row."""
    rows: np.ndarray
    ragged_lines: list[int]

    @property
    def count(self) -> int:
        """How many totals rows there are."""
        return int(self.rows.sum()) + len(self.ragged_lines)

    def lines(self, table: Table) -> list[int]:
        """Their line numbers in the file, in order."""
        return sorted([int(x) for x in table.lines[self.rows]] + self.ragged_lines)


def find_totals(ctx: Context) -> Totals:
    """The totals rows of ``ctx``'s table (Kimai's and Jira's spreadsheets add them under the
    entries), among its rows and its records with a wrong field count."""
    table = ctx.table
    ragged = [r[0] for r in table.ragged
              if (not len(table.lines) or r[0] > table.lines[-1]) and TOTAL_WORDS.match(r[2].strip('"'))]
    return Totals(_totals_rows(ctx), ragged)


def collect_rejects(ctx: Context, errors: Errors, totals: Totals, staff: pa.Array, client: pa.Array,
                    start_day: np.ndarray, source_file: str) -> list[tuple[Reject, tuple]]:
    """The rejected rows and records, in the order of the file: (reject, key) pairs.

    A reject is (source_file, line, column, reason, raw record); its key what could be read
    of it, (staff, customer id, written day as a date), None where not. Rows ``errors``
    rejects, other than totals and empty rows, come with their ``staff`` and ``client``
    texts and ``start_day`` (days since 1970, -1: none); records with a wrong field count
    that are not totals rows have no key."""
    mapping, table = ctx.mapping, ctx.table
    rejected: list[tuple[Reject, tuple]] = []
    bad_rows = np.flatnonzero(~errors.ok & ~totals.rows & ~empty_rows(ctx)).tolist()
    if bad_rows:
        pick = pa.array(bad_rows, pa.int64())
        who = staff.take(pick).to_pylist()
        whose = client.take(pick).to_pylist()
    for k, row in enumerate(bad_rows):
        key = (who[k] or None,
               (mapping.customer_for(whose[k]) or re.sub(r"\s+", " ", whose[k]).strip()) if whose[k] else None,
               EPOCH + timedelta(days=int(start_day[row])) if start_day[row] >= 0 else None)
        rejected.append(((source_file, int(table.lines[row]), errors.column[row], errors.reason[row],
                          table.raw(row)), key))
    width = len(table.header)
    totals_lines = set(totals.ragged_lines)
    for line, count, raw in table.ragged:
        if line not in totals_lines:
            rejected.append(((source_file, line, None, f"has {count} fields but the header has {width}", raw),
                             (None, None, None)))
    rejected.sort(key=lambda r: r[0][1])
    return rejected


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
    """Sentences that say what to change, one per kind of reason the rows of ``conversion``
    were rejected for (REJECT_HINTS, "{tracker}" replaced by the mapping's name), in that
    order; an empty list when none applies. ``table`` is not looked at."""
    reasons = [r[3] or "" for r in conversion.rejects]
    return [hint.replace("{tracker}", mapping.name) for pattern, hint in REJECT_HINTS
            if any(re.search(pattern, r) for r in reasons)]
