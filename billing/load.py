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
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

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
# Each function returns a SQL expression over an already trimmed text expression `v`.
_TS_RE = (r"^(\d{4}-\d{2}-\d{2})[Tt ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,9}))?)?"
          r"([Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?$")
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_NUM_RE = r"^(\d+\.?\d*|\.\d+)$"
_SIGNED_NUM_RE = r"^[+-]?(\d+\.?\d*|\.\d+)$"


def _ts_parts(v: str) -> str:
    return f"regexp_extract({v}, '{_TS_RE}', ['d', 'h', 'm', 's', 'f', 'o'])"


def sql_wall(v: str) -> str:
    """Wall time as written (no offset applied); NULL when not a valid timestamp."""
    p = _ts_parts(v)
    return (f"try_cast(({p}).d || ' ' || ({p}).h || ':' || ({p}).m || ':' || "
            f"coalesce(nullif(({p}).s, ''), '00') || '.' || rpad(left(coalesce(({p}).f, ''), 6), 6, '0') "
            f"AS TIMESTAMP)")


def sql_offset(v: str) -> str:
    """UTC offset in seconds, NULL when written without one (R1)."""
    o = f"({_ts_parts(v)}).o"
    return (f"CASE WHEN {o} = '' THEN NULL WHEN upper({o}) = 'Z' THEN 0 ELSE "
            f"(CASE WHEN left({o}, 1) = '-' THEN -1 ELSE 1 END) * "
            f"(CAST(substr({o}, 2, 2) AS INTEGER) * 3600 + "
            f"coalesce(CAST(nullif(right(replace({o}, ':', ''), -3), '') AS INTEGER), 0) * 60) END")


def sql_is_ts(v: str) -> str:
    return f"({v} IS NOT NULL AND regexp_full_match({v}, '{_TS_RE}') AND {sql_wall(v)} IS NOT NULL)"


def sql_is_date(v: str) -> str:
    return f"({v} IS NOT NULL AND regexp_full_match({v}, '{_DATE_RE}') AND try_cast({v} AS DATE) IS NOT NULL)"


def _int_part(v: str) -> str:
    return f"coalesce(nullif(regexp_extract({v}, '^(\\d*)', 1), ''), '0')"


def _frac_part(v: str) -> str:
    # The decimals with trailing zeros dropped: 12.50 has one decimal.
    return f"rtrim(regexp_extract({v}, '\\.(\\d*)$', 1), '0')"


def sql_minutes_us(v: str) -> str:
    """Minutes (plain decimal, ≤ 6 decimals) as exact integer microseconds."""
    return (f"(try_cast({_int_part(v)} AS BIGINT) * 60000000 + "
            f"CAST(rpad({_frac_part(v)}, 6, '0') AS BIGINT) * 60)")


def sql_minutes_check(v: str, what: str) -> list[tuple[str, str]]:
    return [
        (f"NOT regexp_full_match({v}, '{_NUM_RE}')", f"'{what} must be a plain decimal number, not ' || {v}"),
        (f"length({_frac_part(v)}) > 6", f"'{what} has more than 6 decimals: ' || {v}"),
        (f"length({_int_part(v)}) > 9 OR {sql_minutes_us(v)} > {MAX_MINUTES_US}",
         f"'{what} must be at most 1440, not ' || {v}"),
        (f"{sql_minutes_us(v)} <= 0", f"'{what} must be greater than 0, not ' || {v}"),
    ]


def sql_hours_minutes(v: str) -> str:
    """hours × 60 as a whole number of minutes (valid only when the check passed)."""
    f = _frac_part(v)
    return (f"(try_cast({_int_part(v)} AS BIGINT) * 60 + "
            f"CASE WHEN {f} = '' THEN 0 ELSE CAST(CAST({f} AS HUGEINT) * 60 // "
            f"CAST(pow(10, length({f})) AS HUGEINT) AS BIGINT) END)")


