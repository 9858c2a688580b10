"""Staging one file: every row validated in SQL into a temporary table, and the rejects
located (file, line, column, reason) and stored with the import."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from billing.store import ID_COLUMN
from billing.load.checks import plan_for
from billing.load.files import TableSource, physical_lines, unreadable_csv
from billing.load.results import FileCounts, ImportError_, ImportResult, Reject
from billing.load.specs import SOURCE_FILE_COLUMN, SOURCE_LINE_COLUMN, SPECS


def _reader(con, table: str, path, aliases: list[str]) -> str:
    """The SQL that reads a file's rows as text columns c0..cN (one parameter: the file path)."""
    if isinstance(path, TableSource):
        import pyarrow as pa

        con.complete()  # register() refuses to run past a half-read result
        # In batches, so that DuckDB scans them on every core (one batch is one thread).
        renamed = path.table.rename_columns(aliases)
        con.register(f"memory_{table}", pa.Table.from_batches(renamed.to_batches(max_chunksize=1 << 17),
                                                              schema=renamed.schema))
        return f"(SELECT * FROM memory_{table} WHERE ? IS NOT NULL)"  # the same one parameter as read_csv
    columns = "{" + ", ".join(f"'{a}': 'VARCHAR'" for a in aliases) + "}"
    return (f"read_csv(?, columns = {columns}, header = true, delim = ',', quote = '\"', escape = '\"', "
            "auto_detect = false, strict_mode = true, store_rejects = true, encoding = 'utf-8')")


