"""Load the canonical export (FORMATS.md) into the DuckDB store.

Every row is validated in SQL (vectorised, no per-row Python): a bad row is not loaded
and not lost: it is kept in ``rejects`` with file, line, column, reason and the record as
read. Good rows are upserted by id; a row whose content is unchanged is left alone, so
importing the same folder twice changes nothing. A replaced row, and a row removed by a
period import, keeps its previous version in ``<table>_history``. Each import is recorded
in ``imports``, bumps the data version and can be undone. An import is one transaction:
a failure or a kill mid-way leaves the database as it was.

The stages live in their own modules: ``specs`` (the files and columns), ``files`` (finding and
reading them), ``checks`` (FORMATS.md as SQL), ``stage`` (validating a file, locating its
rejects), ``merge`` (upsert and removal within a scope), ``history`` (the log, undo), and
``results`` (what an import did). This module runs them as one transaction.

The policy is not applied here (only the period of a period import is read as whole days
of the export's zone, the policy's by default, R1): the store keeps what the export said.
What a period import may remove is limited by its removal scope (``decide_scope``), and
every removed row is reported (``ImportResult.removals``) in dry runs and real runs alike.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


from billing.store import bump_data_version, data_version, open_db
from billing.load.checks import TS_FORMAT
from billing.load.files import TableSource, find_files, read_header
from billing.load.history import list_imports, undo_import
from billing.calendar import business_day_sql
from billing.load.merge import file_people, merge_table, new_customers
from billing.load.results import (
    MAX_REMOVALS_LISTED, SCOPES, FileCounts, ImportError_, ImportResult, Reject, Removal, RemovalScope,
    decide_scope, reject_groups)
from billing.load.specs import SOURCE_FILE_COLUMN, SOURCE_LINE_COLUMN, SPECS, FileSpec
from billing.load.stage import stage_file, store_rejects

__all__ = ["FileCounts", "FileSpec", "ImportError_", "ImportResult", "MAX_REMOVALS_LISTED", "Reject", "Removal",
           "RemovalScope", "SCOPES", "SOURCE_FILE_COLUMN", "SOURCE_LINE_COLUMN", "SPECS", "TS_FORMAT",
           "TableSource", "business_day_sql", "decide_scope", "find_files", "import_export", "list_imports",
           "reject_groups", "undo_import"]


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
        headers = {t: read_header(p) for t, p in files.items()}
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
            store_rejects(con, import_id, extra_rejects)
            result.rejects.extend(extra_rejects)
        for table, path in files.items():
            result.files[path.name] = stage_file(con, table, path, headers[table], result)
        removal = None
        if period:
            staff, customers = file_people(con, files)
            result.scope = decide_scope(scope, staff if scope_staff is None else scope_staff,
                                        customers if scope_customers is None else scope_customers, add_only)
            result.period_zone = zone
            removal = (period, zone, result.scope, spare)
        result.new_customers = new_customers(con, files)
        _fault_point("staged")
        gone: list[str] = []
        for table, path in files.items():
            gone += merge_table(con, table, path.name, import_id, removal, policy, result, id_prefix)
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


def _fault_point(name: str) -> None:
    """Fault injection for the crash tests: with HOURBANK_FAULT_PAUSE=<name>, the import says
    so on stderr and waits at that point, inside its transaction, to be killed."""
    if os.environ.get("HOURBANK_FAULT_PAUSE") == name:
        import sys
        import time

        print(f"paused at {name}", file=sys.stderr, flush=True)
        time.sleep(60)