def sql_bool(v: str) -> str:
    return f"coalesce(lower({v}) IN ('true', 'yes', '1'), false)"


def sql_is_bool(v: str) -> str:
    return f"({v} IS NULL OR lower({v}) IN ('true', 'yes', '1', 'false', 'no', '0'))"


# --------------------------------------------------------------------------- per-file plans
def _checks(table: str, col: dict[str, str]) -> list[tuple[str, str, str]]:
    """(column, SQL condition that makes the row bad, SQL text of the reason), in order."""
    def req(name):
        return (name, f"{col[name]} IS NULL", f"'{name} is required'")

    checks: list[tuple[str, str, str]] = [req(c) for c in SPECS[table].required]
    if table == "time_entries":
        v = col["started_at"]
        checks.append(("started_at", f"NOT {sql_is_ts(v)}",
                       f"'started_at is not a timestamp (YYYY-MM-DDTHH:MM[:SS][offset]): ' || {v}"))
        checks += [("minutes", c, r) for c, r in sql_minutes_check(col["minutes"], "minutes")]
        checks.append(("tier", f"{col['tier']} NOT IN ('one_on_one', 'general')",
                       f"'tier must be one_on_one or general, not ' || {col['tier']}"))
        if "customer_requested" in col:
            b = col["customer_requested"]
            checks.append(("customer_requested", f"NOT {sql_is_bool(b)}",
                           f"'customer_requested must be true/false, yes/no or 1/0, not ' || {b}"))
    elif table == "appointments":
        v = col["scheduled_start"]
        checks.append(("scheduled_start", f"NOT {sql_is_ts(v)}",
                       f"'scheduled_start is not a timestamp (YYYY-MM-DDTHH:MM[:SS][offset]): ' || {v}"))
        checks += [("scheduled_minutes", c, r)
                   for c, r in sql_minutes_check(col["scheduled_minutes"], "scheduled_minutes")]
        s = col["status"]
        checks.append(("status", f"{s} NOT IN ('scheduled', 'completed', 'cancelled', 'no_show')",
                       f"'status must be scheduled, completed, cancelled or no_show, not ' || {s}"))
        # Only a cancelled appointment needs cancelled_at / cancelled_by (FORMATS.md).
        ca = col.get("cancelled_at", "NULL")
        checks.append(("cancelled_at", f"{s} = 'cancelled' AND {ca} IS NULL",
                       "'cancelled_at is required when status is cancelled'"))
        checks.append(("cancelled_at", f"{s} = 'cancelled' AND NOT {sql_is_ts(ca)}",
                       f"'cancelled_at is not a timestamp (YYYY-MM-DDTHH:MM[:SS][offset]): ' || {ca}"))
        cb = col.get("cancelled_by", "NULL")
        checks.append(("cancelled_by", f"{s} = 'cancelled' AND {cb} IS NOT NULL AND {cb} NOT IN ('customer', 'staff')",
                       f"'cancelled_by must be customer or staff, not ' || {cb}"))
    elif table == "purchases":
        v = col["purchased_at"]
        checks.append(("purchased_at", f"NOT ({sql_is_ts(v)} OR {sql_is_date(v)})",
                       f"'purchased_at is not a date or timestamp: ' || {v}"))
        h = col["hours"]
        f = _frac_part(h)
        checks += [
            ("hours", f"NOT regexp_full_match({h}, '{_NUM_RE}')", f"'hours must be a plain decimal number, not ' || {h}"),
            ("hours", f"length({f}) > 18 OR length({_int_part(h)}) > 9",
             f"'hours is out of range: ' || {h}"),
            ("hours", f"{f} <> '' AND (CAST({f} AS HUGEINT) * 60) % CAST(pow(10, length({f})) AS HUGEINT) <> 0",
             f"'hours × 60 must be a whole number of minutes, not ' || {h}"),
            ("hours", f"{sql_hours_minutes(h)} <= 0", f"'hours must be greater than 0, not ' || {h}"),
        ]
        if "amount" in col:
            a = col["amount"]
            checks.append(("amount", f"{a} IS NOT NULL AND NOT regexp_full_match({a}, '{_SIGNED_NUM_RE}')",
                           f"'amount must be a plain decimal number, not ' || {a}"))
    return checks


