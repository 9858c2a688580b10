"""Benchmark of the engine, as whole processes, against a bare DuckDB load in the same run.

    python bench/bench_engine.py [--entries 1000000] [--runs 5] [--workdir bench/out/engine] [--reports-only]

Prints, for a synthetic export (bench/make_export.py: 2,000 customers, 3 years, ~10k
purchases): the baseline `CREATE TABLE … AS SELECT * FROM read_csv(…)` of the same files,
`python -m billing import`, its ratio to the baseline (target ≤ 1.5), each `report`
command (target < 2 s), all three reports from one process (`report daily blocks summary
--out DIR`, target < 2 s) and the peak
memory of each process (target for 10M entries: < 8 GB). Medians of --runs runs (reports
interleaved), with each process's CPU seconds beside its wall time; the machine is noisy,
so the ratio and the CPU seconds are the steadier figures.
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

def peak_of(cmd: list[str], cpu: list[float] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command, run under a fresh Python that reports
    its only child's peak (RUSAGE_CHILDREN keeps the largest child so far). The child's CPU
    seconds (user + system) are appended to ``cpu``: steadier than wall time on a shared machine."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); w = time.perf_counter() - t; "
             "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
             "print(w, u.ru_maxrss / 1024, u.ru_utime + u.ru_stime, r.returncode)")
    out = subprocess.run([PY, "-c", probe, *cmd], cwd=ROOT, capture_output=True, text=True)
    seconds, mb, cpu_s, rc = out.stdout.split()
    if rc != "0":
        raise SystemExit(f"{' '.join(cmd)} failed")
    if cpu is not None:
        cpu.append(float(cpu_s))
    return float(seconds), float(mb)


def engine_arguments(ap: argparse.ArgumentParser, runs: int) -> argparse.ArgumentParser:
    """The options of every benchmark on this one's synthetic export: --entries, --runs (default
    ``runs``), --workdir (bench/out/engine, shared, so the export and database are made once)
    and --as-of (the export's last day and the reports' T). Returns ``ap`` for more options."""
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=runs)
    ap.add_argument("--workdir", default=str(ROOT / "bench" / "out" / "engine"))
    ap.add_argument("--as-of", default="2026-11-26")
    return ap


def engine_data(args, imported: bool = True) -> tuple[Path, Path]:
    """The synthetic export of ``args.entries`` entries (bench/make_export.py, ending on
    ``args.as_of``) under ``args.workdir`` and its database: (export folder, database file).
    Each is made when missing, the database only when ``imported`` (this benchmark times the
    import itself)."""
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    export, db = work / f"export_{args.entries}", work / f"bench_{args.entries}.duckdb"
    if not (export / "time_entries.csv").exists():
        t = time.perf_counter()
        subprocess.run([PY, "bench/make_export.py", str(export), "--entries", str(args.entries),
                        "--end", args.as_of], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        print(f"generated {export} in {time.perf_counter() - t:.1f} s")
    if imported and not db.exists():
        subprocess.run([PY, "-m", "billing", "import", str(export), "--db", str(db)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    return export, db


def main() -> int:
    ap = engine_arguments(argparse.ArgumentParser(), runs=5)
    ap.add_argument("--reports-only", action="store_true", help="reuse the database of an earlier run")
    args = ap.parse_args()

    work = Path(args.workdir)
    export, db = engine_data(args, imported=False)
    files = sorted(str(p) for p in export.glob("*.csv"))
    size_mb = sum(os.path.getsize(f) for f in files) / 1e6
    print(f"export: {args.entries:,} entries, {len(files)} files, {size_mb:.0f} MB")

    # Bytecode cached as a default Python install does after the first run (this machine sets
    # PYTHONDONTWRITEBYTECODE, which would make every measured process compile billing/ again).
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "billing")], check=True,
                   env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})

    rows = []
    base_t, imp_t, base_m, imp_m = [], [], [], []
    for i in range(0 if args.reports_only and db.exists() else args.runs):
        for p in (work / "baseline.duckdb", db):
            for suffix in ("", ".wal"):
                Path(str(p) + suffix).unlink(missing_ok=True)
        s, m = peak_of([PY, "-c", BASELINE, str(work / "baseline.duckdb"), *files])
        base_t.append(s), base_m.append(m)
        s, m = peak_of([PY, "-m", "billing", "import", str(export), "--db", str(db)])
        imp_t.append(s), imp_m.append(m)
    if base_t:
        b, im = statistics.median(base_t), statistics.median(imp_t)
        rows.append(("baseline CREATE TABLE AS read_csv (all files)", b, max(base_m), None, ""))
        rows.append(("python -m billing import", im, max(imp_m), None, f"ratio {im / b:.2f} (target <= 1.5)"))

    reports = {name: [PY, "-m", "billing", "report", name, "--db", str(db), "--as-of", args.as_of,
                      "--format", "csv"] for name in ("daily", "blocks", "summary", "review")}
    reports["all three"] = [PY, "-m", "billing", "report", "daily", "blocks", "summary", "--db", str(db),
                            "--as-of", args.as_of, "--format", "csv", "--out", str(work / "reports")]
    # The floor under every report: starting Python and importing pandas, pyarrow and DuckDB.
    reports["startup"] = [PY, "-c", "import billing.reports, billing.__main__"]
    times = {name: [] for name in reports}
    mems = {name: [] for name in reports}
    cpus = {name: [] for name in reports}
    for i in range(args.runs):  # interleaved, so that a slow spell of the machine hits all alike
        for name, cmd in reports.items():
            s, m = peak_of(cmd, cpus[name])
            times[name].append(s), mems[name].append(m)
    for name in reports:
        what = {"all three": "report daily blocks summary --out (one process)",
                "startup": "python + imports only (the floor under each)"}.get(name, f"python -m billing report {name}")
        note = "" if name in ("review", "startup") else f"target < 2 s (fastest run {min(times[name]):.2f})"
        rows.append((what, statistics.median(times[name]), max(mems[name]), statistics.median(cpus[name]), note))

    print(f"{'what':<48} {'seconds':>8} {'CPU s':>6} {'peak MB':>8}  note")
    for what, s, m, c, note in rows:
        cpu = f"{c:6.2f}" if c is not None else f"{'':6}"
        print(f"{what:<48} {s:>8.2f} {cpu} {m:>8.0f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
