"""The dashboard's data access: which database and policy, its data version, cached reads.

No Streamlit here (billing/ is the engine's package); the dashboard calls these functions.

- The database file is opened read-only, per read, and closed again at once: the command
  line's ``import`` (which needs the file to itself) is never locked out for longer than one
  read, and a rerun after an import sees the new data.
- ``current_version`` tells the data version without opening the file when the file has
  not changed since the last look (opening costs ~60 ms; a stat costs microseconds).
- Every cached read is keyed on small scalars: the database path, its data version, the
  policy's content (fingerprint) and the filters. A read made for version v checks, on its
  own connection, that the file is still at v and raises ``SnapshotChanged`` otherwise, so
  one rerun never mixes two versions: the dashboard reruns and reads the new one.
"""
from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import pandas as pd

from billing.errors import HourbankError
from billing.customers import customers_frame
from billing.policy import DEFAULT_POLICY_PATH, Policy, load_policy
from billing.store import DEFAULT_DB, DatabaseBusy, data_version, open_db

ROOT = Path(__file__).resolve().parent.parent
DEMO_EXPORT = ROOT / "data" / "demo_export"
READ_WAIT_SECONDS = 3.0    # the version probe: then the last version seen is shown (stale)
# A cached read that is not in the cache yet waits ten times as long (30 s) for a running
# import to finish (then the version check sends the rerun to the new data) rather than
# failing after the probe's 3 s: an import of a sizeable export on a busy machine takes
# longer than that, and a session must not see an error because an import committed.
DATA_WAIT_FACTOR = 10


class SnapshotChanged(HourbankError):
    """The database changed (an import or undo) while a rerun was reading it."""


class NoDatabase(HourbankError):
    pass


# --------------------------------------------------------------------------- configuration
def db_path() -> Path:
    """``HOURBANK_DB``, or the demo database under data/."""
    value = os.environ.get("HOURBANK_DB", "").strip()
    return Path(value) if value else DEFAULT_DB


def db_chosen_by_user() -> bool:
    """True when HOURBANK_DB names a database (then the demo is never built into it)."""
    return bool(os.environ.get("HOURBANK_DB", "").strip())


def policy_path() -> Path:
    """``HOURBANK_POLICY``, or billing.toml beside the project."""
    value = os.environ.get("HOURBANK_POLICY", "").strip()
    return Path(value) if value else DEFAULT_POLICY_PATH


def active_policy() -> Policy:
    """The policy file's settings; a PolicyError (one sentence naming the key) if bad.
    Read on every rerun (it is tiny), so an edited billing.toml applies on the next one."""
    return load_policy(policy_path())


_demo_lock = threading.Lock()


def ensure_demo_db(path: Path | None = None, today: date | None = None) -> bool:
    """Build the demo database on first run (only the default one: a database the user
    named with HOURBANK_DB is never built). Returns True when it was built now."""
    path = path or DEFAULT_DB
    if db_chosen_by_user() or path.exists():
        return False
    with _demo_lock:
        if path.exists():
            return False
        from billing.demo import write_demo
        from billing.load import import_export

        write_demo(DEMO_EXPORT, today=today)
        path.parent.mkdir(parents=True, exist_ok=True)
        import_export(path, DEMO_EXPORT, policy=active_policy(), label="demo data")
        return True


# --------------------------------------------------------------------------- data version
_signatures: dict[str, tuple[tuple, int]] = {}
_sig_lock = threading.Lock()


def _file_signature(path: Path) -> tuple:
    """What changes whenever the file's content does: times (modification and change), size and
    inode of the file and its WAL. The file itself is never opened here: closing any descriptor
    of it would drop the POSIX locks DuckDB holds on it in this process."""
    sig = []
    for p in (path, Path(str(path) + ".wal")):
        try:
            st = p.stat()
            sig.append((st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))
        except FileNotFoundError:
            sig.append(None)
    return tuple(sig)


@dataclass(frozen=True)
class Version:
    number: int
    stale: bool = False   # the file is busy (an import is running): the last version seen