def _typed(table: str, col: dict[str, str]) -> dict[str, str]:
    """Target column → SQL expression over the trimmed text columns (valid rows only)."""
    def opt(name):
        return col.get(name, "NULL")

    if table == "time_entries":
        v = col["started_at"]
        return {
            "entry_id": col["entry_id"], "customer_id": col["customer_id"],
            "customer_name": opt("customer_name"), "staff": col["staff"],
            "started_at": sql_wall(v), "started_at_offset": sql_offset(v),
            "minutes_us": sql_minutes_us(col["minutes"]), "tier": col["tier"],
            "activity": opt("activity"), "appointment_id": opt("appointment_id"),
            "customer_requested": sql_bool(opt("customer_requested")), "notes": opt("notes"),
        }
    if table == "appointments":
        s, ca, cb = col["status"], opt("cancelled_at"), opt("cancelled_by")
        return {
            "appointment_id": col["appointment_id"], "customer_id": col["customer_id"],
            "staff": opt("staff"), "scheduled_start": sql_wall(col["scheduled_start"]),
            "scheduled_start_offset": sql_offset(col["scheduled_start"]),
            "scheduled_us": sql_minutes_us(col["scheduled_minutes"]), "status": s,
            # On other statuses both cancellation columns are ignored (FORMATS.md).
            "cancelled_at": f"CASE WHEN {s} = 'cancelled' THEN {sql_wall(ca)} END",
            "cancelled_at_offset": f"CASE WHEN {s} = 'cancelled' THEN {sql_offset(ca)} END",
            "cancelled_by": f"CASE WHEN {s} = 'cancelled' THEN coalesce({cb}, 'customer') END",
        }
    if table == "purchases":
        v = col["purchased_at"]
        date_only = sql_is_date(v)
        return {
            "purchase_id": col["purchase_id"], "customer_id": col["customer_id"],
            "purchased_at": f"CASE WHEN {date_only} THEN CAST(CAST({v} AS DATE) AS TIMESTAMP) ELSE {sql_wall(v)} END",
            "purchased_at_offset": f"CASE WHEN {date_only} THEN NULL ELSE {sql_offset(v)} END",
            "date_only": date_only,
            "minutes_us": f"{sql_hours_minutes(col['hours'])} * 60000000",
            "amount": opt("amount"),
        }
    return {"customer_id": col["customer_id"], "customer_name": opt("customer_name")}


# --------------------------------------------------------------------------- reading
def _read_header(path: Path) -> list[str]:
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 20)
    except OSError as exc:
        raise ImportError_(f"{path}: cannot read the file ({exc.strerror}).")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if not head.strip():
        raise ImportError_(f"{path.name}: the file is empty (a header row is required).")
    first = head.split(b"\n", 1)[0] if b'"' not in head.split(b"\n", 1)[0] else head
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(first) - 4:
            raise ImportError_(f"{path.name}: the file is not UTF-8 text (byte {exc.start + 1} of the header); "
                               f"save it as UTF-8 and import again.")
        text = first[: exc.start].decode("utf-8")
    try:
        header = next(csv.reader(io.StringIO(text)))
    except (csv.Error, StopIteration):
        raise ImportError_(f"{path.name}: the header row cannot be read as CSV.")
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


