"""Concurrency: dashboard sessions reading (billing.appdata, one thread each) while imports commit.

Every figure set a reader gets must be the one of a single data version: the versions are
prepared so that their figures differ (each import replaces the data with another synthetic
export), and a reference database imported the same way, with nobody reading, says what
each version's figures are. The writer is a thread of the same process (the Import page)
or ``python -m billing import`` (the command line). Readers may be told to read again
(SnapshotChanged: the rerun reads the new version) or see the last version while the file
is busy (stale); nothing else: no error, no mixed figures, and each commit is visible
right after it.

The scenario function returns plain figures so bench/trust_report.py can run it too.
"""
from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from billing import appdata
from billing.errors import HourbankError
from billing.load import import_export
from billing.policy import Policy
from billing.store import DatabaseBusy, open_db

ROOT = Path(__file__).resolve().parent.parent
POLICY = Policy(timezone="UTC")
AS_OF = date(2026, 6, 30)
AS_OFS = (date(2026, 2, 28), date(2026, 4, 30), AS_OF)
LIVE_TABLES = ("time_entries", "appointments", "purchases", "customers")


def write_export(folder: Path, seed: int, entries: int) -> Path:
    from billing.synthetic import write_synthetic

    if not folder.exists():
        write_synthetic(folder, entries=entries, customers=200 + 10 * seed, purchases=max(50, entries // 30),
                        seed=seed, end=AS_OF)
    return folder


def figures(db: Path, version: int, as_of: date) -> tuple:
    """What one dashboard rerun reads for one version, through the data layer's cached reads:
    billable total, customer-days, customers, staff, the latest import, review items."""
    books = appdata.books(db, version, POLICY, as_of)
    customers = appdata.customers(db, version)
    staff = appdata.staff(db, version)
    imports, _rejects = appdata.recent_imports(db, version)
    review = appdata.review(db, version, POLICY, as_of)
    return (books.data_version, int(books.days["billable_us"].sum()), len(books.days), len(customers), len(staff),
            int(imports["import_id"].max()), len(review))


def live_counts(db: Path) -> dict[str, int]:
    with open_db(db, read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in LIVE_TABLES}


def prepare(work: Path, imports: int, entries: int) -> tuple[list[Path], dict]:
    """Exports 0..imports and, from a reference database nobody else reads, every version's figures."""
    work.mkdir(parents=True, exist_ok=True)
    exports = [write_export(work / f"export{k}", seed=k + 1, entries=entries) for k in range(imports + 1)]
    reference = work / "reference.duckdb"
    for suffix in ("", ".wal"):
        Path(str(reference) + suffix).unlink(missing_ok=True)
    expected: dict[int, dict[date, tuple]] = {}
    for folder in exports:
        version = import_export(reference, folder, policy=POLICY).data_version
        expected[version] = {a: figures(reference, version, a) for a in AS_OFS}
    expected["rows"] = live_counts(reference)
    versions = sorted(v for v in expected if v != "rows")
    for a in AS_OFS:
        totals = [expected[v][a][1] for v in versions]
        assert all(x != y for x, y in zip(totals, totals[1:])), f"consecutive versions must differ: {totals}"
    return exports, expected


def readers_and_writer(work: Path, readers: int = 8, imports: int = 4, entries: int = 10_000,
                       writer: str = "thread", seed: int = 1) -> dict:
    """``readers`` threads read through billing.appdata while ``writer`` ("thread": import_export
    in this process, as the Import page does; "cli": python -m billing import) imports
    ``imports`` times. Returns the figures the trust report prints."""
    exports, expected = prepare(work, imports, entries)
    db = work / f"live-{writer}.duckdb"
    for suffix in ("", ".wal"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    import_export(db, exports[0], policy=POLICY)
    appdata.clear_caches()

    stop = threading.Event()
    lock = threading.Lock()
    stats = Counter()
    problems: list[str] = []
    seen_versions: Counter = Counter()        # complete figure sets read per version

    def wait_for_reads(version: int, reads: int, timeout: float = 60.0) -> None:
        """Let the readers read this version before the next import (a loaded machine is slow)."""
        deadline = time.monotonic() + timeout
        while seen_versions[version] < reads and time.monotonic() < deadline:
            time.sleep(0.05)

    def reader(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        while not stop.is_set():
            try:
                if rng.random() < 0.1:
                    appdata.clear_caches()       # a fresh read of the file now and then
                version = appdata.current_version(db)
                as_of = rng.choice(AS_OFS)
                got = figures(db, version.number, as_of)
            except appdata.SnapshotChanged:
                with lock:
                    stats["reread"] += 1         # the documented path: the rerun reads the new version
                continue
            except DatabaseBusy as exc:
                with lock:
                    stats["busy"] += 1
                    problems.append(f"reader {n}: {exc}")
                continue
            except Exception as exc:             # noqa: BLE001 - every other failure is counted
                with lock:
                    stats["errors"] += 1
                    problems.append(f"reader {n}: {type(exc).__name__}: {exc}")
                continue
            want = expected.get(version.number, {}).get(as_of)
            with lock:
                stats["reads"] += 1
                stats["stale"] += version.stale
                seen_versions[version.number] += 1
                if got != want:
                    stats["mixed"] += 1
                    problems.append(f"reader {n}: version {version.number} as of {as_of}: got {got}, want {want}")
            time.sleep(rng.random() * 0.02)

    threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(readers)]
    for t in threads:
        t.start()
    wait_for_reads(1, readers)
    committed = 0
    visible = 0
    for k, folder in enumerate(exports[1:], start=2):
        try:
            if writer == "cli":
                out = subprocess.run([sys.executable, "-m", "billing", "import", str(folder), "--db", str(db)],
                                     cwd=ROOT, capture_output=True, text=True, timeout=300)
                if out.returncode != 0:
                    raise HourbankError(out.stderr.strip())
            else:
                import_export(db, folder, policy=POLICY)
            committed += 1
        except HourbankError as exc:
            problems.append(f"writer: import {k} failed: {exc}")
            continue
        # Right after the commit, a new rerun sees the new version (not the last one seen).
        version = appdata.current_version(db)
        if version.number == k and not version.stale:
            visible += 1
        else:
            problems.append(f"writer: after import {k} a rerun saw version {version}")
        wait_for_reads(k, readers)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    rows = live_counts(db)
    return {"readers": readers, "writers": 1, "writer": writer, "imports": imports, "committed": committed,
            "visible_after_commit": visible, "reads": stats["reads"], "reread": stats["reread"],
            "stale": stats["stale"], "busy": stats["busy"], "errors": stats["errors"], "mixed": stats["mixed"],
            "versions_seen": sorted(seen_versions), "reads_per_version": dict(sorted(seen_versions.items())), "final_version": imports + 1,
            "rows_lost": sum(max(0, expected["rows"][t] - rows.get(t, 0)) for t in LIVE_TABLES),
            "problems": problems[:20]}


def check(stats: dict) -> None:
    assert stats["problems"] == [], "\n".join(stats["problems"])
    assert stats["errors"] == stats["mixed"] == stats["busy"] == 0, stats
    assert stats["committed"] == stats["visible_after_commit"] == stats["imports"], stats
    # The readers read every version, up to the last, and read a lot.
    assert stats["versions_seen"] == list(range(1, stats["final_version"] + 1)), stats
    assert stats["reads"] >= stats["readers"] * (stats["imports"] + 1), stats
    assert stats["rows_lost"] == 0, stats


@pytest.mark.slow
def test_eight_readers_and_an_import_of_the_app_in_the_same_process(tmp_path):
    check(readers_and_writer(tmp_path, readers=8, imports=4, writer="thread"))


@pytest.mark.slow
def test_eight_readers_and_the_command_line_importing(tmp_path):
    check(readers_and_writer(tmp_path, readers=8, imports=4, writer="cli"))


def test_a_reader_and_an_import_in_one_process_wait_for_each_other_instead_of_failing(tmp_path):
    # DuckDB refuses a read-write open of a file this process has open read-only (and the
    # other way round): "different configuration". Before store's gate, the Import page's
    # import failed with that while another session read, and the readers failed while it ran.
    led_db = tmp_path / "db.duckdb"
    folder = write_export(tmp_path / "e", seed=1, entries=200)
    import_export(led_db, folder, policy=POLICY)
    holding = threading.Event()
    release = threading.Event()

    def long_read():
        with open_db(led_db, read_only=True) as con:
            con.execute("SELECT count(*) FROM time_entries").fetchone()
            holding.set()
            release.wait(10)

    t = threading.Thread(target=long_read)
    t.start()
    assert holding.wait(10)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    result = import_export(led_db, folder, policy=POLICY)   # waits for the read, then runs
    assert result.data_version == 2 and time.monotonic() - started >= 0.4
    t.join()
    # While an import holds the file, a reader waits its time and then says so in one sentence.
    with open_db(led_db) as con:
        reader_error = []

        def read():
            try:
                with open_db(led_db, read_only=True, wait_seconds=0.3):
                    pass
            except HourbankError as exc:
                reader_error.append(str(exc))
        r = threading.Thread(target=read)
        r.start()
        r.join()
        assert con.execute("SELECT count(*) FROM imports").fetchone()[0] == 2
    assert len(reader_error) == 1 and "in use" in reader_error[0] and "\n" not in reader_error[0]


def test_connects_and_closes_of_one_file_take_turns_in_a_process(tmp_path, monkeypatch):
    # DuckDB's lock on the file is a POSIX lock, the process's: closing any descriptor of the
    # file drops it. The last close of a file's connections tears its instance down, closing
    # its descriptor; when another thread's connect opened a new instance meanwhile, that one
    # lived on without a lock, `python -m billing import` wrote the file under it and a rerun
    # read the previous data version through it (the 8-reader test above, under load). A
    # close taking its time (a teardown on a busy machine) must not let a connect in.
    from billing import store

    db = tmp_path / "db.duckdb"
    import_export(db, write_export(tmp_path / "e", seed=1, entries=200), policy=POLICY)
    events: list[str] = []
    closing = threading.Event()
    real_connect = store.duckdb.connect

    class SlowTeardown:
        def __init__(self, con):
            self.con = con

        def __getattr__(self, name):
            return getattr(self.con, name)

        def close(self):
            events.append("close starts")
            closing.set()
            time.sleep(0.3)
            self.con.close()
            events.append("close ends")

    def connect(*args, **kwargs):
        events.append("connect")
        return SlowTeardown(real_connect(*args, **kwargs))

    monkeypatch.setattr(store.duckdb, "connect", connect)

    def other_session():
        assert closing.wait(10)
        with open_db(db, read_only=True) as con:
            assert con.execute("SELECT count(*) FROM imports").fetchone()[0] == 1

    t = threading.Thread(target=other_session)
    t.start()
    with open_db(db, read_only=True):
        pass
    t.join(10)
    assert events == ["connect", "close starts", "close ends", "connect", "close starts", "close ends"]


def test_a_waiting_command_line_import_goes_before_new_readers_of_other_processes(tmp_path):
    # Sessions reading one after another kept the file share-locked, and `python -m billing
    # import` waited out HOURBANK_LOCK_WAIT and failed (seen in the 8-reader test under load).
    db = tmp_path / "db.duckdb"
    folder = write_export(tmp_path / "e", seed=1, entries=200)
    import_export(db, folder, policy=POLICY)
    reader = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from billing.store import open_db\n"
        "with open_db(sys.argv[1], read_only=True):\n"
        "    print('reading', flush=True); time.sleep(2)"), str(db)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "reading"
    writer = subprocess.Popen([sys.executable, "-m", "billing", "import", str(folder), "--db", str(db)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        from billing.store import _WriterWaiting
        deadline = time.monotonic() + 10
        while not _WriterWaiting(db).waiting() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _WriterWaiting(db).waiting(), "the waiting import did not say so"
        # A new read-only open (which DuckDB would let share the lock) waits behind the writer.
        with pytest.raises(DatabaseBusy, match="in use"):
            with open_db(db, read_only=True, wait_seconds=0.3):
                pass
        out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
    finally:
        reader.kill()
        writer.kill()
        reader.wait()
        writer.wait()
    assert not _WriterWaiting(db).waiting()
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM imports").fetchone()[0] == 2
