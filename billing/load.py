"""Load the canonical export (FORMATS.md) into the DuckDB store.

Every row is validated in SQL (vectorised, no per-row Python): a bad row is not loaded
and not lost: it is kept in ``rejects`` with file, line, column, reason and the record as
read. Good rows are upserted by id; a row whose content is unchanged is left alone, so
importing the same folder twice changes nothing. A replaced row, and a row removed by a
period import, keeps its previous version in ``<table>_history``. Each import is recorded
in ``imports``, bumps the data version and can be undone. An import is one transaction:
a failure or a kill mid-way leaves the database as it was.

The policy is not applied here (only the period of a period import is read in the
policy's time zone, R1): the store keeps what the export said.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

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


@dataclass
class FileCounts:
    read: int = 0
    added: int = 0
    replaced: int = 0
    removed: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass
class ImportResult:
    import_id: int
    dry_run: bool
    data_version: int
    period: tuple[date, date] | None
    files: dict[str, FileCounts] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)

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
                  id_prefix: str | None = None, widen_period: bool = False,
                  extra_rejects: list[Reject] | None = None, notes: dict | None = None,
                  con=None) -> ImportResult:
    """Import the canonical export in folder ``source`` (or a single canonical CSV file).

    ``period`` = (first day, last day): entries and appointments of the files present whose
    business day (R1, policy time zone) falls in it and which the export no longer contains
    are removed (their previous version is kept). ``id_prefix`` limits that removal to ids
    of one source (a tracker's), so two sources never remove each other's rows;
    ``widen_period`` widens the period to the business days of the imported rows.
    ``extra_rejects`` (a converter's) are stored and counted with this import; ``notes``
    (JSON-able) are kept in the import log. ``dry_run`` computes everything and rolls back:
    the preview of the Import page.
    """
    from billing.policy import load_policy

    policy = policy or load_policy()
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

    options = dict(id_prefix=id_prefix, widen_period=widen_period, extra_rejects=extra_rejects or [],
                   notes=notes)
    if con is not None:
        return _run_import(con, files, headers, period, policy, dry_run, label or str(source), now, **options)
    with open_db(db_path) as con:
        return _run_import(con, files, headers, period, policy, dry_run, label or str(source), now, **options)


def _run_import(con, files, headers, period, policy, dry_run, label, now, *, id_prefix, widen_period,
                extra_rejects, notes) -> ImportResult:
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        import_id = (con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()[0])
        result = ImportResult(import_id=import_id, dry_run=dry_run, data_version=data_version(con),
                              period=period)
        # Read and validate every file before writing anything.
        if extra_rejects:
            result.files["(converter)"] = FileCounts(read=len(extra_rejects), rejected=len(extra_rejects))
            _store_rejects(con, import_id, extra_rejects)
            result.rejects.extend(extra_rejects)
        for table, path in files.items():
            result.files[path.name] = _stage_file(con, table, path, headers[table], result)
        if period and widen_period:
            period = _widened(con, files, period, policy)
            result.period = period
        _fault_point("staged")
        for table, path in files.items():
            _merge(con, table, path.name, import_id, period, policy, result.files[path.name], id_prefix)
        _fault_point("merged")
        con.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            [import_id, now, label, json.dumps({p.name: str(p) for p in files.values()}),
             period[0] if period else None, period[1] if period else None,
             result.added, result.replaced, result.removed, result.unchanged, result.rejected,
             json.dumps(notes, default=str) if notes else None])
        result.data_version = bump_data_version(con)
        if dry_run:
            con.execute("ROLLBACK")
        else:
            con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for table in files:
            con.execute(f"DROP TABLE IF EXISTS temp.raw_{table}")
            con.execute(f"DROP TABLE IF EXISTS temp.stage_{table}")
    return result


def _stage_file(con, table: str, path: Path, header: list[str], result: ImportResult) -> FileCounts:
    spec = SPECS[table]
    aliases = [f"c{i}" for i in range(len(header))]
    columns = "{" + ", ".join(f"'{a}': 'VARCHAR'" for a in aliases) + "}"
    read = (f"read_csv(?, columns = {columns}, header = true, delim = ',', quote = '\"', escape = '\"', "
            "auto_detect = false, strict_mode = true, store_rejects = true, encoding = 'utf-8')")

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


def _widened(con, files, period, policy) -> tuple[date, date]:
    first, last = period
    for table, ts in (("time_entries", "started_at"), ("appointments", "scheduled_start")):
        if table not in files:
            continue
        lo, hi = con.execute(f"SELECT min(d), max(d) FROM (SELECT {business_day_sql(ts, ts + '_offset')} AS d "
                             f"FROM stage_{table} WHERE bad_reason IS NULL)", [policy.timezone]).fetchone()
        first = min(first, lo) if lo else first
        last = max(last, hi) if hi else last
    return first, last


def _content_columns(table: str) -> list[str]:
    return [line.split()[0] for line in TABLES[table].strip().split(",\n")
            if line.split()[0] != "import_id"]


def _merge(con, table: str, filename: str, import_id: int, period, policy, counts: FileCounts,
           id_prefix: str | None = None) -> None:
    idc = ID_COLUMN[table]
    cols = _content_columns(table)
    live_cols = ", ".join(cols + ["import_id"])
    good = f"(SELECT * FROM stage_{table} WHERE bad_reason IS NULL)"  # this import's new content
    if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)").fetchone()[0] == 0:
        # Nothing loaded yet (a first import): every good row is new, no comparison needed.
        con.execute(f"INSERT INTO {table} SELECT {', '.join(cols)}, ? FROM {good}", [import_id])
        counts.added = con.execute(f"SELECT count(*) FROM {good}").fetchone()[0]
        return
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
    if period and table in ("time_entries", "appointments"):
        ts = "started_at" if table == "time_entries" else "scheduled_start"
        # R1: the business day of what is stored, in the policy's zone. A row whose new
        # version was rejected keeps its old version (the reject is shown, nothing lost).
        removable = f"""SELECT l.{idc} FROM {table} l
            WHERE {business_day_sql('l.' + ts, 'l.' + ts + '_offset').replace('?', '$tz')} BETWEEN $first AND $last
              AND l.{idc} NOT IN (SELECT {idc} FROM stage_{table} WHERE bad_reason IS NULL)
              AND ($prefix IS NULL OR starts_with(l.{idc}, $prefix))
              AND l.{idc} NOT IN (SELECT json_extract_string(record, '$.{idc}') FROM stage_{table}
                                  WHERE bad_reason IS NOT NULL AND json_extract_string(record, '$.{idc}') IS NOT NULL)"""
        params = {"tz": policy.timezone, "first": period[0], "last": period[1], "prefix": id_prefix}
        con.execute(f"CREATE OR REPLACE TEMP TABLE gone_{table} AS {removable}", params)
        counts.removed = con.execute(f"SELECT count(*) FROM gone_{table}").fetchone()[0]
        if counts.removed:
            con.execute(f"""INSERT INTO {table}_history SELECT {live_cols}, ?, 'removed' FROM {table}
                            WHERE {idc} IN (SELECT * FROM gone_{table})""", [import_id])
            con.execute(f"DELETE FROM {table} WHERE {idc} IN (SELECT * FROM gone_{table})")
        con.execute(f"DROP TABLE gone_{table}")


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
