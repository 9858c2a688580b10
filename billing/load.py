"""Load the canonical export (FORMATS.md) into the DuckDB store.

Every row is validated in SQL (vectorised, no per-row Python): a bad row is not loaded
and not lost: it is kept in ``rejects`` with file, line, column, reason and the record as
read. Good rows are upserted by id; a row whose content is unchanged is left alone, so
importing the same folder twice changes nothing. A replaced row, and a row removed by a
period import, keeps its previous version in ``<table>_history``. Each import is recorded
in ``imports``, bumps the data version and can be undone. An import is one transaction:
a failure or a kill mid-way leaves the database as it was.

The policy is not applied here (only the period of a period import is read as whole days
of the export's zone, the policy's by default, R1): the store keeps what the export said.
What a period import may remove is limited by its removal scope (``decide_scope``), and
every removed row is reported (``ImportResult.removals``) in dry runs and real runs alike.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np

from billing.errors import HourbankError
from billing.store import ID_COLUMN, TABLES, bump_data_version, data_version, open_db

MAX_COLUMNS = 200
MAX_MINUTES_US = 1440 * 60_000_000


class ImportError_(HourbankError):
    """The import could not be read at all; nothing of it was loaded."""


@dataclass(frozen=True)
class FileSpec:
    filename: str
    table: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


SPECS = {
    "time_entries": FileSpec(
        "time_entries.csv", "time_entries",
        ("entry_id", "customer_id", "staff", "started_at", "minutes", "tier"),
        ("customer_name", "activity", "appointment_id", "customer_requested", "notes")),
    "appointments": FileSpec(
        "appointments.csv", "appointments",
        ("appointment_id", "customer_id", "scheduled_start", "scheduled_minutes", "status"),
        ("staff", "cancelled_at", "cancelled_by")),
    "purchases": FileSpec(
        "purchases.csv", "purchases",
        ("purchase_id", "customer_id", "purchased_at", "hours"),
        ("amount",)),
    "customers": FileSpec(
        "customers.csv", "customers", ("customer_id",), ("customer_name",)),
}
# Columns a converter (billing.trackers) adds so that a reject points at the user's own file.
SOURCE_FILE_COLUMN, SOURCE_LINE_COLUMN = "_source_file", "_source_line"


@dataclass
class Reject:
    file: str
    line: int | None
    column: str | None
    reason: str
    record: str | None = None

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line else "")
        where += f", column '{self.column}'" if self.column else ""
        return f"{where}: {self.reason}"


def reject_groups(rejects) -> list[tuple[str | None, str, int]]:
    """(column, reason with its quoted values left out, count), most frequent first: what went
    wrong, once per kind."""
    import re
    from collections import Counter

    counts = Counter((r.column, re.sub(r"'[^']*'", "'…'", r.reason)) for r in rejects)
    return [(col, reason, n) for (col, reason), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1]))]


@dataclass
class FileCounts:
    read: int = 0
    added: int = 0
    replaced: int = 0
    removed: int = 0
    unchanged: int = 0
    rejected: int = 0


SCOPES = ("auto", "team", "staff", "customers")
MAX_REMOVALS_LISTED = 10_000


@dataclass(frozen=True)
class RemovalScope:
    """Which stored rows a period import may remove: the rows of the period that the file lacks,
    restricted to the file's staff and/or customers, or none at all (add only).

    ``asked``: what the user chose (auto, team, staff, customers; add-only overrides it);
    ``staff`` / ``customers``: None = not restricted by it, else the only ones removable.
    """
    asked: str
    add_only: bool = False
    staff: tuple[str, ...] | None = None
    customers: tuple[str, ...] | None = None
    file_staff: tuple[str, ...] = ()
    file_customers: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        if self.add_only:
            return "add-only"
        if self.staff is not None and self.customers is not None:
            return "staff+customers"
        return "staff" if self.staff is not None else "customers" if self.customers is not None else "team"

    def as_json(self) -> dict:
        return {"asked": self.asked, "used": self.kind, "add_only": self.add_only,
                "staff": list(self.staff) if self.staff is not None else None,
                "customers": list(self.customers) if self.customers is not None else None}

    def sentence(self, team_option: str = "--scope team", add_only_option: str = "--add-only") -> str:
        """The scope in words, for the import summary (the option names as the caller shows them)."""
        def names(values):
            return ", ".join(values) if values else "none"

        if self.add_only:
            return f"add only ({add_only_option}): nothing is removed."
        fs, fc = self.file_staff, self.file_customers
        if self.asked == "auto" and self.kind != "team":
            if self.kind == "staff+customers":
                return (f"this file has one staff member, {fs[0]}, and one customer, {fc[0]}: treated as "
                        f"{fs[0]}'s own export for {fc[0]}; only {fs[0]}'s entries for {fc[0]} can be removed; "
                        f"if it is the whole team's, use {team_option}.")
            if self.kind == "staff":
                return (f"this file has one staff member, {fs[0]}: treated as {fs[0]}'s own export; only "
                        f"{fs[0]}'s entries can be removed; if it is the whole team's, use {team_option}.")
            return (f"this file has one customer, {fc[0]}: treated as that customer's export; only "
                    f"{fc[0]}'s entries can be removed; if it is the whole team's, use {team_option}.")
        if self.kind == "team":
            why = (f"this file has {len(fs)} staff members and {len(fc)} customers: " if self.asked == "auto"
                   else "scope team: ")
            return why + "treated as the whole team's export; any entry of the period that it lacks can be removed."
        if self.kind == "staff":
            return (f"scope staff: only the entries of the file's staff ({names(self.staff)}) can be removed"
                    + ("; the file has no entries, so nothing is removed." if not self.staff else "."))
        return (f"scope customers: only the entries of the file's customers ({names(self.customers)}) can be "
                f"removed" + ("; the file has no entries, so nothing is removed." if not self.customers else "."))


def decide_scope(asked: str, staff, customers, add_only: bool = False) -> RemovalScope:
    """The removal scope of an import whose (good) entries have these staff and customers.

    ``auto``: one staff member → only that person's rows can be removed (a per-person export);
    one customer → only that customer's (a per-client export); both if both; otherwise the
    whole team's. ``team`` forces whole-team; ``staff`` / ``customers`` force restricting to
    the file's staff / customers; ``add_only`` removes nothing.
    """
    if asked not in SCOPES:
        raise ImportError_(f"scope {asked!r}: must be one of {', '.join(SCOPES)}.")
    fs, fc = tuple(sorted(set(staff or ()))), tuple(sorted(set(customers or ())))
    keep = dict(asked=asked, add_only=add_only, file_staff=fs, file_customers=fc)
    if add_only or asked == "team":
        return RemovalScope(**keep)
    if asked == "staff":
        return RemovalScope(staff=fs, **keep)
    if asked == "customers":
        return RemovalScope(customers=fc, **keep)
    return RemovalScope(staff=fs if len(fs) == 1 else None, customers=fc if len(fc) == 1 else None, **keep)


@dataclass(frozen=True)
class Removal:
    """A stored row an import removes (or, in a dry run, would remove)."""
    table: str          # time_entries or appointments
    id: str
    day: date           # its business day (R1, policy zone)
    staff: str | None
    customer_id: str
    minutes: str        # exact, as text

    def __str__(self) -> str:
        return f"{self.id}  {self.day}  {self.staff or '-'}  {self.customer_id}  {self.minutes} min"


@dataclass
class ImportResult:
    import_id: int
    dry_run: bool
    data_version: int
    period: tuple[date, date] | None
    files: dict[str, FileCounts] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    # What a period import removes, in dry runs and real runs alike (the first
    # MAX_REMOVALS_LISTED; ``removed`` counts them all), and a key of the whole set: an import
    # told ``expect_removals=key`` removes exactly those rows or nothing.
    removals: list[Removal] = field(default_factory=list)
    removal_key: str = ""
    scope: RemovalScope | None = None
    period_zone: str | None = None      # the zone whose days the period covers
    new_customers: list[str] = field(default_factory=list)  # customer ids not in the database yet
    notices: list[str] = field(default_factory=list)         # sentences for the summary
    hints: list[str] = field(default_factory=list)           # what to change when no row could be read

    def total(self, what: str) -> int:
        return sum(getattr(c, what) for c in self.files.values())

    @property
    def added(self) -> int:
        return self.total("added")

    @property
    def replaced(self) -> int:
        return self.total("replaced")

    @property
    def removed(self) -> int:
        return self.total("removed")

    @property
    def unchanged(self) -> int:
        return self.total("unchanged")

    @property
    def rejected(self) -> int:
        return self.total("rejected")

    @property
    def nothing_read(self) -> bool:
        """Rows there were, and not one of them could be read: nothing is imported."""
        return self.rejected > 0 and self.added + self.replaced + self.unchanged == 0


# --------------------------------------------------------------------------- SQL pieces
# Each value is parsed once (a CTE of parsed parts), then checked and typed from the parts:
# one regular expression per value, no per-row Python.
_TS_RE = (r"^(\d{4}-\d{2}-\d{2})[Tt ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,9}))?)?"
          r"([Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?$")
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_NUM_RE = r"^(\d*)\.?(\d*)$"          # plain decimal: digits, an optional point, digits
_SIGNED_NUM_RE = r"^[+-]?(\d+\.?\d*|\.\d+)$"
TS_FORMAT = "YYYY-MM-DDTHH:MM[:SS][offset]"


def sql_ts_ok(v: str) -> str:
    """The text has the form of a timestamp (a DFA match: no capture groups, fast)."""
    return f"regexp_full_match({v}, '{_TS_RE}')"


def sql_offset_at(v: str) -> str:
    """Where the offset starts (0: none). The time part has no + - Z of its own, so the
    first of them after the date (position 11 on) starts the offset."""
    tail = f"substr({v}, 12)"
    # least() skips NULLs: NULL only when none of the three is there.
    return (f"coalesce(least(nullif(instr({tail}, '+'), 0), nullif(instr({tail}, '-'), 0), "
            f"nullif(instr(upper({tail}), 'Z'), 0)) + 10, 0)")


def sql_wall(v: str, at: str) -> str:
    """Wall time as written (no offset applied); valid only where sql_ts_ok holds, NULL for
    a day or time that does not exist (2026-02-30)."""
    text = f"CASE WHEN {at} > 0 THEN left({v}, {at}) ELSE {v} END"
    return f"try_cast(replace(replace({text}, 'T', ' '), 't', ' ') AS TIMESTAMP)"


def sql_offset(v: str, at: str) -> str:
    """UTC offset in seconds; NULL when written without one (R1)."""
    o = f"substr({v}, {at} + 1)"
    return (f"CASE WHEN {at} = 0 THEN NULL WHEN upper({o}) = 'Z' THEN 0 ELSE "
            f"(CASE WHEN left({o}, 1) = '-' THEN -1 ELSE 1 END) * "
            f"(CAST(substr({o}, 2, 2) AS INTEGER) * 3600 + "
            f"coalesce(CAST(nullif(right(replace({o}, ':', ''), -3), '') AS INTEGER), 0) * 60) END")


def sql_is_date(v: str) -> str:
    return f"({v} IS NOT NULL AND regexp_full_match({v}, '{_DATE_RE}') AND try_cast({v} AS DATE) IS NOT NULL)"


_PLAIN_RE = r"^(\d+\.?\d*|\.\d+)$"
_SIX_DECIMALS_RE = r"^\d*(\.\d{0,6}0*)?$"


def sql_num_parts(v: str) -> str:
    """Integer digits and decimals of a plain decimal (every part '' when it is not one)."""
    return f"regexp_extract({v}, '{_NUM_RE}', ['i', 'f'])"


def sql_num_ok(v: str, p: str | None = None) -> str:
    return f"regexp_full_match({v}, '{_PLAIN_RE}')"


def _frac(p: str) -> str:
    return f"rtrim({p}.f, '0')"


def sql_minutes_us(v: str) -> str:
    """Minutes (plain decimal, ≤ 6 decimals, checked before) as exact integer microseconds:
    DECIMAL arithmetic, no float (0.000001 min = 60 µs)."""
    return f"CAST(try_cast({v} AS DECIMAL(18, 6)) * 60000000 AS BIGINT)"


def sql_hours_minutes(p: str) -> str:
    """hours × 60 as a whole number of minutes (valid only when the checks passed)."""
    f = _frac(p)
    return (f"(try_cast(coalesce(nullif({p}.i, ''), '0') AS BIGINT) * 60 + "
            f"CASE WHEN {f} = '' THEN 0 ELSE CAST(CAST({f} AS HUGEINT) * 60 // "
            f"CAST(pow(10, length({f})) AS HUGEINT) AS BIGINT) END)")


def sql_bool(v: str) -> str:
    return f"coalesce(lower({v}) IN ('true', 'yes', '1'), false)"


def sql_is_bool(v: str) -> str:
    return f"({v} IS NULL OR lower({v}) IN ('true', 'yes', '1', 'false', 'no', '0'))"


# --------------------------------------------------------------------------- per-file plans
@dataclass
class Plan:
    parsed: dict[str, str]                  # name → SQL over trimmed text columns
    walls: dict[str, str]                   # name → wall time SQL over the parsed columns
    checks: list[tuple[str, str, str]]      # (column, SQL condition that makes the row bad, SQL reason)
    typed: dict[str, str]                   # target column → SQL over trimmed and parsed columns


def _minutes_checks(v: str, us: str, what: str) -> list[tuple[str, str, str]]:
    return [
        (what, f"NOT {sql_num_ok(v)}", f"'{what} must be a plain decimal number, not ' || {v}"),
        (what, f"NOT regexp_full_match({v}, '{_SIX_DECIMALS_RE}')", f"'{what} has more than 6 decimals: ' || {v}"),
        (what, f"{us} IS NULL OR {us} > {MAX_MINUTES_US}", f"'{what} must be at most 1440, not ' || {v}"),
        (what, f"{us} <= 0", f"'{what} must be greater than 0, not ' || {v}"),
    ]


def _ts_checks(v: str, ok: str, wall: str, what: str) -> list[tuple[str, str, str]]:
    return [(what, f"NOT {ok} OR {wall} IS NULL", f"'{what} is not a timestamp ({TS_FORMAT}): ' || {v}")]


def _plan(table: str, col: dict[str, str]) -> Plan:
    def opt(name):
        return col.get(name, "NULL")

    checks: list[tuple[str, str, str]] = [(c, f"{col[c]} IS NULL", f"'{c} is required'")
                                          for c in SPECS[table].required]
    if table == "time_entries":
        v, m = col["started_at"], col["minutes"]
        parsed = {"ok_start": sql_ts_ok(v), "at_start": sql_offset_at(v), "us_min": sql_minutes_us(m)}
        walls = {"w_start": f"CASE WHEN ok_start THEN {sql_wall(v, 'at_start')} END"}
        checks += _ts_checks(v, "ok_start", "w_start", "started_at")
        checks += _minutes_checks(m, "us_min", "minutes")
        checks.append(("tier", f"{col['tier']} NOT IN ('one_on_one', 'general')",
                       f"'tier must be one_on_one or general, not ' || {col['tier']}"))
        if "customer_requested" in col:
            b = col["customer_requested"]
            checks.append(("customer_requested", f"NOT {sql_is_bool(b)}",
                           f"'customer_requested must be true/false, yes/no or 1/0, not ' || {b}"))
        typed = {
            "entry_id": col["entry_id"], "customer_id": col["customer_id"],
            "customer_name": opt("customer_name"), "staff": col["staff"],
            "started_at": "w_start", "started_at_offset": sql_offset(v, "at_start"),
            "minutes_us": "us_min", "tier": col["tier"],
            "activity": opt("activity"), "appointment_id": opt("appointment_id"),
            "customer_requested": sql_bool(opt("customer_requested")), "notes": opt("notes"),
        }
    elif table == "appointments":
        v, m, s = col["scheduled_start"], col["scheduled_minutes"], col["status"]
        ca, cb = opt("cancelled_at"), opt("cancelled_by")
        parsed = {"ok_start": sql_ts_ok(v), "at_start": sql_offset_at(v), "us_min": sql_minutes_us(m),
                  "ok_canc": sql_ts_ok(ca), "at_canc": sql_offset_at(ca)}
        walls = {"w_start": f"CASE WHEN ok_start THEN {sql_wall(v, 'at_start')} END",
                   "w_canc": f"CASE WHEN ok_canc THEN {sql_wall(ca, 'at_canc')} END"}
        checks += _ts_checks(v, "ok_start", "w_start", "scheduled_start")
        checks += _minutes_checks(m, "us_min", "scheduled_minutes")
        checks.append(("status", f"{s} NOT IN ('scheduled', 'completed', 'cancelled', 'no_show')",
                       f"'status must be scheduled, completed, cancelled or no_show, not ' || {s}"))
        # Only a cancelled appointment needs cancelled_at / cancelled_by (FORMATS.md).
        checks.append(("cancelled_at", f"{s} = 'cancelled' AND {ca} IS NULL",
                       "'cancelled_at is required when status is cancelled'"))
        checks += [(c, f"{s} = 'cancelled' AND ({cond})", r)
                   for c, cond, r in _ts_checks(ca, "ok_canc", "w_canc", "cancelled_at")]
        checks.append(("cancelled_by", f"{s} = 'cancelled' AND {cb} IS NOT NULL AND {cb} NOT IN ('customer', 'staff')",
                       f"'cancelled_by must be customer or staff, not ' || {cb}"))
        typed = {
            "appointment_id": col["appointment_id"], "customer_id": col["customer_id"],
            "staff": opt("staff"), "scheduled_start": "w_start",
            "scheduled_start_offset": sql_offset(v, "at_start"),
            "scheduled_us": "us_min", "status": s,
            # On other statuses both cancellation columns are ignored (FORMATS.md).
            "cancelled_at": f"CASE WHEN {s} = 'cancelled' THEN w_canc END",
            "cancelled_at_offset": f"CASE WHEN {s} = 'cancelled' THEN {sql_offset(ca, 'at_canc')} END",
            "cancelled_by": f"CASE WHEN {s} = 'cancelled' THEN coalesce({cb}, 'customer') END",
        }
    elif table == "purchases":
        v, h = col["purchased_at"], col["hours"]
        parsed = {"ok_at": sql_ts_ok(v), "at_at": sql_offset_at(v), "p_h": sql_num_parts(h), "is_date": sql_is_date(v)}
        walls = {"w_at": f"CASE WHEN ok_at THEN {sql_wall(v, 'at_at')} END"}
        f = _frac("p_h")
        checks += [
            ("purchased_at", "w_at IS NULL AND NOT is_date", f"'purchased_at is not a date or timestamp: ' || {v}"),
            ("hours", f"NOT {sql_num_ok(h)}", f"'hours must be a plain decimal number, not ' || {h}"),
            ("hours", f"length({f}) > 18 OR length(p_h.i) > 9", f"'hours is out of range: ' || {h}"),
            ("hours", f"{f} <> '' AND (CAST({f} AS HUGEINT) * 60) % CAST(pow(10, length({f})) AS HUGEINT) <> 0",
             f"'hours × 60 must be a whole number of minutes, not ' || {h}"),
            ("hours", f"{sql_hours_minutes('p_h')} <= 0", f"'hours must be greater than 0, not ' || {h}"),
        ]
        if "amount" in col:
            a = col["amount"]
            checks.append(("amount", f"{a} IS NOT NULL AND NOT regexp_full_match({a}, '{_SIGNED_NUM_RE}')",
                           f"'amount must be a plain decimal number, not ' || {a}"))
        typed = {
            "purchase_id": col["purchase_id"], "customer_id": col["customer_id"],
            "purchased_at": f"CASE WHEN is_date THEN CAST(CAST({v} AS DATE) AS TIMESTAMP) ELSE w_at END",
            "purchased_at_offset": f"CASE WHEN is_date THEN NULL ELSE {sql_offset(v, 'at_at')} END",
            "date_only": "is_date",
            "minutes_us": f"{sql_hours_minutes('p_h')} * 60000000",
            "amount": opt("amount"),
        }
    else:
        parsed, walls = {}, {}
        typed = {"customer_id": col["customer_id"], "customer_name": opt("customer_name")}
    return Plan(parsed=parsed, walls=walls, checks=checks, typed=typed)


# --------------------------------------------------------------------------- reading
def _read_header(path: Path) -> list[str]:
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


def _physical_lines(path: Path, ncols: int, wanted: dict[tuple, list] | None = None):
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


def import_export(db_path, source, *, period: tuple[date, date] | None = None, policy=None,
                  dry_run: bool = False, label: str | None = None, now: datetime | None = None,
                  id_prefix: str | None = None, scope: str = "team", add_only: bool = False,
                  timezone: str | None = None, scope_staff=None, scope_customers=None,
                  expect_removals: str | None = None, extra_rejects: list[Reject] | None = None,
                  notes: dict | None = None, notices: list[str] | None = None, spare=None,
                  con=None) -> ImportResult:
    """Import the canonical export in folder ``source`` (or a single canonical CSV file).

    ``period`` = (first day, last day): entries and appointments of the files present dated
    in it which the export no longer contains are removed (their previous version is kept).
    The period's days are those of ``timezone``, the zone the export was written in (None:
    the policy's zone, R1): a stored row with an offset is in the period when its instant
    falls within [first day 00:00, last day + 1 00:00) in that zone; one without an offset
    when its written date is in the period.

    The removal *scope* (``decide_scope``) limits what can be removed: ``team`` (the default
    here: a canonical export is the whole team's) any row of the period; ``staff`` /
    ``customers`` only rows of the staff / customers the file's entries have (``scope_staff``
    / ``scope_customers`` when given, else its good time entries'); ``auto`` one of those
    when the file has exactly one staff member and/or one customer, else team;
    ``add_only`` removes nothing. ``id_prefix`` limits removal to ids of one source (a
    tracker's), so two sources never remove each other's rows.

    ``spare``: (staff, customer id, written day) of rows a converter could not read, each
    part None where unreadable: a stored entry that matches one of them (a None matches
    anything) may be that row's earlier version, so it is kept, not removed.

    ``expect_removals`` (a preview's ``removal_key``): the import removes exactly the rows
    that preview showed, or it stops (nothing saved) saying the data changed since.
    ``extra_rejects`` (a converter's) are stored and counted with this import; ``notes``
    (JSON-able) are kept in the import log, with the scope; ``notices`` are sentences for the
    summary. ``dry_run`` computes everything and rolls back: the preview.
    """
    from billing.policy import load_policy

    policy = policy or load_policy()
    if isinstance(source, dict):  # {table: TableSource}, a converter's tables in memory
        files = dict(source)
        headers = {t: list(f.table.column_names) for t, f in files.items()}
    else:
        source = Path(source)
        files = find_files(source)
        headers = {t: _read_header(p) for t, p in files.items()}
    for table, header in headers.items():
        missing = [c for c in SPECS[table].required if c not in header]
        if missing:
            raise ImportError_(f"{files[table].name}: required column{'s' if len(missing) > 1 else ''} "
                               f"{', '.join(repr(m) for m in missing)} missing from the header.")
    if period and period[0] > period[1]:
        raise ImportError_(f"period {period[0]}..{period[1]}: the first day is after the last day.")
    if scope not in SCOPES:
        raise ImportError_(f"scope {scope!r}: must be one of {', '.join(SCOPES)}.")
    zone = timezone or policy.timezone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportError_(f"time zone {zone!r} is not one that zoneinfo knows (use an IANA name such as "
                           f"Europe/Berlin).") from None

    options = dict(id_prefix=id_prefix, scope=scope, add_only=add_only, zone=zone,
                   scope_staff=scope_staff, scope_customers=scope_customers, expect_removals=expect_removals,
                   extra_rejects=extra_rejects or [], notes=notes, notices=list(notices or []),
                   spare=list(spare or []))
    if con is not None:
        return _run_import(con, files, headers, period, policy, dry_run, label or str(source), now, **options)
    with open_db(db_path) as con:
        return _run_import(con, files, headers, period, policy, dry_run, label or str(source), now, **options)


def period_bounds(period: tuple[date, date], zone: str) -> tuple[datetime, datetime]:
    """[first day 00:00, last day + 1 00:00) in ``zone`` as naive UTC instants (R1: a midnight
    that a change skips or repeats is its first occurrence, fold 0)."""
    tz = ZoneInfo(zone)

    def utc(day: date) -> datetime:
        return datetime.combine(day, time(0)).replace(tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)

    return utc(period[0]), utc(period[1] + timedelta(days=1))


def _file_people(con, files) -> tuple[list[str], list[str]]:
    """Distinct staff and customers of the staged good time entries."""
    if "time_entries" not in files:
        return [], []
    staff, customers = con.execute(
        "SELECT list_sort(list(DISTINCT staff)), list_sort(list(DISTINCT customer_id)) "
        "FROM stage_time_entries WHERE bad_reason IS NULL").fetchone()
    return staff or [], customers or []


def _new_customers(con, files) -> list[str]:
    """Customer ids of the staged good rows that the database has nowhere yet."""
    staged = " UNION ".join(f"SELECT customer_id FROM stage_{t} WHERE bad_reason IS NULL" for t in files)
    known = " UNION ".join(f"SELECT customer_id FROM {t}" for t in ID_COLUMN)
    return [r[0] for r in con.execute(
        f"SELECT DISTINCT customer_id FROM ({staged}) WHERE customer_id NOT IN ({known}) ORDER BY 1").fetchall()]


def _run_import(con, files, headers, period, policy, dry_run, label, now, *, id_prefix, scope, add_only,
                zone, scope_staff, scope_customers, expect_removals, extra_rejects, notes, notices,
                spare) -> ImportResult:
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        import_id = (con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()[0])
        result = ImportResult(import_id=import_id, dry_run=dry_run, data_version=data_version(con),
                              period=period, notices=notices)
        # Read and validate every file before writing anything.
        if extra_rejects:
            # Rows a converter could not read: counted under their own file, as not converted.
            result.files[f"{extra_rejects[0].file} (rows not converted)"] = FileCounts(
                read=len(extra_rejects), rejected=len(extra_rejects))
            _store_rejects(con, import_id, extra_rejects)
            result.rejects.extend(extra_rejects)
        for table, path in files.items():
            result.files[path.name] = _stage_file(con, table, path, headers[table], result)
        removal = None
        if period:
            staff, customers = _file_people(con, files)
            result.scope = decide_scope(scope, staff if scope_staff is None else scope_staff,
                                        customers if scope_customers is None else scope_customers, add_only)
            result.period_zone = zone
            removal = (period, period_bounds(period, zone), result.scope, spare)
        result.new_customers = _new_customers(con, files)
        _fault_point("staged")
        gone: list[str] = []
        for table, path in files.items():
            gone += _merge(con, table, path.name, import_id, removal, policy, result, id_prefix)
        result.removal_key = hashlib.sha256("\n".join(sorted(gone)).encode()).hexdigest()[:16] if gone else ""
        if expect_removals is not None and expect_removals != result.removal_key:
            raise ImportError_(
                f"the data changed since the preview: this import would now remove {result.removed} row(s), "
                f"not the ones shown; nothing was saved; preview it again.")
        _fault_point("merged")
        log = dict(notes or {})
        if result.scope is not None:
            log.update(scope=result.scope.as_json(), period_zone=zone)
        con.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            [import_id, now, label, json.dumps({p.name: str(p) for p in files.values()}),
             period[0] if period else None, period[1] if period else None,
             result.added, result.replaced, result.removed, result.unchanged, result.rejected,
             json.dumps(log, default=str) if log else None])
        result.data_version = bump_data_version(con)
        if dry_run:
            con.execute("ROLLBACK")
        else:
            con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for table, path in files.items():
            con.execute(f"DROP TABLE IF EXISTS temp.raw_{table}")
            con.execute(f"DROP TABLE IF EXISTS temp.stage_{table}")
            if isinstance(path, TableSource):
                con.complete()
                con.unregister(f"memory_{table}")
    return result


def _stage_file(con, table: str, path: Path, header: list[str], result: ImportResult) -> FileCounts:
    spec = SPECS[table]
    aliases = [f"c{i}" for i in range(len(header))]
    columns = "{" + ", ".join(f"'{a}': 'VARCHAR'" for a in aliases) + "}"
    read = (f"read_csv(?, columns = {columns}, header = true, delim = ',', quote = '\"', escape = '\"', "
            "auto_detect = false, strict_mode = true, store_rejects = true, encoding = 'utf-8')")
    in_memory = isinstance(path, TableSource)
    if in_memory:
        con.complete()  # register() refuses to run past a half-read result
        import pyarrow as pa

        # In batches, so that DuckDB scans them on every core (one batch is one thread).
        batches = path.table.rename_columns(aliases).to_batches(max_chunksize=1 << 17)
        con.register(f"memory_{table}", pa.Table.from_batches(batches, schema=path.table.rename_columns(aliases).schema))
        read = f"(SELECT * FROM memory_{table} WHERE ? IS NOT NULL)"  # the same one parameter as read_csv

    name_of = dict(zip(aliases, header))
    known = set(spec.required) | set(spec.optional)
    col = {name: f"t_{a}" for a, name in name_of.items() if name in known}
    trimmed = ", ".join(f"nullif(trim({a}), '') AS t_{a}" for a in aliases)
    plan = _plan(table, col)
    # The first failing check, by number: each condition is evaluated once per row.
    bad_check = "CASE " + " ".join(f"WHEN {c} THEN {i}" for i, (_, c, _) in enumerate(plan.checks)) + " END"
    bad_column = "CASE bad_check " + " ".join(f"WHEN {i} THEN '{n}'" for i, (n, _, _) in enumerate(plan.checks)) + " END"
    bad_reason = "CASE bad_check " + " ".join(f"WHEN {i} THEN {r}" for i, (_, _, r) in enumerate(plan.checks)) + " END"
    extra_cols = [a for a, name in name_of.items()
                  if name not in known and name not in (SOURCE_FILE_COLUMN, SOURCE_LINE_COLUMN)]
    if extra_cols:
        extra = "json_object(" + ", ".join(f"?, t_{a}" for a in extra_cols) + ")"
        extra_params = [name_of[a] for a in extra_cols]
    else:
        extra, extra_params = "NULL", []
    record = "json_object(" + ", ".join(f"?, {a}" for a in aliases) + ")"
    src_file = next((f"t_{a}" for a, n in name_of.items() if n == SOURCE_FILE_COLUMN), "NULL")
    src_line = next((f"try_cast(t_{a} AS BIGINT)" for a, n in name_of.items() if n == SOURCE_LINE_COLUMN), "NULL")

    def select(items: dict) -> str:
        return "".join(f", {expr} AS {name}" for name, expr in items.items())

    def shape_errors_of(run) -> list[tuple]:
        """Run a statement that reads the file; returns the records of the wrong shape."""
        if in_memory:  # a table has no records of the wrong shape
            run()
            return []
        con.execute("DROP TABLE IF EXISTS reject_errors")
        con.execute("DROP TABLE IF EXISTS reject_scans")
        try:
            run()
        except duckdb.InvalidInputException:
            # DuckDB's strict reader stops (no reject row) on a carriage return inside an
            # unquoted value: say where, as one sentence; the transaction loads nothing.
            raise ImportError_(_unreadable_csv(path)) from None
        errors = con.execute(
            # One row per bad record (DuckDB lists a record once per missing column).
            "SELECT line, min(error_type), min(error_message), min(csv_line) FROM reject_errors "
            "GROUP BY line ORDER BY line").fetchall()
        if any(e[1] == "INVALID ENCODING" for e in errors):
            line = next(e[0] for e in errors if e[1] == "INVALID ENCODING")
            raise ImportError_(f"{path.name}: the file is not UTF-8 text (first bad bytes in record {line}); "
                               f"save it as UTF-8 and import again.")
        return errors

    def build_stage(source: str, ordinal: str, params: list) -> None:
        """Validate every row of ``source`` into stage_<table>."""
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE stage_{table} AS
            WITH t AS (SELECT {ordinal} AS ordinal, *, {trimmed} FROM {source}),
            p1 AS (SELECT *{select(plan.parsed)} FROM t),
            p2 AS (SELECT *{select(plan.walls)} FROM p1),
            checked AS (SELECT *, {bad_check} AS bad_check FROM p2)
            SELECT ordinal, {src_file} AS src_file, {src_line} AS src_line,
                   {bad_column} AS bad_column, {bad_reason} AS bad_reason,
                   CASE WHEN bad_check IS NOT NULL THEN {record} END AS record
                   {"".join(f", CASE WHEN bad_check IS NULL THEN {expr} END AS {name}" for name, expr in plan.typed.items())},
                   CASE WHEN bad_check IS NULL THEN {extra} END AS extra
            FROM checked""",
            params + header + extra_params)

    # Straight from the file: no copy of the raw text is kept, rows carry no position.
    shape_errors = shape_errors_of(lambda: build_stage(read, "CAST(NULL AS BIGINT)", [str(path)]))
    # Inside one import the first good row with an id wins; later good rows with the same id
    # are rejected as duplicates (a rejected row does not claim its id). Checked with one
    # aggregate; only when there are duplicates is the file read again with row positions.
    idc = ID_COLUMN[table]
    good, distinct = con.execute(f"SELECT count(*), count(DISTINCT {idc}) FROM stage_{table} "
                                 f"WHERE bad_reason IS NULL").fetchone()
    ordered = good != distinct
    if ordered:
        shape_errors = shape_errors_of(lambda: con.execute(
            f"CREATE OR REPLACE TEMP TABLE raw_{table} AS SELECT * FROM {read}", [str(path)]))
        build_stage(f"raw_{table}", "rowid", [])
        raw_record = "json_object(" + ", ".join(f"?, {a}" for a in aliases) + ")"
        con.execute(f"""UPDATE stage_{table} AS s SET bad_column = '{idc}',
                bad_reason = 'duplicate {idc} ' || s.{idc} || ' (an earlier line has it)', record = r.rec
            FROM (SELECT rowid AS ordinal, {raw_record} AS rec FROM raw_{table}) AS r
            WHERE s.ordinal = r.ordinal AND s.ordinal IN (SELECT ordinal FROM (
                SELECT ordinal, row_number() OVER (PARTITION BY {idc} ORDER BY ordinal) AS nth
                FROM stage_{table} WHERE bad_reason IS NULL) WHERE nth > 1)""", header)
    counts = FileCounts()
    counts.read = con.execute(f"SELECT count(*) FROM stage_{table}").fetchone()[0] + len(shape_errors)
    bad = con.execute(
        f"SELECT ordinal, src_file, src_line, bad_column, bad_reason, record FROM stage_{table} "
        f"WHERE bad_reason IS NOT NULL ORDER BY ordinal").fetchall()
    counts.rejected = len(bad) + len(shape_errors)
    if counts.rejected:
        result.rejects.extend(_locate(con, table, path, header, shape_errors, bad, ordered, result.import_id))
    return counts


def _unreadable_csv(path: Path) -> str:
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


def _locate(con, table: str, path: Path, header: list[str], shape_errors, bad, ordered: bool,
            import_id: int) -> list[Reject]:
    """The rejects of one file, each with the line a text editor shows, stored with the import."""
    rejects: list[Reject] = []
    if ordered:
        # Row ids follow the file's order but need not start at 0 (transaction-local storage):
        # a row's position is its rank among them, and its line the position's good line.
        lines = _physical_lines(path, len(header))
        rowids = np.sort(con.execute(f"SELECT rowid FROM raw_{table}").fetchnumpy()["rowid"])
        where = {}
        for ordinal, *_ in bad:
            pos = int(np.searchsorted(rowids, ordinal))
            where[ordinal] = [lines[0][pos]] if lines and pos < len(lines[0]) else []
    else:
        # Without positions, a bad record is found again by its fields (identical records
        # take their lines in file order).
        wanted: dict[tuple, list] = {}
        for ordinal, sfile, sline, *_, rec in bad:
            if sline is None:
                wanted.setdefault(tuple("" if v is None else v for v in json.loads(rec).values()), [])
        lines = _physical_lines(path, len(header), wanted)
        taken: dict[tuple, int] = {}
        where = {}
        for i, (ordinal, sfile, sline, *_, rec) in enumerate(bad):
            if sline is None:
                key = tuple("" if v is None else v for v in json.loads(rec).values())
                n = taken.get(key, 0)
                taken[key] = n + 1
                found = wanted.get(key, [])
                where[i] = [found[n]] if n < len(found) else []
    consistent = lines is not None and len(lines[1]) == len(shape_errors)
    for i, (line, etype, message, csv_line) in enumerate(shape_errors):
        reason = ("the record has fewer fields than the header" if "MISSING" in etype
                  else "the record has more fields than the header" if "TOO MANY" in etype
                  else f"the record cannot be read as CSV ({message})")
        rejects.append(Reject(path.name, lines[1][i] if consistent else line, None, reason,
                              (csv_line or "").strip("\r\n")))
    for i, (ordinal, sfile, sline, column, reason, rec) in enumerate(bad):
        if sline is not None:  # a converted tracker file: point at the user's own file
            rejects.append(Reject(sfile or path.name, sline, column, reason, rec))
            continue
        found = where.get(ordinal if ordered else i) or [None]
        rejects.append(Reject(path.name, found[0], column, reason, rec))
    rejects.sort(key=lambda r: (r.file, r.line if r.line is not None else 1 << 62))
    _store_rejects(con, import_id, rejects)
    return rejects


def _fault_point(name: str) -> None:
    """Fault injection for the crash tests: with HOURBANK_FAULT_PAUSE=<name>, the import says
    so on stderr and waits at that point, inside its transaction, to be killed."""
    if os.environ.get("HOURBANK_FAULT_PAUSE") == name:
        import sys
        import time

        print(f"paused at {name}", file=sys.stderr, flush=True)
        time.sleep(60)


def _store_rejects(con, import_id: int, rejects: list[Reject]) -> None:
    con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?)",
                    [[import_id, r.file, r.line, r.column, r.reason, r.record] for r in rejects])


def _content_columns(table: str) -> list[str]:
    return [line.split()[0] for line in TABLES[table].strip().split(",\n")
            if line.split()[0] != "import_id"]


def _merge(con, table: str, filename: str, import_id: int, removal, policy, result: ImportResult,
           id_prefix: str | None = None) -> list[str]:
    """Upsert the staged good rows; with ``removal`` = (period, its UTC bounds, scope), remove
    the stored rows of the period that the file lacks, within the scope. Returns the removed
    rows as "table id" keys."""
    counts = result.files[filename]
    idc = ID_COLUMN[table]
    cols = _content_columns(table)
    live_cols = ", ".join(cols + ["import_id"])
    good = f"(SELECT * FROM stage_{table} WHERE bad_reason IS NULL)"  # this import's new content
    if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)").fetchone()[0] == 0:
        # Nothing loaded yet (a first import): every good row is new, no comparison needed.
        con.execute(f"INSERT INTO {table} SELECT {', '.join(cols)}, ? FROM {good}", [import_id])
        counts.added = con.execute(f"SELECT count(*) FROM {good}").fetchone()[0]
        return []
    same = " AND ".join(f"l.{c} IS NOT DISTINCT FROM n.{c}" for c in cols)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cmp_{table} AS
        SELECT n.{idc} AS id, l.{idc} IS NULL AS is_new, l.{idc} IS NOT NULL AND NOT ({same}) AS is_changed
        FROM {good} n LEFT JOIN {table} l ON l.{idc} = n.{idc}""")
    counts.added, counts.replaced, counts.unchanged = con.execute(
        f"SELECT count(*) FILTER (is_new), count(*) FILTER (is_changed), "
        f"count(*) FILTER (NOT is_new AND NOT is_changed) FROM cmp_{table}").fetchone()
    if counts.replaced:
        con.execute(f"""INSERT INTO {table}_history SELECT {live_cols}, ?, 'replaced' FROM {table}
                        WHERE {idc} IN (SELECT id FROM cmp_{table} WHERE is_changed)""", [import_id])
        con.execute(f"DELETE FROM {table} WHERE {idc} IN (SELECT id FROM cmp_{table} WHERE is_changed)")
    if counts.added or counts.replaced:
        con.execute(f"""INSERT INTO {table} SELECT {', '.join('n.' + c for c in cols)}, ?
                        FROM {good} n JOIN cmp_{table} c ON c.id = n.{idc} WHERE c.is_new OR c.is_changed""",
                    [import_id])
    con.execute(f"DROP TABLE cmp_{table}")
    if removal is None or table not in ("time_entries", "appointments") or removal[2].add_only:
        return []
    (first, last), (lo, hi), scope, spare = removal
    ts = "started_at" if table == "time_entries" else "scheduled_start"
    minutes = "minutes_us" if table == "time_entries" else "scheduled_us"
    instant = f"l.{ts} - to_seconds(l.{ts}_offset)"
    # The period's days in the export's zone: an instant within [lo, hi); a wall time
    # without an offset by its written date. A row whose new version was rejected keeps
    # its old version (the reject is shown, nothing lost).
    where = [f"""CASE WHEN l.{ts}_offset IS NULL THEN CAST(l.{ts} AS DATE) BETWEEN $first AND $last
                      ELSE {instant} >= $lo AND {instant} < $hi END""",
             f"l.{idc} NOT IN (SELECT {idc} FROM stage_{table} WHERE bad_reason IS NULL)",
             f"""l.{idc} NOT IN (SELECT json_extract_string(record, '$.{idc}') FROM stage_{table}
                                WHERE bad_reason IS NOT NULL AND json_extract_string(record, '$.{idc}') IS NOT NULL)"""]
    params = {"first": first, "last": last, "lo": lo, "hi": hi}
    if id_prefix is not None:
        where.append("starts_with(l.{idc}, $prefix)".format(idc=idc))
        params["prefix"] = id_prefix
    if spare and table == "time_entries":
        # Rows the converter could not read may be new versions of stored entries: an entry
        # of the same staff, customer and written day (each as far as it could be read) stays.
        con.execute("CREATE OR REPLACE TEMP TABLE spare_keys (staff VARCHAR, customer_id VARCHAR, day DATE)")
        con.executemany("INSERT INTO spare_keys VALUES (?, ?, ?)", [list(k) for k in spare])
        kept_by_spare = f"""EXISTS (SELECT 1 FROM spare_keys s WHERE (s.staff IS NULL OR s.staff = l.staff)
                         AND (s.customer_id IS NULL OR s.customer_id = l.customer_id)
                         AND (s.day IS NULL OR s.day = CAST(l.{ts} AS DATE)))"""
    for column, allowed in (("staff", scope.staff), ("customer_id", scope.customers)):
        if allowed is not None:
            where.append(f"list_contains(${column}, l.{column})" if allowed else "false")
            if allowed:
                params[column] = list(allowed)
    spared = spare and table == "time_entries"
    condition = " AND ".join(f"({w})" for w in where)
    con.execute(f"CREATE OR REPLACE TEMP TABLE gone_{table} AS SELECT l.{idc} FROM {table} l "
                f"WHERE {condition}" + (f" AND NOT {kept_by_spare}" if spared else ""), params)
    if spared:
        kept = con.execute(f"SELECT count(*) FROM {table} l WHERE {condition} AND {kept_by_spare}",
                           params).fetchone()[0]
        if kept:
            result.notices.append(
                f"{kept} stored entr{'ies are' if kept > 1 else 'y is'} kept although the file no longer has "
                f"{'them' if kept > 1 else 'it'}: a rejected row of the same staff member, customer and day may be "
                f"{'their' if kept > 1 else 'its'} new version. Correct the rejected rows and import again.")
    counts.removed = con.execute(f"SELECT count(*) FROM gone_{table}").fetchone()[0]
    gone: list[str] = []
    if counts.removed:
        listed = con.execute(
            f"""SELECT l.{idc}, {business_day_sql('l.' + ts, 'l.' + ts + '_offset')} AS day, l.staff,
                       l.customer_id, l.{minutes}
                FROM {table} l WHERE l.{idc} IN (SELECT * FROM gone_{table})
                ORDER BY day, l.staff NULLS FIRST, l.customer_id, l.{idc}""", [policy.timezone]).fetchall()
        gone = [f"{table} {r[0]}" for r in listed]
        room = MAX_REMOVALS_LISTED - len(result.removals)
        result.removals += [Removal(table, i, d, st, c, minutes_text(us)) for i, d, st, c, us in listed[:max(room, 0)]]
        con.execute(f"""INSERT INTO {table}_history SELECT {live_cols}, ?, 'removed' FROM {table}
                        WHERE {idc} IN (SELECT * FROM gone_{table})""", [import_id])
        con.execute(f"DELETE FROM {table} WHERE {idc} IN (SELECT * FROM gone_{table})")
    con.execute(f"DROP TABLE gone_{table}")
    return gone


def minutes_text(us: int) -> str:
    """Integer microseconds as exact minutes text (12.5, 0.016667)."""
    whole, rest = divmod(int(us), 60_000_000)
    if not rest:
        return str(whole)
    frac = Decimal(rest) / Decimal(60_000_000)
    return str(whole + frac.quantize(Decimal("0.000001"))).rstrip("0").rstrip(".")


def business_day_sql(ts: str, offset: str) -> str:
    """R1 in SQL; the zone is the first ``?`` parameter.

    Written without an offset: the written date. With one: the instant's date in the zone.
    """
    return (f"CASE WHEN {offset} IS NULL THEN CAST({ts} AS DATE) ELSE CAST(timezone(?, "
            f"timezone('UTC', {ts} - to_seconds({offset}))) AS DATE) END")


# --------------------------------------------------------------------------- history
def list_imports(con):
    """The import log, newest first, as a DataFrame."""
    return con.execute("SELECT * FROM imports ORDER BY import_id DESC").df()


def undo_import(db_path, import_id: int, *, now: datetime | None = None, con=None) -> int:
    """Undo one import: its rows go, the versions it replaced or removed come back.

    Refused (nothing changed) when a later import, not undone, touched the same rows:
    undo that one first. Returns the new data version.
    """
    if con is None:
        with open_db(db_path) as con:
            return undo_import(db_path, import_id, now=now, con=con)
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    row = con.execute("SELECT undone_at FROM imports WHERE import_id = ?", [import_id]).fetchone()
    if row is None:
        raise HourbankError(f"import {import_id}: there is no such import (see `python -m billing imports`).")
    if row[0] is not None:
        raise HourbankError(f"import {import_id}: it was already undone on {row[0]:%Y-%m-%d %H:%M}.")
    con.execute("BEGIN TRANSACTION")
    try:
        for table, idc in ID_COLUMN.items():
            touched = f"""(SELECT {idc} FROM {table} WHERE import_id = $x
                           UNION SELECT {idc} FROM {table}_history WHERE superseded_by = $x OR import_id = $x)"""
            later = con.execute(f"""
                SELECT min(i) FROM (
                    SELECT import_id AS i FROM {table} WHERE import_id > $x AND {idc} IN {touched}
                    UNION ALL SELECT superseded_by FROM {table}_history
                    WHERE superseded_by > $x AND {idc} IN {touched})""", {"x": import_id}).fetchone()[0]
            if later is not None:
                raise HourbankError(f"import {import_id}: import {later} changed the same {table.replace('_', ' ')} "
                                    f"since; undo import {later} first.")
        for table, idc in ID_COLUMN.items():
            live_cols = ", ".join(_content_columns(table) + ["import_id"])
            con.execute(f"DELETE FROM {table} WHERE import_id = ?", [import_id])
            con.execute(f"INSERT INTO {table} SELECT {live_cols} FROM {table}_history WHERE superseded_by = ?",
                        [import_id])
            con.execute(f"DELETE FROM {table}_history WHERE superseded_by = ?", [import_id])
        con.execute("UPDATE imports SET undone_at = ? WHERE import_id = ?", [now, import_id])
        version = bump_data_version(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return version
