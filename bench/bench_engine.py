"""Benchmark of the engine, as whole processes, against a bare DuckDB load in the same run.

    python bench/bench_engine.py [--entries 1000000] [--runs 3] [--workdir bench/out]

Prints, for a synthetic export (bench/make_export.py: 2,000 customers, 3 years, ~10k
purchases): the baseline `CREATE TABLE … AS SELECT * FROM read_csv(…)` of the same files,
`python -m billing import`, its ratio to the baseline (target ≤ 1.5), each `report`
command (target < 2 s), all three reports in one process (target < 2 s) and the peak
memory of each process (target for 10M entries: < 8 GB). Medians of --runs runs; the
machine is noisy, so the ratio is the figure to read.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

BASELINE = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
for name in sys.argv[2:]:
    table = name.rsplit('/', 1)[-1].split('.')[0]
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv(?)", [name])
con.close()
"""

ALL_REPORTS = """
import sys
from datetime import date
from billing.policy import load_policy
from billing.reports import compute_books, report_frame, write_csv
from billing.store import open_db
policy = load_policy()
with open_db(sys.argv[1], read_only=True) as con:
    books = compute_books(con, policy, date.fromisoformat(sys.argv[2]))
    for name in ("daily", "blocks", "summary"):
        with open("/dev/null", "wb") as sink:  # the same path as `report --format csv`
            write_csv(*report_frame(con, name, policy, books.as_of, books=books), sink)
"""


def peak_of(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command, run under a fresh Python that reports
    its only child's peak (RUSAGE_CHILDREN keeps the largest child so far)."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, r.returncode)")
    out = subprocess.run([PY, "-c", probe, *cmd], cwd=ROOT, capture_output=True, text=True)
    seconds, mb, rc = out.stdout.split()
    if rc != "0":
        raise SystemExit(f"{' '.join(cmd)} failed")
    return float(seconds), float(mb)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", default=str(ROOT / "bench" / "out" / "engine"))
    ap.add_argument("--as-of", default="2026-11-26")
    args = ap.parse_args()

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    export = work / f"export_{args.entries}"
    if not (export / "time_entries.csv").exists():
        t = time.perf_counter()
        subprocess.run([PY, "bench/make_export.py", str(export), "--entries", str(args.entries),
                        "--end", args.as_of], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        print(f"generated {export} in {time.perf_counter() - t:.1f} s")
    files = sorted(str(p) for p in export.glob("*.csv"))
    size_mb = sum(os.path.getsize(f) for f in files) / 1e6
    print(f"export: {args.entries:,} entries, {len(files)} files, {size_mb:.0f} MB")

    rows = []
    base_t, imp_t, base_m, imp_m = [], [], [], []
    db = work / f"bench_{args.entries}.duckdb"
    for i in range(args.runs):
        for p in (work / "baseline.duckdb", db):
            for suffix in ("", ".wal"):
                Path(str(p) + suffix).unlink(missing_ok=True)
        s, m = peak_of([PY, "-c", BASELINE, str(work / "baseline.duckdb"), *files])
        base_t.append(s), base_m.append(m)
        s, m = peak_of([PY, "-m", "billing", "import", str(export), "--db", str(db)])
        imp_t.append(s), imp_m.append(m)
    b, im = statistics.median(base_t), statistics.median(imp_t)
    rows.append(("baseline CREATE TABLE AS read_csv (all files)", b, max(base_m), ""))
    rows.append(("python -m billing import", im, max(imp_m), f"ratio {im / b:.2f} (target <= 1.5)"))

    for name in ("daily", "blocks", "summary", "review"):
        times, mems = [], []
        for i in range(args.runs):
            s, m = peak_of([PY, "-m", "billing", "report", name, "--db", str(db), "--as-of", args.as_of,
                            "--format", "csv"])
            times.append(s), mems.append(m)
        rows.append((f"python -m billing report {name}", statistics.median(times), max(mems),
                     "target < 2 s" if name != "review" else ""))
    times, mems = [], []
    for i in range(args.runs):
        s, m = peak_of([PY, "-c", ALL_REPORTS, str(db), args.as_of])
        times.append(s), mems.append(m)
    rows.append(("daily + blocks + summary in one process", statistics.median(times), max(mems), "target < 2 s"))

    print(f"{'what':<48} {'seconds':>8} {'peak MB':>8}  note")
    for what, s, m, note in rows:
        print(f"{what:<48} {s:>8.2f} {m:>8.0f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