def current_version(path: Path) -> Version:
    """The data version of the database file, opening it only when the file has changed.

    While another process writes it (an import), the last version seen is returned with
    ``stale=True``; with none seen yet, DatabaseBusy is raised (one sentence)."""
    path = Path(path)
    if not path.exists():
        raise NoDatabase(f"{path}: no such database; import an export first "
                         f"(python -m billing import EXPORT_DIR --db {path}).")
    key = str(path.resolve())
    sig = _file_signature(path)
    with _sig_lock:
        known = _signatures.get(key)
    if known is not None and known[0] == sig:
        return Version(known[1])
    try:
        with open_db(path, read_only=True, wait_seconds=READ_WAIT_SECONDS) as con:
            number = data_version(con)
    except DatabaseBusy:
        if known is not None:
            return Version(known[1], stale=True)
        raise
    # Remember the pair only if the file did not change while it was read (otherwise the next
    # look opens it again), and never let an older pair replace a newer one: versions only grow.
    if _file_signature(path) == sig:
        with _sig_lock:
            current = _signatures.get(key)
            if current is None or current[1] <= number:
                _signatures[key] = (sig, number)
    return Version(number)


# --------------------------------------------------------------------------- the cache
class _Cache:
    """A small thread-safe LRU cache; values are shared, never mutated by readers."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict = {}

    def get_or_compute(self, key: tuple, compute: Callable[[], object]):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one computation per key, even when sessions ask at once
            with self._lock:
                if key in self._data:
                    return self._data[key]
            value = compute()
            with self._lock:
                self._data[key] = value
                self._data.move_to_end(key)
                while len(self._data) > self.max_entries:
                    self._data.popitem(last=False)
                self._key_locks.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_books_cache = _Cache(max_entries=6)     # big frames: few entries
_small_cache = _Cache(max_entries=256)   # aggregates, lists, reviews


def clear_caches() -> None:
    """Forget every cached read and every data version seen (after an import, undo or issue)."""
    _books_cache.clear()
    _small_cache.clear()
    with _sig_lock:
        _signatures.clear()


def _read(path: Path, version: int, work: Callable):
    """Open read-only, check the version is still ``version``, run ``work(con)``, close."""
    with open_db(path, read_only=True, wait_seconds=READ_WAIT_SECONDS * DATA_WAIT_FACTOR) as con:
        now = data_version(con)
        if now != version:
            raise SnapshotChanged(f"{path}: the data changed (version {version} → {now}) while reading; "
                                  f"reading again.")
        return work(con)


# --------------------------------------------------------------------------- the cache decorator
def _key_part(value):
    """A cache key's part for an argument: small scalars as they are, a Policy as its
    fingerprint, filters as their key(), a path as text, a list as a tuple."""
    if isinstance(value, Policy):
        return ("policy", value.fingerprint())
    if hasattr(value, "key") and callable(value.key):
        return value.key()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def cached(fn: Callable | None = None, *, cache: _Cache | None = None):
    """Decorator: ``fn``'s result is computed once per its arguments and shared.

    The arguments must be small scalars (database path, data version, dates, strings, tuples)
    or a Policy (keyed on its fingerprint) or page filters (keyed on ``key()``): never a
    DataFrame, whose hash would cost a pass over it. A key that includes the data version is
    dropped with the version's reads by ``clear_caches``. ``cache``: which cache (default the
    one for small results).
    """
    def wrap(f):
        store = cache or _small_cache

        @functools.wraps(f)
        def run(*args, **kwargs):
            key = (f.__module__, f.__qualname__, tuple(_key_part(a) for a in args),
                   tuple(sorted((k, _key_part(v)) for k, v in kwargs.items())))
            return store.get_or_compute(key, lambda: f(*args, **kwargs))
        return run
    return wrap(fn) if fn is not None else wrap


# --------------------------------------------------------------------------- cached reads
@cached(cache=_books_cache)
def books(path: Path, version: int, policy: Policy, as_of: date):
    """compute_books for every customer as of T (R1-R9), cached per (db, version, policy, T)."""
    from billing.reports import compute_books

    return _read(path, version, lambda con: compute_books(con, policy, as_of))


@cached
def customers(path: Path, version: int) -> pd.DataFrame:
    """Every customer id in the data with its name (billing.customers): customer_id, customer_name."""
    return _read(path, version, customers_frame)


def customer_names(path: Path, version: int) -> dict[str, str]:
    """customer_id → name for the customers the data names (billing.customers)."""
    frame = customers(path, version)
    return {cid: name for cid, name in zip(frame["customer_id"], frame["customer_name"]) if name}


@cached
def staff(path: Path, version: int) -> list[str]:
    """Every staff member named by an entry or an appointment, sorted."""
    def work(con):
        rows = con.execute("""SELECT staff FROM time_entries UNION SELECT staff FROM appointments
                              WHERE staff IS NOT NULL AND staff <> '' ORDER BY 1""").fetchall()
        return [r[0] for r in rows if r[0]]
    return _read(path, version, work)


@cached
def entry_usage(path: Path, version: int, policy: Policy, as_of: date, start: date, end: date,
                customers_: tuple[str, ...] = (), staff_: tuple[str, ...] = ()) -> pd.DataFrame:
    """Logged minutes of the period's entries (not held: R4; not excluded by an adjustment in
    force as of T: R10) per staff, activity and kind (adhoc/session/general, R2/R4/R5), for
    the chosen customers and staff: columns staff, activity ('(none)' when empty), kind,
    minutes_us, entries."""
    from billing.adjusting import adjustments_as_of, excluded_entries
    from billing.rules import classified_entries_sql

    params = {"tz": policy.timezone, "asof": as_of, "start": start, "end": end}
    where = "AND e.day BETWEEN $start AND $end" + _chosen(customers_, staff_, params)

    def work(con):
        # Held entries (R4) and those an adjustment excludes (R10) count toward nothing.
        excluded = excluded_entries(adjustments_as_of(con, as_of))
        return con.execute(f"""
            SELECT staff, coalesce(nullif(activity, ''), '(none)') AS activity, kind,
                   CAST(sum(minutes_us) AS BIGINT) AS minutes_us, count(*) AS entries
            FROM ({classified_entries_sql(where, excluded)}) WHERE kind NOT IN ('held', 'excluded')
            GROUP BY ALL ORDER BY ALL""", params).df()
    return _read(path, version, work)


def _chosen(customers_: tuple[str, ...], staff_: tuple[str, ...], params: dict) -> str:
    """SQL ``AND`` conditions on entries ``e`` for the chosen customers and staff (none chosen:
    all), their lists added to ``params``."""
    where = ""
    if customers_:
        where += " AND list_contains($customers, e.customer_id)"
        params["customers"] = list(customers_)
    if staff_:
        where += " AND list_contains($staff, e.staff)"
        params["staff"] = list(staff_)
    return where


@cached
def review(path: Path, version: int, policy: Policy, as_of: date) -> pd.DataFrame:
    """The engine's review frame (held entries, empty sessions, stale appointments, tiny entries)."""
    from billing.reports import review_frame

    from billing.adjusting import excluded_entries

    b = books(path, version, policy, as_of)
    excluded = excluded_entries(b.adjustments) if b.adjustments is not None else ()
    return _read(path, version, lambda con: review_frame(con, policy, as_of, b.appointments, excluded=excluded))