def _physical_lines(path: Path, ncols: int) -> tuple[list[int], list[int]] | None:
    """Start lines of the well-shaped records and of the mis-shaped ones, in file order.

    Only run when a reject needs its line: one pass of Python's csv module (same dialect as
    the DuckDB reader) maps DuckDB's record order to the line a text editor shows.
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
                (good if len(record) == ncols else bad).append(start)
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
        for table, path in files.items():
            _merge(con, table, path.name, import_id, period, policy, result.files[path.name], id_prefix)
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
    con.execute("DROP TABLE IF EXISTS reject_errors")
    con.execute("DROP TABLE IF EXISTS reject_scans")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE raw_{table} AS SELECT * FROM read_csv(?, columns = {columns}, "
        "header = true, delim = ',', quote = '\"', escape = '\"', auto_detect = false, "
        "strict_mode = true, store_rejects = true, encoding = 'utf-8')", [str(path)])
    shape_errors = con.execute(
        # One row per bad record (DuckDB lists a record once per missing column).
        "SELECT line, min(error_type), min(error_message), min(csv_line) FROM reject_errors "
        "GROUP BY line ORDER BY line").fetchall()
    if any(e[1] == "INVALID ENCODING" for e in shape_errors):
        line = next(e[0] for e in shape_errors if e[1] == "INVALID ENCODING")
        raise ImportError_(f"{path.name}: the file is not UTF-8 text (first bad bytes in record {line}); "
                           f"save it as UTF-8 and import again.")

    name_of = dict(zip(aliases, header))
    known = set(spec.required) | set(spec.optional)
    col = {name: f"t_{a}" for a, name in name_of.items() if name in known}
    trimmed = ", ".join(f"nullif(trim({a}), '') AS t_{a}" for a in aliases)
    checks = _checks(table, col)
    bad_col = "CASE " + " ".join(f"WHEN {c} THEN '{n}'" for n, c, _ in checks) + " END"
    bad_reason = "CASE " + " ".join(f"WHEN {c} THEN {r}" for _, c, r in checks) + " END"
    extra_cols = [a for a, name in name_of.items()
                  if name not in known and name not in (SOURCE_FILE_COLUMN, SOURCE_LINE_COLUMN)]
    if extra_cols:
        extra = "json_object(" + ", ".join(f"?, t_{a}" for a in extra_cols) + ")"
        extra_params = [name_of[a] for a in extra_cols]
    else:
        extra, extra_params = "NULL", []
    record = "json_object(" + ", ".join(f"?, {a}" for a in aliases) + ")"
    typed = _typed(table, col)
    id_expr = col[ID_COLUMN[table]]
    src_file = next((f"t_{a}" for a, n in name_of.items() if n == SOURCE_FILE_COLUMN), "NULL")
    src_line = next((f"try_cast(t_{a} AS BIGINT)" for a, n in name_of.items() if n == SOURCE_LINE_COLUMN), "NULL")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE stage_{table} AS
        WITH t AS (SELECT rowid AS ordinal, *, {trimmed} FROM raw_{table}),
        checked AS (SELECT *, {bad_col} AS bad_column, {bad_reason} AS bad_reason FROM t),
        ranked AS (SELECT *, CASE WHEN bad_column IS NULL THEN
                       row_number() OVER (PARTITION BY bad_column IS NULL, {id_expr} ORDER BY ordinal) END AS nth
                   FROM checked)
        SELECT ordinal, {src_file} AS src_file, {src_line} AS src_line,
               CASE WHEN bad_column IS NULL AND nth > 1 THEN '{ID_COLUMN[table]}' ELSE bad_column END AS bad_column,
               CASE WHEN bad_column IS NULL AND nth > 1
                    THEN 'duplicate {ID_COLUMN[table]} ' || {id_expr} || ' (an earlier line has it)'
                    ELSE bad_reason END AS bad_reason,
               {record} AS record,
               {", ".join(f"CASE WHEN bad_column IS NULL AND nth = 1 THEN {expr} END AS {name}" for name, expr in typed.items())},
               CASE WHEN bad_column IS NULL AND nth = 1 THEN {extra} END AS extra
        FROM ranked""",
        header + extra_params)
    counts = FileCounts()
    counts.read = con.execute(f"SELECT count(*) FROM raw_{table}").fetchone()[0] + len(shape_errors)
    bad = con.execute(
        f"SELECT ordinal, src_file, src_line, bad_column, bad_reason, record FROM stage_{table} "
        f"WHERE bad_reason IS NOT NULL ORDER BY ordinal").fetchall()
    counts.rejected = len(bad) + len(shape_errors)
    if counts.rejected:
        lines = _physical_lines(path, len(header))
        good_lines, bad_lines = lines if lines else (None, None)
        consistent = lines is not None and len(bad_lines) == len(shape_errors)
        file_rejects = []
        for i, (line, etype, message, csv_line) in enumerate(shape_errors):
            where = bad_lines[i] if consistent else line
            reason = ("the record has fewer fields than the header" if "MISSING" in etype
                      else "the record has more fields than the header" if "TOO MANY" in etype
                      else f"the record cannot be read as CSV ({message})")
            file_rejects.append(Reject(path.name, where, None, reason, (csv_line or "").strip("\r\n")))
        # Row ids follow the file's order but need not start at 0 (transaction-local storage):
        # a row's position is its rank among them.
        rowids = np.sort(con.execute(f"SELECT rowid FROM raw_{table}").fetchnumpy()["rowid"])
        for ordinal, sfile, sline, column, reason, rec in bad:
            if sline is not None:  # a converted tracker file: point at the user's own file
                file_rejects.append(Reject(sfile or path.name, sline, column, reason, rec))
            else:
                pos = int(np.searchsorted(rowids, ordinal))
                line = good_lines[pos] if consistent and pos < len(good_lines) else None
                file_rejects.append(Reject(path.name, line, column, reason, rec))
        _store_rejects(con, result.import_id, file_rejects)
        result.rejects.extend(file_rejects)
    return counts


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
    # New content of this import: good rows only.
    con.execute(f"CREATE OR REPLACE TEMP TABLE new_{table} AS SELECT {', '.join(cols)} FROM stage_{table} "
                f"WHERE bad_reason IS NULL")
    same = " AND ".join(f"l.{c} IS NOT DISTINCT FROM n.{c}" for c in cols)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cmp_{table} AS
        SELECT n.{idc} AS id, l.{idc} IS NULL AS is_new, l.{idc} IS NOT NULL AND NOT ({same}) AS is_changed
        FROM new_{table} n LEFT JOIN {table} l ON l.{idc} = n.{idc}""")
    counts.added, counts.replaced, counts.unchanged = con.execute(
        f"SELECT count(*) FILTER (is_new), count(*) FILTER (is_changed), "
        f"count(*) FILTER (NOT is_new AND NOT is_changed) FROM cmp_{table}").fetchone()
    live_cols = ", ".join(cols + ["import_id"])
    if counts.replaced:
        con.execute(f"""INSERT INTO {table}_history SELECT {live_cols}, ?, 'replaced' FROM {table}
                        WHERE {idc} IN (SELECT id FROM cmp_{table} WHERE is_changed)""", [import_id])
        con.execute(f"DELETE FROM {table} WHERE {idc} IN (SELECT id FROM cmp_{table} WHERE is_changed)")
    if counts.added or counts.replaced:
        con.execute(f"""INSERT INTO {table} SELECT {', '.join('n.' + c for c in cols)}, ? FROM new_{table} n
                        WHERE n.{idc} IN (SELECT id FROM cmp_{table} WHERE is_new OR is_changed)""", [import_id])
    if period and table in ("time_entries", "appointments"):
        ts = "started_at" if table == "time_entries" else "scheduled_start"
        # R1: the business day of what is stored, in the policy's zone. A row whose new
        # version was rejected keeps its old version (the reject is shown, nothing lost).
        removable = f"""SELECT l.{idc} FROM {table} l
            WHERE {business_day_sql('l.' + ts, 'l.' + ts + '_offset').replace('?', '$tz')} BETWEEN $first AND $last
              AND l.{idc} NOT IN (SELECT {idc} FROM new_{table})
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
    con.execute(f"DROP TABLE new_{table}")
    con.execute(f"DROP TABLE cmp_{table}")


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
