"""Faults: imports killed with SIGKILL at random points, and database files that cannot be used.

- A ``python -m billing import`` killed at a seeded random moment of its run (and at the two
  HOURBANK_FAULT_PAUSE points inside its transaction) leaves the database exactly as before
  or exactly as after the import (every table's count and ordered checksum, and the daily,
  blocks and summary reports), never in between; the next import then succeeds and gives
  the after-state.
- A missing file, one locked by another process, one with random bytes over its middle, a
  truncated one, a text file named .duckdb and one whose header names another DuckDB
  storage version: the command line says one sentence (exit 1, no traceback) and the
  dashboard shows one sentence (no exception box).

The scenario functions return plain figures so bench/trust_report.py can run them too.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 6, 30)
REPORTS = ("daily", "blocks", "summary")
LIVE_TABLES = ("time_entries", "appointments", "purchases", "customers")
VOLATILE = {"imports": ("imported_at", "undone_at"), "statements": ("issued_at",)}


# --------------------------------------------------------------------------- helpers
def cli(*args, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "billing", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def write_export(folder: Path, seed: int, entries: int) -> Path:
    from billing.synthetic import write_synthetic

    if not folder.exists():
        write_synthetic(folder, entries=entries, customers=300, purchases=max(50, entries // 30), seed=seed,
                        end=AS_OF)
    return folder


def canonical_dump(db: Path) -> dict[str, tuple]:
    """Every table's row count and an ordered checksum of its rows (the import time left out),
    and each report's checksum: two databases with equal dumps hold the same data."""
    from billing.policy import Policy
    from billing.reports import compute_books, report
    from billing.store import open_db

    dump: dict[str, tuple] = {}
    with open_db(db, read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall()]
        for table in tables:
            exclude = [c for c in VOLATILE.get(table, ())]
            select = f"SELECT * EXCLUDE ({', '.join(exclude)})" if exclude else "SELECT *"
            count, digest = con.execute(
                f"SELECT count(*), md5(coalesce(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR)), ''))"
                f" FROM ({select} FROM {table}) t").fetchone()
            dump[table] = (count, digest)
        policy = Policy(timezone="UTC")
        books = compute_books(con, policy, AS_OF)
        for name in REPORTS:
            frame = report(con, name, policy, AS_OF, books=books)
            dump[f"report {name}"] = (len(frame), hashlib.md5(frame.to_csv(index=False).encode()).hexdigest())
    return dump


def live_part(dump: dict) -> dict:
    """What an import must reproduce whatever happened before it: live rows and reports."""
    return {k: v for k, v in dump.items() if k in LIVE_TABLES or k.startswith("report ")}


def rows_lost(expected: dict, got: dict) -> int:
    return sum(max(0, expected[t][0] - got.get(t, (0, None))[0]) for t in LIVE_TABLES)


def copy_db(src: Path, dst: Path) -> Path:
    for suffix in ("", ".wal"):
        target = Path(str(dst) + suffix)
        if target.exists():
            target.unlink()
        if Path(str(src) + suffix).exists():
            shutil.copyfile(str(src) + suffix, target)
    return dst