@cached
def recent_imports(path: Path, version: int, limit: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last ``limit`` imports and their rejected rows (file, line, column, reason)."""
    def work(con):
        imports = con.execute("SELECT * FROM imports ORDER BY import_id DESC LIMIT ?", [limit]).df()
        rejects = con.execute("""
            SELECT import_id, file, line, "column", reason, record FROM rejects
            WHERE import_id IN (SELECT import_id FROM imports ORDER BY import_id DESC LIMIT ?)
            ORDER BY import_id DESC, file, line""", [limit]).df()
        return imports, rejects
    return _read(path, version, work)


@cached
def statement(path: Path, version: int, policy: Policy, customer: str, first: date, last: date, as_of: date,
              for_people: bool = True):
    """billing.statement.build_statement of one customer and period as of T: its texts in
    hours and whole minutes (billing.display), as the page and the downloads show them;
    ``for_people=False``: to 1/100 minute (billing.statement_model.format_minutes)."""
    from billing.display import duration_text
    from billing.statement import build_statement, format_minutes

    text = duration_text if for_people else format_minutes
    return _read(path, version, lambda con: build_statement(con, policy, customer, first, last, as_of,
                                                            minutes_text=text))


def active_team():
    """The sender of statements: the ``[team]`` of the policy file (billing.team), or None
    without one. Raises TeamError (a PolicyError naming the key) for a bad value. Read on
    every call (it is tiny), like the policy."""
    from billing.team import load_team

    return load_team(policy_path())


@cached
def statement_files(path: Path, version: int, policy: Policy, customer: str, first: date, last: date,
                    as_of: date, team, internal: bool = False) -> dict[str, tuple[str, bytes]]:
    """One copy of the statement's downloads, {"pdf", "xlsx", "csv"} → (file name, bytes):
    the customer copy, or the internal one (billing.exports). Made from the same Statement
    the page shows (``statement``), so the page and its files cannot disagree. ``team``:
    billing.team.Team or None (keyed on its key())."""
    from billing.exports import statement_files as files

    st = statement(path, version, policy, customer, first, last, as_of, True)   # the page's own key
    return files(st, internal=internal, team=team)


@cached
def issued_statements(path: Path, version: int, customer: str) -> pd.DataFrame:
    """The statements issued to ``customer``, each checked against today's data."""
    from billing.statement import issued_with_checks

    return _read(path, version, lambda con: issued_with_checks(con, customer))


@cached
def adjustment_history(path: Path, version: int) -> pd.DataFrame:
    """Every adjustment on record, voids included (billing.adjustments.history, R10)."""
    from billing.adjustments import history

    return _read(path, version, history)


def adjustment_target(path: Path, version: int, kind: str, target: str, policy: Policy, on: date):
    """What an adjustment of ``kind`` would be about (billing.adjustments.resolve: a Target),
    checked as recording checks it; AdjustmentError (one sentence) when it cannot be. Not
    cached: the answer is an error as often as a value."""
    from billing.adjustments import resolve

    return _read(path, version, lambda con: resolve(con, kind, target, policy, on))


@cached
def period_entries(path: Path, version: int, policy: Policy, as_of: date, start: date, end: date,
                   customers_: tuple[str, ...] = (), staff_: tuple[str, ...] = (),
                   limit: int = 2000) -> pd.DataFrame:
    """The time entries of the period (business days start…end, none after T: R1) of the chosen
    customers and staff, newest first, at most ``limit``: entry_id, customer_id, started_at
    (as written), staff, minutes_us, activity."""
    from billing.calendar import business_day_expr

    day = business_day_expr("e", "started_at")
    params = {"tz": policy.timezone, "start": start, "end": min(end, as_of), "limit": limit}
    where = _chosen(customers_, staff_, params)

    def work(con):
        return con.execute(f"""
            SELECT entry_id, customer_id, started_at, staff, minutes_us, activity FROM time_entries e
            WHERE {day} BETWEEN $start AND $end {where}
            ORDER BY started_at DESC, entry_id LIMIT $limit""", params).df()
    return _read(path, version, work)


def figure(fn: Callable, with_names: bool = False) -> Callable:
    """A page's figure ``fn(books, filters, *extra)`` as a cached read
    ``(db, version, policy, filters, *extra)``: the books as of the filters' T come from
    ``books``; ``with_names`` passes ``names=customer_names(db, version)`` too. ``extra``
    must be small scalars (a grain, a top N)."""
    @cached
    @functools.wraps(fn)
    def read(path: Path, version: int, policy: Policy, filters, *extra):
        kwargs = {"names": customer_names(path, version)} if with_names else {}
        return fn(books(path, version, policy, filters.as_of), filters, *extra, **kwargs)
    return read


@cached
def closings(path: Path, version: int) -> pd.DataFrame:
    """Every close and reopen on record, with the one in force marked (billing.closing.history, R12)."""
    from billing.closing import history

    return _read(path, version, history)


@cached
def data_origin(path: Path, version: int) -> tuple:
    """Where the data on screen comes from, in small values for the sidebar
    (billing.pages.common.data_text): ``(import, change)``. ``import``: the newest import not
    undone, ``(import id, imported at (UTC), source, number of files)``, or None; ``change``:
    the newest change recorded after it, ``(kind, number, at (UTC))`` with kind ``undo`` (the
    import undone), ``adjustment``, ``close`` or ``reopen``, or None."""
    import json

    def work(con):
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        row = con.execute("SELECT import_id, imported_at, source, files FROM imports WHERE undone_at IS NULL "
                          "ORDER BY import_id DESC LIMIT 1").fetchone()
        imported = None
        if row is not None:
            try:
                n = len(json.loads(row[3]))
            except (TypeError, ValueError):
                n = 0
            imported = (int(row[0]), row[1], str(row[2]), n)
        changes = [("undo", int(i), at) for i, at in con.execute(
            "SELECT import_id, undone_at FROM imports WHERE undone_at IS NOT NULL ORDER BY undone_at DESC LIMIT 1"
        ).fetchall()]
        if "adjustments" in tables:
            changes += [("adjustment", int(i), at) for i, at in con.execute(
                "SELECT adjustment_id, recorded_at FROM adjustments ORDER BY recorded_at DESC LIMIT 1").fetchall()]
        if "closings" in tables:
            changes += [(str(k), int(i), at) for k, i, at in con.execute(
                "SELECT kind, closing_id, recorded_at FROM closings ORDER BY recorded_at DESC LIMIT 1").fetchall()]
        after = [c for c in changes if imported is None or c[2] > imported[1]]
        return imported, max(after, key=lambda c: c[2]) if after else None
    return _read(path, version, work)
