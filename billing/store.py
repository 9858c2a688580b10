"""The DuckDB file: schema, and opening it only for as long as a command needs it.

DuckDB lets one process hold a file read-write, and then no other process may open it,
not even read-only. So every command (and every dashboard rerun) opens the file, does
its work and closes it; when another process holds it, we wait a few seconds and then
say so in one sentence.

What is stored is what the export said: wall times as written (``*_at``) with the
UTC offset in seconds when one was given (``*_at_offset``, NULL = written without an
offset), minutes as integer microseconds (``*_us``). The policy is applied when a
report is computed, never here.
"""
from __future__ import annotations

import os
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from billing.errors import HourbankError

SCHEMA_VERSION = "1"
# The database the dashboard and the command line use unless HOURBANK_DB (or --db) names another.
DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "hourbank.duckdb"
LOCK_WAIT_SECONDS = float(os.environ.get("HOURBANK_LOCK_WAIT", "5"))

# Live tables: one row per id, with the import that last wrote it.
TABLES = {
    "time_entries": """
        entry_id VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        customer_name VARCHAR,
        staff VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        started_at_offset INTEGER,
        minutes_us BIGINT NOT NULL,
        tier VARCHAR NOT NULL,
        activity VARCHAR,
        appointment_id VARCHAR,
        customer_requested BOOLEAN NOT NULL,
        notes VARCHAR,
        extra VARCHAR,
        import_id INTEGER NOT NULL""",
    "appointments": """
        appointment_id VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        staff VARCHAR,
        scheduled_start TIMESTAMP NOT NULL,
        scheduled_start_offset INTEGER,
        scheduled_us BIGINT NOT NULL,
        status VARCHAR NOT NULL,
        cancelled_at TIMESTAMP,
        cancelled_at_offset INTEGER,
        cancelled_by VARCHAR,
        extra VARCHAR,
        import_id INTEGER NOT NULL""",
    "purchases": """
        purchase_id VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        purchased_at TIMESTAMP NOT NULL,
        purchased_at_offset INTEGER,
        date_only BOOLEAN NOT NULL,
        minutes_us BIGINT NOT NULL,
        amount VARCHAR,
        extra VARCHAR,
        import_id INTEGER NOT NULL""",
    "customers": """
        customer_id VARCHAR NOT NULL,
        customer_name VARCHAR,
        extra VARCHAR,
        import_id INTEGER NOT NULL""",
}
ID_COLUMN = {
    "time_entries": "entry_id",
    "appointments": "appointment_id",
    "purchases": "purchase_id",
    "customers": "customer_id",
}

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS imports (
        import_id INTEGER PRIMARY KEY,
        imported_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL,
        files VARCHAR NOT NULL,
        period_from DATE,
        period_to DATE,
        added INTEGER NOT NULL,
        replaced INTEGER NOT NULL,
        removed INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        undone_at TIMESTAMP,
        notes VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS statements (
        statement_id INTEGER PRIMARY KEY,
        issued_at TIMESTAMP NOT NULL,
        issued_by VARCHAR,
        customer_id VARCHAR NOT NULL,
        period_from DATE NOT NULL,
        period_to DATE NOT NULL,
        as_of DATE NOT NULL,
        data_version INTEGER NOT NULL,
        policy VARCHAR NOT NULL,
        figures VARCHAR NOT NULL,
        files VARCHAR NOT NULL,
        note VARCHAR)""",
    "CREATE TABLE IF NOT EXISTS statement_files (statement_id INTEGER NOT NULL, name VARCHAR NOT NULL, data BLOB)",
    # What the alerts sent (billing.alerts.journal): one row per alert per message, so that each
    # alert goes to each recipient once; a digest has a row of its own (kind 'digest') and its
    # alerts' rows name it (digest). Failed attempts are kept too: they are retried and shown.
    """CREATE TABLE IF NOT EXISTS alerts_sent (
        message_id BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        customer_id VARCHAR,
        purchase_id VARCHAR,
        threshold VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        recipient VARCHAR NOT NULL,
        audience VARCHAR NOT NULL,
        digest VARCHAR,
        as_of DATE NOT NULL,
        attempted_at TIMESTAMP NOT NULL,
        outcome VARCHAR NOT NULL,
        error VARCHAR,
        subject VARCHAR NOT NULL)""",
    # Links to a customer's own read-only page (billing.share): who made each, until when it is
    # good, and who revoked it. Instants in UTC.
    """CREATE TABLE IF NOT EXISTS share_links (
        link_id VARCHAR PRIMARY KEY,
        customer_id VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR,
        expires_at TIMESTAMP NOT NULL,
        revoked_at TIMESTAMP,
        revoked_by VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS rejects (
        import_id INTEGER NOT NULL,
        file VARCHAR NOT NULL,
        line BIGINT,
        "column" VARCHAR,
        reason VARCHAR NOT NULL,
        record VARCHAR)""",
]
# R12 closed periods (billing.closing): the closes and reopens, and each close's snapshot.
SCHEMA += [
    """CREATE TABLE IF NOT EXISTS closings (
        closing_id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, day DATE NOT NULL,
        recorded_at TIMESTAMP NOT NULL, recorded_by VARCHAR NOT NULL, reason VARCHAR,
        policy VARCHAR NOT NULL, data_version INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS closed_days (
        closing_id INTEGER NOT NULL, customer_id VARCHAR NOT NULL, day DATE NOT NULL, late_for DATE,
        adhoc_raw_us BIGINT, adhoc_billed_us BIGINT, session_us BIGINT, fee_us BIGINT, charged_us BIGINT,
        general_us BIGINT, billable_us BIGINT, session_logged_us BIGINT, top_up_us BIGINT,
        covered_us BIGINT, uncovered_us BIGINT)""",
    """CREATE TABLE IF NOT EXISTS closed_truth (
        closing_id INTEGER NOT NULL, customer_id VARCHAR NOT NULL, day DATE NOT NULL,
        adhoc_raw_us BIGINT, adhoc_billed_us BIGINT, session_us BIGINT, fee_us BIGINT, charged_us BIGINT,
        general_us BIGINT, billable_us BIGINT)""",
    """CREATE TABLE IF NOT EXISTS closed_blocks (
        closing_id INTEGER NOT NULL, purchase_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL, source VARCHAR, purchased_on DATE NOT NULL, expires_on DATE NOT NULL,
        base_expires_on DATE, purchased_utc TIMESTAMP, purchased_us BIGINT NOT NULL, used_us BIGINT NOT NULL,
        rolled_over_us BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS closed_draws (
        closing_id INTEGER NOT NULL, customer_id VARCHAR NOT NULL, day DATE NOT NULL, purchase_id VARCHAR NOT NULL,
        drawn_us BIGINT NOT NULL, paid_on DATE NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS closed_fees (
        closing_id INTEGER NOT NULL, appointment_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL,
        day DATE NOT NULL, status VARCHAR, cancelled_by VARCHAR, fee_kind VARCHAR, fee_us BIGINT NOT NULL,
        notice_us BIGINT, waived_by BIGINT, scheduled_start TIMESTAMP, scheduled_start_offset INTEGER,
        cancelled_at TIMESTAMP, cancelled_at_offset INTEGER, staff VARCHAR)""",
    # The time entries of the days a close froze (those after the close it followed), as they
    # were then and as classified then (kind: adhoc, session, general, held or excluded), so
    # that a statement of a closed period explains its frozen figures with the entries they
    # were computed from, whatever is imported or adjusted later.
    """CREATE TABLE IF NOT EXISTS closed_entries (
        closing_id INTEGER NOT NULL, customer_id VARCHAR NOT NULL, day DATE NOT NULL, entry_id VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL, started_at_offset INTEGER, staff VARCHAR, activity VARCHAR,
        tier VARCHAR, minutes_us BIGINT NOT NULL, customer_requested BOOLEAN, appointment_id VARCHAR,
        notes VARCHAR, kind VARCHAR NOT NULL, hold_reason VARCHAR)""",
]
# A database closed before the close kept each fee's times and staff gets the columns on its
# next read-write open (empty for those closes); reads tolerate their absence (billing.closing).
SCHEMA += [f"ALTER TABLE closed_fees ADD COLUMN IF NOT EXISTS {name} {kind}" for name, kind in (
    ("scheduled_start", "TIMESTAMP"), ("scheduled_start_offset", "INTEGER"), ("cancelled_at", "TIMESTAMP"),
    ("cancelled_at_offset", "INTEGER"), ("staff", "VARCHAR"))]
# R10 adjustments (billing/adjustments.py): recorded beside the imports, never changing them.
# A database made before this table existed gets it on its next read-write open; reads
# (billing.adjustments.in_force) find it missing and see no adjustments.
SCHEMA.append("""CREATE TABLE IF NOT EXISTS adjustments (
        adjustment_id INTEGER PRIMARY KEY,
        kind VARCHAR NOT NULL,
        target VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        on_day DATE NOT NULL,
        to_day DATE,
        minutes_us BIGINT,
        reason VARCHAR NOT NULL,
        recorded_by VARCHAR NOT NULL,
        recorded_at TIMESTAMP NOT NULL)""")
for _name, _cols in TABLES.items():
    SCHEMA.append(f"CREATE TABLE IF NOT EXISTS {_name} ({_cols})")
    # Previous versions: a row replaced or removed by import `superseded_by`.
    SCHEMA.append(
        f"CREATE TABLE IF NOT EXISTS {_name}_history ({_cols}, superseded_by INTEGER NOT NULL, "
        f"change VARCHAR NOT NULL)")


class DatabaseBusy(HourbankError):
    pass


class DatabaseError(HourbankError):
    pass


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


def _is_config_conflict(exc: Exception) -> bool:
    """This process has the file open the other way (read-only vs read-write): DuckDB refuses
    a second instance of one file with another configuration. It clears when that closes."""
    return "different configuration" in str(exc)


def _busy(path: Path, wait_seconds: float) -> DatabaseBusy:
    return DatabaseBusy(f"{path}: the database is in use by another process (an import or another "
                        f"command); waited {wait_seconds:g} s, try again when it has finished.")


class _Gate:
    """Within this process, per database file: any number of read-only opens at once, or one
    read-write open; a waiting writer goes first, so a stream of readers cannot starve it.

    DuckDB refuses to open a file read-write in a process that has it open read-only (and the
    other way round), so without this the dashboard's own import (Import page) and the other
    sessions' reads failed each other with "different configuration". A thread that already
    holds the gate (a nested open) passes straight through.
    """

    def __init__(self):
        # DuckDB's file lock is a POSIX record lock, which belongs to the process: closing any
        # descriptor of the file drops it, even one another DuckDB instance of the file opened.
        # Connections share one instance per file; the last close tears it down (and closes its
        # descriptor, slowly on a busy machine) while another thread's connect could already
        # open a new instance, or two threads' connects open two: then the teardown or the
        # second close left a live instance with no lock, an import of another process wrote
        # the file under it, and reads through it saw the previous data version. So connects
        # and closes of one file take turns (``instances``); queries do not wait for it.
        self.instances = threading.Lock()
        self.cond = threading.Condition()
        self.readers = 0
        self.writing = False
        self.writers_waiting = 0
        self.held = threading.local()

    @contextmanager
    def hold(self, write: bool, deadline: float, path: Path, wait_seconds: float):
        if getattr(self.held, "depth", 0):
            self.held.depth += 1
            try:
                yield
            finally:
                self.held.depth -= 1
            return
        with self.cond:
            if write:
                self.writers_waiting += 1
            try:
                while self.writing or (self.readers if write else self.writers_waiting):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise _busy(path, wait_seconds)
                    self.cond.wait(left)
            finally:
                if write:
                    self.writers_waiting -= 1
                    self.cond.notify_all()
            if write:
                self.writing = True
            else:
                self.readers += 1
        self.held.depth = 1
        try:
            yield
        finally:
            self.held.depth = 0
            with self.cond:
                if write:
                    self.writing = False
                else:
                    self.readers -= 1
                self.cond.notify_all()


class _WriterWaiting:
    """Across processes: a read-write open that finds the file locked holds an exclusive flock
    on ``<db>.lock`` until it gets in, and read-only opens do not start while that is held.
    Without it the dashboard's sessions, reading one after another, kept the file share-locked
    and a command line import waited out HOURBANK_LOCK_WAIT and failed (tests/test_concurrency.py).
    Where flock is missing (Windows) or the folder is not writable, this does nothing."""

    def __init__(self, path: Path):
        self.path = Path(str(path) + ".lock")
        self.fd: int | None = None

    def announce(self) -> None:
        if self.fd is not None or fcntl is None:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another writer is already waiting: it goes first
            os.close(fd)
            return
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None

    def waiting(self) -> bool:
        """True while a writer (of another process) waits for the file."""
        if fcntl is None:
            return False
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except OSError:
            return True
        finally:
            os.close(fd)


_gates: dict[str, _Gate] = {}
_gates_lock = threading.Lock()


def _gate(path: Path) -> _Gate:
    key = os.path.realpath(path)
    with _gates_lock:
        return _gates.setdefault(key, _Gate())


def _connect(path: Path, read_only: bool, wait_seconds: float,
             deadline: float | None = None) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds if deadline is None else deadline
    delay = 0.05
    intent = _WriterWaiting(path)
    try:
        while True:
            if read_only and intent.waiting():
                if time.monotonic() >= deadline:
                    raise _busy(path, wait_seconds)
                time.sleep(0.02)
                continue
            try:
                with _gate(path).instances:
                    return duckdb.connect(str(path), read_only=read_only)
            except duckdb.Error as exc:
                if not (_is_lock_error(exc) or _is_config_conflict(exc)):
                    raise DatabaseError(_unusable_file(path, exc)
                                        or f"{path}: cannot open the database ({_first_line(exc)}).") from None
                if time.monotonic() >= deadline:
                    raise _busy(path, wait_seconds) from None
                if not read_only:
                    intent.announce()
                time.sleep(delay)
                delay = min(delay * 2, 0.1 if intent.fd is not None else 0.5)
    finally:
        intent.release()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


_NOT_DUCKDB = ("not a valid DuckDB database file",)
_DAMAGED = ("Corrupt database file", "checksum", "Could not read enough bytes", "has been invalidated",
            "Failed to read", "Serialization Error", "Invalid block", "invalid block")


def _unusable_file(path: Path, exc: Exception) -> str | None:
    """One sentence for a database file that cannot be used (not DuckDB, another DuckDB storage
    version, damaged), or None when ``exc`` is something else. DuckDB finds damage when it
    reads the damaged block, which may be at open or later in any query."""
    text = str(exc)
    version = re.search(r"storage version number (\d+), but we can only read storage versions? "
                        r"(?:between )?(\d+)(?: and (\d+))?", text)
    if version or "storage version" in text:
        found = version.group(1) if version else "?"
        readable = (f"{version.group(2)}–{version.group(3)}" if version and version.group(3)
                    else version.group(2) if version else "another")
        return (f"{path}: the database file was written by another DuckDB version (storage version "
                f"{found}; DuckDB {duckdb.__version__} here reads {readable}); open it with the DuckDB "
                f"that wrote it and export the data, or import the exports again into a new file.")
    if any(marker in text for marker in _NOT_DUCKDB):
        return (f"{path}: this file is not a DuckDB database (empty, overwritten or another kind of "
                f"file); point --db or HOURBANK_DB at the Hourbank database, or import the exports "
                f"into a new file.")
    if any(marker in text for marker in _DAMAGED):
        return (f"{path}: the database file is damaged ({_first_line(exc)}); restore it from a "
                f"backup, or import the exports again into a new file.")
    return None


@contextmanager
def open_db(path: str | Path, read_only: bool = False, wait_seconds: float | None = None):
    """Open the database for one command and close it afterwards.

    Read-write opens create the file and the schema. A read-only open of a file that does
    not exist is an error that names it.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise DatabaseError(f"{path}: no such database; import an export first "
                            f"(python -m billing import EXPORT_DIR --db {path}).")
    wait = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    gate = _gate(path)
    with gate.hold(not read_only, deadline, path, wait):
        con = _connect(path, read_only, wait, deadline)
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            if not read_only:
                ensure_schema(con)
            else:
                check_schema(con, path)
            yield con
        except duckdb.Error as exc:
            # A damaged file is found when a query reads the damaged block: one sentence.
            message = _unusable_file(path, exc)
            if message is None:
                raise
            raise DatabaseError(message) from None
        finally:
            try:
                with gate.instances:   # the last close tears the instance down: not during a connect
                    con.close()
            except duckdb.Error:  # closing an instance DuckDB has invalidated (damage found)
                pass


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """The block as one transaction on ``con``: committed when it ends, rolled back when it
    raises anything (an interrupt too) and the error raised again, so nothing is half-written."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables and meta rows that do not exist yet (idempotent)."""
    for statement in SCHEMA:
        con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [SCHEMA_VERSION])
    con.execute("INSERT INTO meta VALUES ('data_version', '0') ON CONFLICT DO NOTHING")


def check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Raise DatabaseError (one sentence naming ``path``) unless ``con`` is an Hourbank
    database of the schema version this code understands."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.CatalogException:
        raise DatabaseError(f"{path}: this is not an Hourbank database (no 'meta' table).") from None
    if row is None or row[0] != SCHEMA_VERSION:
        raise DatabaseError(f"{path}: database schema version {row[0] if row else '?'} is not the "
                            f"one this Hourbank understands ({SCHEMA_VERSION}).")


def data_version(con) -> int:
    """A number bumped by every import and undo: caches key on it."""
    row = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
    return int(row[0]) if row else 0


def bump_data_version(con) -> int:
    """Increase the data version by one (inside the import's transaction) and return it."""
    version = data_version(con) + 1
    con.execute("UPDATE meta SET value = ? WHERE key = 'data_version'", [str(version)])
    return version