# --------------------------------------------------------------------------- kills
def kill_trials(work: Path, trials: int = 20, seed: int = 20261126, entries: int = 10_000,
                pause_points: tuple[str, ...] = ("staged", "merged")) -> dict:
    """SIGKILL ``python -m billing import`` at seeded random delays across its run and at the
    fault pause points; classify each database as before / after / between; import again.

    Returns figures: kills, before, after, between, next_ok, rows_lost, failures (text)."""
    work.mkdir(parents=True, exist_ok=True)
    base_export = write_export(work / "export_base", seed=11, entries=entries)
    new_export = write_export(work / "export_new", seed=12, entries=entries)
    base = work / "base.duckdb"
    if not base.exists():
        out = cli("import", base_export, "--db", base)
        assert out.returncode == 0, out.stderr
    before = canonical_dump(base)
    after_db = copy_db(base, work / "after.duckdb")
    started = time.monotonic()
    out = cli("import", new_export, "--db", after_db)
    duration = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    after = canonical_dump(after_db)
    assert live_part(before) != live_part(after), "the two exports must give different data"

    rng = random.Random(seed)
    stats = {"kills": 0, "before": 0, "after": 0, "between": 0, "finished_first": 0, "next_ok": 0,
             "rows_lost": 0, "failures": [], "import_seconds": duration}
    # One seeded point in each of ``trials`` equal slices of 0 … 1.1 × the import's time: from
    # before the file is opened, through reading, merging and COMMIT, to after the exit. The
    # time is the median of the whole imports run so far (the machine's load varies).
    plan = [("random", (i + rng.random()) / trials * 1.1) for i in range(trials)]
    plan += [(point, None) for point in pause_points]
    durations = [duration]
    for i, (kind, fraction) in enumerate(plan):
        delay = None if fraction is None else fraction * sorted(durations)[len(durations) // 2]
        db = copy_db(base, work / f"trial{i}.duckdb")
        env = {**os.environ}
        if kind != "random":
            env["HOURBANK_FAULT_PAUSE"] = kind
        proc = subprocess.Popen([sys.executable, "-m", "billing", "import", str(new_export), "--db", str(db)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if kind == "random":
            time.sleep(delay)
        else:
            line = proc.stderr.readline().decode().strip()
            if line != f"paused at {kind}":
                stats["failures"].append(f"trial {i}: the import did not pause at {kind} ({line!r})")
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        else:
            stats["finished_first"] += 1
        proc.wait()
        proc.stderr.close()
        stats["kills"] += 1
        state = canonical_dump(db)
        if state == before:
            stats["before"] += 1
        elif state == after:
            stats["after"] += 1
        else:
            stats["between"] += 1
            diff = sorted(k for k in set(state) | set(after) if state.get(k) not in (before.get(k), after.get(k)))
            stats["failures"].append(f"trial {i} ({kind}, {delay}): between before and after in {diff}")
        if kind != "random" and state != before:
            stats["failures"].append(f"trial {i}: killed inside the transaction at {kind} but not the before-state")
        started = time.monotonic()
        again = cli("import", new_export, "--db", db)
        if state == before:
            durations.append(time.monotonic() - started)
        if again.returncode == 0:
            final = canonical_dump(db)
            if live_part(final) == live_part(after):
                stats["next_ok"] += 1
            else:
                stats["failures"].append(f"trial {i}: the next import did not give the after-state")
            stats["rows_lost"] += rows_lost(after, final)
        else:
            stats["failures"].append(f"trial {i}: the next import failed: {again.stderr.strip()}")
        for suffix in ("", ".wal"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    stats["import_seconds"] = sorted(durations)[len(durations) // 2]
    return stats


@pytest.mark.slow
def test_an_import_killed_at_any_point_leaves_before_or_after_and_the_next_import_succeeds(tmp_path):
    stats = kill_trials(tmp_path, trials=20)
    assert stats["failures"] == [], "\n".join(stats["failures"])
    assert stats["between"] == 0 and stats["rows_lost"] == 0
    assert stats["kills"] == 22 and stats["next_ok"] == 22
    # The seeded delays straddle the commit: some kills left the before-state, some the after.
    assert stats["before"] >= 1 and stats["after"] >= 1, stats


# --------------------------------------------------------------------------- bad files
def _checksum(block: bytes) -> int:
    """DuckDB's block checksum (src/common/checksum.cpp): 5381 xor each 64-bit word times a constant."""
    result = 5381
    for (word,) in struct.iter_unpack("<Q", block):
        result ^= (word * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    return result


def with_storage_version(src: Path, dst: Path, version: int) -> Path:
    """A copy of ``src`` whose main header names another storage version, with a valid
    checksum, which is what a file of an older or newer DuckDB looks like to this one."""
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as fh:
        header = bytearray(fh.read(4096))
        assert header[8:12] == b"DUCK", "not a DuckDB main header"
        assert _checksum(bytes(header[8:])) == struct.unpack("<Q", header[:8])[0], "checksum formula changed"
        header[12:20] = struct.pack("<Q", version)
        header[0:8] = struct.pack("<Q", _checksum(bytes(header[8:])))
        fh.seek(0)
        fh.write(header)
    return dst


def bad_databases(work: Path, seed: int = 7, entries: int = 5_000) -> dict[str, Path]:
    """Database files that cannot be used, each next to a good one (work/good.duckdb)."""
    work.mkdir(parents=True, exist_ok=True)
    good = work / "good.duckdb"
    if not good.exists():
        out = cli("import", write_export(work / "export_good", seed=3, entries=entries), "--db", good)
        assert out.returncode == 0, out.stderr
    size = good.stat().st_size
    rng = random.Random(seed)
    cases = {"missing": work / "missing.duckdb"}
    damaged = shutil.copyfile(good, work / "damaged-middle.duckdb")
    with open(damaged, "r+b") as fh:      # random bytes over the middle third of the file
        fh.seek(size // 3)
        fh.write(rng.randbytes(size // 3))
    cases["random bytes over the middle"] = Path(damaged)
    truncated = shutil.copyfile(good, work / "truncated.duckdb")
    os.truncate(truncated, size // 3)
    cases["truncated"] = Path(truncated)
    text = work / "notes.duckdb"
    text.write_text("customer_id,hours\nacme,10\n")
    cases["a text file named .duckdb"] = text
    empty = work / "empty.duckdb"
    empty.write_bytes(b"")
    cases["an empty file"] = empty
    cases["older DuckDB storage version"] = with_storage_version(good, work / "old-version.duckdb", 39)
    cases["newer DuckDB storage version"] = with_storage_version(good, work / "new-version.duckdb", 10_000)
    return cases


def expected_words(case: str) -> str:
    return {"missing": "no such database", "locked by another process": "in use by another process",
            "a text file named .duckdb": "not a DuckDB database", "an empty file": "not a DuckDB database",
            "older DuckDB storage version": "another DuckDB version",
            "newer DuckDB storage version": "another DuckDB version"}.get(case, "damaged")


def one_sentence(text: str) -> bool:
    lines = text.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in text


class Holder:
    """Another process holding the database read-write (as a running import does)."""

    def __init__(self, db: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
             "print('holding', flush=True); time.sleep(120)", str(db)], stdout=subprocess.PIPE)
        assert self.proc.stdout.readline().strip() == b"holding"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


def cli_answers(work: Path) -> list[dict]:
    """Each bad database through `report summary`, `imports` and `import`: exit code and stderr."""
    cases = bad_databases(work)
    export = work / "export_good"
    rows = []
    for case, db in [*cases.items(), ("locked by another process", work / "good.duckdb")]:
        holder = Holder(db) if case == "locked by another process" else None
        try:
            commands = [("report", "summary", "--as-of", AS_OF), ("imports",)]
            if case != "missing":     # importing into a missing file creates it: that is right
                commands.append(("import", export))
            for command in commands:
                out = cli(*command, "--db", db, env={"HOURBANK_LOCK_WAIT": "1"})
                rows.append({"case": case, "command": command[0], "code": out.returncode,
                             "stderr": out.stderr, "stdout": out.stdout})
        finally:
            if holder:
                holder.__exit__()
    return rows


def test_every_unusable_database_is_one_sentence_on_the_command_line(tmp_path):
    rows = cli_answers(tmp_path)
    assert {r["case"] for r in rows} >= {"missing", "locked by another process", "random bytes over the middle",
                                         "truncated", "a text file named .duckdb", "older DuckDB storage version"}
    for r in rows:
        where = f"{r['case']} / {r['command']}"
        assert r["code"] == 1, f"{where}: exit {r['code']}\n{r['stdout'][:300]}{r['stderr']}"
        assert one_sentence(r["stderr"]), f"{where}: {r['stderr']}"
        assert expected_words(r["case"]) in r["stderr"], f"{where}: {r['stderr']}"
    # The good database is untouched by all of it and still imports.
    assert cli("import", tmp_path / "export_good", "--db", tmp_path / "good.duckdb").returncode == 0


def app_answer(db: Path, as_of: date = AS_OF) -> dict:
    """Run the dashboard (AppTest) on ``db``; what it showed: exceptions and the notes."""
    from streamlit.testing.v1 import AppTest

    old = os.environ.get("HOURBANK_DB")
    os.environ["HOURBANK_DB"] = str(db)
    try:
        from billing import appdata
        appdata.clear_caches()
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
        at.run()
        if not at.exception and at.date_input:
            at.date_input(key="asof").set_value(as_of)
            at.selectbox(key="period").set_value("this_year")
            at.run()
        notes = [e.value for e in at.error] + [i.value for i in at.info] + [w.value for w in at.warning]
        return {"exceptions": [str(e.value) for e in at.exception], "notes": notes}
    finally:
        if old is None:
            os.environ.pop("HOURBANK_DB", None)
        else:
            os.environ["HOURBANK_DB"] = old


@pytest.fixture(autouse=True)
def _after_first_run(monkeypatch):
    # As tests/test_pages.py: put AppTest where a live server is after its first run.
    from tests.apptest_live import as_on_a_live_server

    as_on_a_live_server(monkeypatch)


@pytest.mark.parametrize("case", ["missing", "locked by another process", "random bytes over the middle",
                                  "truncated", "a text file named .duckdb", "an empty file",
                                  "older DuckDB storage version", "newer DuckDB storage version"])
def test_every_unusable_database_is_one_sentence_in_the_app(tmp_path_factory, case, monkeypatch):
    work = tmp_path_factory.getbasetemp() / "bad-databases"
    cases = bad_databases(work)
    monkeypatch.setattr("billing.appdata.READ_WAIT_SECONDS", 1.0)
    if case == "locked by another process":
        db = work / "locked.duckdb"
        copy_db(work / "good.duckdb", db)
        with Holder(db):
            shown = app_answer(db)
    else:
        shown = app_answer(cases[case])
    assert shown["exceptions"] == [], shown
    assert any(expected_words(case) in n for n in shown["notes"]), shown
    assert all("Traceback" not in n and len(n.splitlines()) == 1 for n in shown["notes"]), shown


@pytest.mark.parametrize("fault", [None, ValueError, KeyboardInterrupt])
def test_a_transaction_commits_at_its_end_and_writes_nothing_when_anything_stops_it(tmp_path, fault):
    # billing.store.transaction: every write that must not be half-done (an undo, an adjustment,
    # a close, an issued statement, a link, an alert record) goes through it.
    from billing.store import bump_data_version, data_version, open_db, transaction

    db = tmp_path / "db.duckdb"
    with open_db(db) as con:
        before = data_version(con)
        try:
            with transaction(con):
                bump_data_version(con)
                con.execute("INSERT INTO meta VALUES ('written', 'yes')")
                if fault:
                    raise fault("stopped half-way")
        except (ValueError, KeyboardInterrupt) as exc:
            assert fault is not None and str(exc) == "stopped half-way"
    with open_db(db, read_only=True) as con:
        written = con.execute("SELECT value FROM meta WHERE key = 'written'").fetchall()
        assert (data_version(con), written) == ((before, []) if fault else (before + 1, [("yes",)]))