@dataclass
class _StageSql:
    """The SQL that validates one file's rows into ``stage_<table>`` (FORMATS.md checks, the
    first failing check of a row its reason; good rows typed; extra columns as JSON)."""
    table: str
    header: list[str]
    aliases: list[str]

    def __post_init__(self) -> None:
        spec = SPECS[self.table]
        name_of = dict(zip(self.aliases, self.header))
        known = set(spec.required) | set(spec.optional)
        self.plan = plan_for(self.table, {name: f"t_{a}" for a, name in name_of.items() if name in known})
        checks = self.plan.checks
        self.bad_check = "CASE " + " ".join(f"WHEN {c} THEN {i}" for i, (_, c, _) in enumerate(checks)) + " END"
        self.bad_column = "CASE bad_check " + " ".join(f"WHEN {i} THEN '{n}'" for i, (n, _, _) in enumerate(checks)) + " END"
        self.bad_reason = "CASE bad_check " + " ".join(f"WHEN {i} THEN {r}" for i, (_, _, r) in enumerate(checks)) + " END"
        extra_cols = [a for a, name in name_of.items()
                      if (name not in known or name in spec.in_extra)
                      and name not in (SOURCE_FILE_COLUMN, SOURCE_LINE_COLUMN)]
        self.extra = "json_object(" + ", ".join(f"?, t_{a}" for a in extra_cols) + ")" if extra_cols else "NULL"
        self.extra_params = [name_of[a] for a in extra_cols]
        self.record = "json_object(" + ", ".join(f"?, {a}" for a in self.aliases) + ")"
        self.src_file = next((f"t_{a}" for a, n in name_of.items() if n == SOURCE_FILE_COLUMN), "NULL")
        self.src_line = next((f"try_cast(t_{a} AS BIGINT)" for a, n in name_of.items() if n == SOURCE_LINE_COLUMN),
                             "NULL")

    def build(self, con, source: str, ordinal: str, params: list) -> None:
        """Validate every row of ``source`` into stage_<table>."""
        def select(items: dict) -> str:
            return "".join(f", {expr} AS {name}" for name, expr in items.items())

        trimmed = ", ".join(f"nullif(trim({a}), '') AS t_{a}" for a in self.aliases)
        typed = "".join(f", CASE WHEN bad_check IS NULL THEN {expr} END AS {name}" for name, expr in self.plan.typed.items())
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE stage_{self.table} AS
            WITH t AS (SELECT {ordinal} AS ordinal, *, {trimmed} FROM {source}),
            p1 AS (SELECT *{select(self.plan.parsed)} FROM t),
            p2 AS (SELECT *{select(self.plan.walls)} FROM p1),
            checked AS (SELECT *, {self.bad_check} AS bad_check FROM p2)
            SELECT ordinal, {self.src_file} AS src_file, {self.src_line} AS src_line,
                   {self.bad_column} AS bad_column, {self.bad_reason} AS bad_reason,
                   CASE WHEN bad_check IS NOT NULL THEN {self.record} END AS record{typed},
                   CASE WHEN bad_check IS NULL THEN {self.extra} END AS extra
            FROM checked""",
            params + self.header + self.extra_params)


def _shape_errors_of(con, path, run) -> list[tuple]:
    """Run a statement that reads the file; returns the records of the wrong shape (line,
    error type, message, the record as read). Raises ImportError_ for a file DuckDB's strict
    reader cannot read or that is not UTF-8."""
    if isinstance(path, TableSource):  # a table has no records of the wrong shape
        run()
        return []
    con.execute("DROP TABLE IF EXISTS reject_errors")
    con.execute("DROP TABLE IF EXISTS reject_scans")
    try:
        run()
    except duckdb.InvalidInputException:
        # DuckDB's strict reader stops (no reject row) on a carriage return inside an
        # unquoted value: say where, as one sentence; the transaction loads nothing.
        raise ImportError_(unreadable_csv(path)) from None
    errors = con.execute(
        # One row per bad record (DuckDB lists a record once per missing column).
        "SELECT line, min(error_type), min(error_message), min(csv_line) FROM reject_errors "
        "GROUP BY line ORDER BY line").fetchall()
    if any(e[1] == "INVALID ENCODING" for e in errors):
        line = next(e[0] for e in errors if e[1] == "INVALID ENCODING")
        raise ImportError_(f"{path.name}: the file is not UTF-8 text (first bad bytes in record {line}); "
                           f"save it as UTF-8 and import again.")
    return errors


def stage_file(con, table: str, path, header: list[str], result: ImportResult) -> FileCounts:
    """Validate one canonical file (a path, or a TableSource held in memory) into the temporary
    table ``stage_<table>``: per row its typed values, or the column and reason of its first
    failing check (FORMATS.md). Rejects are located (line, column, reason, record), stored with
    the import and added to ``result``. Returns the file's read and rejected counts. Raises
    ImportError_ for a file that cannot be read at all."""
    aliases = [f"c{i}" for i in range(len(header))]
    read = _reader(con, table, path, aliases)
    sql = _StageSql(table, header, aliases)
    # Straight from the file: no copy of the raw text is kept, rows carry no position.
    shape_errors = _shape_errors_of(con, path, lambda: sql.build(con, read, "CAST(NULL AS BIGINT)", [str(path)]))
    # Inside one import the first good row with an id wins; later good rows with the same id
    # are rejected as duplicates (a rejected row does not claim its id). Checked with one
    # aggregate; only when there are duplicates is the file read again with row positions.
    idc = ID_COLUMN[table]
    good, distinct = con.execute(f"SELECT count(*), count(DISTINCT {idc}) FROM stage_{table} "
                                 f"WHERE bad_reason IS NULL").fetchone()
    ordered = good != distinct
    if ordered:
        shape_errors = _shape_errors_of(con, path, lambda: con.execute(
            f"CREATE OR REPLACE TEMP TABLE raw_{table} AS SELECT * FROM {read}", [str(path)]))
        sql.build(con, f"raw_{table}", "rowid", [])
        con.execute(f"""UPDATE stage_{table} AS s SET bad_column = '{idc}',
                bad_reason = 'duplicate {idc} ' || s.{idc} || ' (an earlier line has it)', record = r.rec
            FROM (SELECT rowid AS ordinal, {sql.record} AS rec FROM raw_{table}) AS r
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
        result.rejects.extend(locate_rejects(con, table, path, header, shape_errors, bad, ordered, result.import_id))
    return counts


def locate_rejects(con, table: str, path: Path, header: list[str], shape_errors, bad, ordered: bool,
            import_id: int) -> list[Reject]:
    """The rejects of one file, each with the line a text editor shows, stored with the import."""
    rejects: list[Reject] = []
    if ordered:
        # Row ids follow the file's order but need not start at 0 (transaction-local storage):
        # a row's position is its rank among them, and its line the position's good line.
        lines = physical_lines(path, len(header))
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
        lines = physical_lines(path, len(header), wanted)
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
    store_rejects(con, import_id, rejects)
    return rejects


def store_rejects(con, import_id: int, rejects: list[Reject]) -> None:
    con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?)",
                    [[import_id, r.file, r.line, r.column, r.reason, r.record] for r in rejects])
