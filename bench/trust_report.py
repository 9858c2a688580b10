"""Trust report: concurrency, killed imports, unusable database files and hostile inputs, in one table.

    python bench/trust_report.py [--workdir DIR] [--kills 20] [--seed 20261126]

Runs the scenarios of tests/test_concurrency.py and tests/test_faults.py itself (their
scenario functions, not pytest) and the bad-input corpus of tests/hostile.py (a small list
of its own when that file is missing), then prints one table: readers and writers held,
imports committed, reader errors, mixed snapshots, kills and the states they left, bad
inputs and how each was answered, rows lost. Bounded: about two minutes on a laptop.
Exit code 1 when any "must be" figure is not met.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))   # run from anywhere

from billing.policy import Policy  # noqa: E402


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- bad inputs
def _own_cases():
    """A few bad export folders, used when tests/hostile.py is not there."""
    header = "entry_id,customer_id,staff,started_at,minutes,tier,appointment_id,customer_requested,notes\n"
    good = "t1,trust,Ann,2026-03-02T09:00,10,one_on_one,,,\n"
    return [
        ("missing column", {"time_entries.csv": b"entry_id,customer_id,staff,started_at,minutes\n"}),
        ("not UTF-8", {"time_entries.csv": (header + "t1,caf").encode() + "\xe9".encode("latin-1")
                       + b",Ann,2026-03-02T09:00,10,one_on_one,,,\n"}),
        ("empty file", {"time_entries.csv": b""}),
        ("5000 columns", {"time_entries.csv": (",".join(f"c{i}" for i in range(5000)) + "\n").encode()}),
        ("bad minutes", {"time_entries.csv": (header + good + "t2,trust,Ann,2026-03-02T10:00,1e9,one_on_one,,,\n").encode()}),
        ("SQL in a field", {"time_entries.csv": (header + good + "t3,x'); DROP TABLE time_entries; --,Ann,"
                                                 "2026-03-02T11:00,10,one_on_one,,,\n").encode()}),
        ("NUL bytes", {"time_entries.csv": (header + good).encode() + b"t4,tr\x00ust,Ann,2026-03-02T12:00,10,one_on_one,,,\n"}),
    ]


def bad_inputs(work: Path) -> dict:
    """Every case into a fresh copy of a database that already holds data: refused (one
    sentence, database unchanged), completed with the bad rows rejected, or crashed; and how
    many of the rows that were there before are gone afterwards."""
    from tests.test_faults import LIVE_TABLES, cli, copy_db, write_export

    work.mkdir(parents=True, exist_ok=True)
    base = work / "base.duckdb"
    out = cli("import", write_export(work / "export", seed=5, entries=2_000), "--db", base)
    assert out.returncode == 0, out.stderr
    base_counts = _counts(base, LIVE_TABLES)
    stats = {"tried": 0, "refused": 0, "rejected": 0, "loaded": 0, "empty": 0, "crashed": 0, "as_expected": 0,
             "changed_when_refused": 0, "rows_lost": 0, "source": "", "crashes": []}
    try:
        from tests import hostile
        cases = hostile.cases()
        stats["source"] = "tests/hostile.py"
    except ImportError:
        hostile, cases = None, _own_cases()
        stats["source"] = "bench/trust_report.py's own list"
    for i, case in enumerate(cases):
        db = copy_db(base, work / f"case{i}.duckdb")
        if hostile is not None:
            outcome = hostile.run_case(case, db, work / f"case{i}")
            kind, unchanged, message = outcome.kind, outcome.unchanged_db, outcome.message
            rejected = outcome.rejected
            stats["as_expected"] += outcome.ok_for(case.expectation)
            name = case.name
        else:
            name, payload = case
            kind, unchanged, message, rejected = _run_own(db, work / f"case{i}", payload)
            stats["as_expected"] += kind in ("error", "completed")
        stats["tried"] += 1
        if kind == "error":
            stats["refused"] += 1
            stats["changed_when_refused"] += not unchanged
        elif kind == "completed":
            stats["rejected" if rejected else "loaded"] += 1
        elif kind == "empty":
            stats["empty"] += 1
        else:
            stats["crashed"] += 1
            stats["crashes"].append(f"{name}: {message}")
        after = _counts(db, LIVE_TABLES)
        stats["rows_lost"] += sum(max(0, base_counts[t] - after[t]) for t in LIVE_TABLES)
        for suffix in ("", ".wal"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    return stats


def _run_own(db: Path, folder: Path, payload: dict) -> tuple[str, bool, str, int]:
    from billing.errors import HourbankError
    from billing.load import import_export
    from tests.test_faults import canonical_dump

    folder.mkdir(parents=True, exist_ok=True)
    for name, data in payload.items():
        (folder / name).write_bytes(data)
    before = canonical_dump(db)
    try:
        result = import_export(db, folder, policy=Policy())
    except HourbankError as exc:
        return "error", canonical_dump(db) == before, str(exc), 0
    except Exception as exc:  # noqa: BLE001 - a crash is what this looks for
        return "crash", canonical_dump(db) == before, f"{type(exc).__name__}: {exc}", 0
    return "completed", canonical_dump(db) == before, "", result.rejected


def _counts(db: Path, tables) -> dict[str, int]:
    from billing.store import open_db

    with open_db(db, read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


# --------------------------------------------------------------------------- bad database files
def bad_files(work: Path) -> dict:
    from tests.test_faults import app_answer, bad_databases, cli_answers, expected_words, one_sentence, Holder, copy_db
    from billing import appdata

    rows = cli_answers(work)
    stats = {"cli_tried": len(rows), "cli_one_sentence": 0, "cli_traceback": 0, "app_tried": 0, "app_one_sentence": 0,
             "app_exception": 0, "cases": sorted({r["case"] for r in rows})}
    for r in rows:
        ok = r["code"] == 1 and one_sentence(r["stderr"]) and expected_words(r["case"]) in r["stderr"]
        stats["cli_one_sentence"] += ok
        stats["cli_traceback"] += "Traceback" in r["stderr"]
    # The dashboard (AppTest) on each of them.
    from tests.apptest_live import as_on_a_live_server

    as_on_a_live_server()
    appdata.READ_WAIT_SECONDS = 1.0
    cases = bad_databases(work)
    locked = copy_db(work / "good.duckdb", work / "locked.duckdb")
    for case, db in [*cases.items(), ("locked by another process", locked)]:
        holder = Holder(db) if case == "locked by another process" else None
        try:
            shown = app_answer(db)
        finally:
            if holder:
                holder.__exit__()
        stats["app_tried"] += 1
        stats["app_exception"] += bool(shown["exceptions"])
        stats["app_one_sentence"] += (not shown["exceptions"] and any(expected_words(case) in n for n in shown["notes"])
                                      and all(len(n.splitlines()) == 1 for n in shown["notes"]))
    return stats


# --------------------------------------------------------------------------- the table
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="scratch folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--kills", type=int, default=20, help="random-point kills (plus the two pause points)")
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--imports", type=int, default=3, help="imports per concurrency run")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args(argv)
    from tests.test_concurrency import readers_and_writer
    from tests.test_faults import kill_trials

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="hourbank-trust-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        log("concurrency: readers and an import in the same process ...")
        thread = readers_and_writer(work / "conc", readers=args.readers, imports=args.imports, entries=5_000,
                                    writer="thread", seed=args.seed)
        log("concurrency: readers and the command line importing ...")
        cli = readers_and_writer(work / "conc", readers=args.readers, imports=args.imports, entries=5_000,
                                 writer="cli", seed=args.seed + 1)
        log(f"kills: {args.kills} random points and 2 pause points ...")
        kills = kill_trials(work / "kills", trials=args.kills, seed=args.seed, entries=5_000)
        log("unusable database files: command line and app ...")
        files = bad_files(work / "files")
        log("bad inputs ...")
        inputs = bad_inputs(work / "inputs")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - started

    conc = [thread, cli]
    lost = thread["rows_lost"] + cli["rows_lost"] + kills["rows_lost"] + inputs["rows_lost"]
    rows = [
        ("readers held (threads on billing.appdata)", f"{thread['readers']} + {cli['readers']}", ""),
        ("writers held (in-process import; python -m billing import)", f"{thread['writers']}; {cli['writers']}", ""),
        ("imports committed while reading", sum(c["committed"] for c in conc), f"= {sum(c['imports'] for c in conc)}"),
        ("new version visible right after each commit", sum(c["visible_after_commit"] for c in conc),
         f"= {sum(c['imports'] for c in conc)}"),
        ("figure sets read (each checked against one version)", sum(c["reads"] for c in conc), ""),
        ("  of which: reread after SnapshotChanged / stale (busy)",
         f"{sum(c['reread'] for c in conc)} / {sum(c['stale'] for c in conc)}", "documented"),
        ("reader errors (busy failures included)", sum(c["errors"] + c["busy"] for c in conc), "= 0"),
        ("mixed snapshots seen", sum(c["mixed"] for c in conc), "= 0"),
        ("kills injected (SIGKILL: random points + 2 pause points)", kills["kills"], f"= {args.kills + 2}"),
        ("DB states after a kill: before / after / between",
         f"{kills['before']} / {kills['after']} / {kills['between']}", "between = 0"),
        ("next import after a kill succeeded", kills["next_ok"], f"= {kills['kills']}"),
        ("unusable DB files x commands (CLI): one sentence, exit 1",
         f"{files['cli_one_sentence']} of {files['cli_tried']}", f"= {files['cli_tried']}"),
        ("unusable DB files (app): one sentence, no exception",
         f"{files['app_one_sentence']} of {files['app_tried']}", f"= {files['app_tried']}"),
        ("tracebacks shown for unusable files", files["cli_traceback"] + files["app_exception"], "= 0"),
        (f"bad inputs tried ({inputs['source']})", inputs["tried"], ""),
        ("  refused / rows rejected / loaded / nothing to load / crashed",
         f"{inputs['refused']} / {inputs['rejected']} / {inputs['loaded']} / {inputs['empty']} / {inputs['crashed']}",
         "crashed = 0"),
        ("  answered as the corpus expects", f"{inputs['as_expected']} of {inputs['tried']}", f"= {inputs['tried']}"),
        ("  refused but the database changed", inputs["changed_when_refused"], "= 0"),
        ("rows lost", lost, "= 0 (must be)"),
    ]
    checks = [
        sum(c["committed"] for c in conc) == sum(c["imports"] for c in conc),
        sum(c["visible_after_commit"] for c in conc) == sum(c["imports"] for c in conc),
        sum(c["errors"] + c["busy"] + c["mixed"] for c in conc) == 0,
        kills["between"] == 0, kills["kills"] == args.kills + 2, kills["next_ok"] == kills["kills"],
        files["cli_one_sentence"] == files["cli_tried"], files["app_one_sentence"] == files["app_tried"],
        files["cli_traceback"] + files["app_exception"] == 0,
        inputs["crashed"] == 0, inputs["changed_when_refused"] == 0, inputs["as_expected"] == inputs["tried"],
        lost == 0,
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(str(r[1])) for r in rows)
    print(f"{'Hourbank trust report':<{width}}  {'measured':>{value_width}}  must be")
    print(f"{'-' * width}  {'-' * value_width}  {'-' * 14}")
    for what, value, must in rows:
        print(f"{what:<{width}}  {str(value):>{value_width}}  {must}")
    print(f"({seconds:.0f} s; import of the kill trials' export: {kills['import_seconds']:.2f} s median; "
          f"{'all figures as they must be' if all(checks) else 'SOME FIGURES ARE NOT AS THEY MUST BE'})")
    for problem in thread["problems"] + cli["problems"] + kills["failures"] + inputs["crashes"]:
        print(f"  problem: {problem}")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
