"""The tracker importer's speed against the canonical import of the same entries.

    python bench/bench_tracker.py [--entries 1000000] [--runs 3] [--out bench/out/tracker]

Writes one Toggl Track detailed export (the preset's headers verbatim) and one canonical
export (FORMATS.md) holding the same entries, then imports each into a fresh database as a
whole process (`python -m billing import ...`), the runs interleaved so a slow spell of the
machine hits both alike. Prints the medians, the peak memory, and the ratio tracker /
canonical (the bound: at most 3).
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOGGL_HEADER = ["User", "Email", "Client", "Project", "Task", "Description", "Billable", "Start date",
                "Start time", "End date", "End time", "Duration", "Tags", "Amount (USD)"]
CANONICAL_HEADER = ["entry_id", "customer_id", "customer_name", "staff", "started_at", "minutes", "tier",
                    "activity", "notes"]
# The same entries with everything the Toggl file says of them (FORMATS.md keeps extra columns).
FULL_EXTRA = ["email", "project", "tags"]


def write_exports(out: Path, entries: int, seed: int = 1) -> tuple[Path, Path, Path]:
    """(toggl.csv, canonical folder, canonical folder with the Toggl file's extra columns)
    holding the same entries."""
    out.mkdir(parents=True, exist_ok=True)
    toggl = out / "toggl_detailed.csv"
    canonical = out / "canonical"
    full = out / "canonical_full"
    canonical.mkdir(exist_ok=True)
    full.mkdir(exist_ok=True)
    if toggl.exists() and (full / "time_entries.csv").exists() and \
            sum(1 for _ in toggl.open("rb")) == entries + 1:
        return toggl, canonical, full
    rng = random.Random(seed)
    staff = [f"Staff {i:02d}" for i in range(40)]
    clients = [f"Client {i:04d}" for i in range(2000)]
    first = datetime(2024, 1, 1, 8)
    with toggl.open("w", newline="", encoding="utf-8") as t, \
            (canonical / "time_entries.csv").open("w", newline="", encoding="utf-8") as c, \
            (full / "time_entries.csv").open("w", newline="", encoding="utf-8") as f:
        tw, cw, fw = csv.writer(t), csv.writer(c), csv.writer(f)
        tw.writerow(TOGGL_HEADER)
        cw.writerow(CANONICAL_HEADER)
        fw.writerow(CANONICAL_HEADER + FULL_EXTRA)
        for i in range(entries):
            start = first + timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
            minutes = rng.randrange(1, 180)
            end = start + timedelta(minutes=minutes)
            who, client = rng.choice(staff), rng.choice(clients)
            billable = rng.random() < 0.7
            note = f"Ticket {i}"
            tw.writerow([who, "team@example.com", client, "Support", "", note, "Yes" if billable else "No",
                         start.strftime("%Y-%m-%d"), start.strftime("%H:%M:%S"), end.strftime("%Y-%m-%d"),
                         end.strftime("%H:%M:%S"), f"{minutes // 60:02d}:{minutes % 60:02d}:00", "", "0.00"])
            row = [f"e{i}", client, client, who, start.isoformat(), minutes,
                   "one_on_one" if billable else "general", "", note]
            cw.writerow(row)
            fw.writerow(row + ["team@example.com", "Support", ""])
    return toggl, canonical, full


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak MB) of one whole process."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "tracker"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    started = time.perf_counter()
    toggl, canonical, full = write_exports(out, args.entries)
    print(f"exports of {args.entries:,} entries ready in {time.perf_counter() - started:.1f} s "
          f"(toggl {toggl.stat().st_size / 1e6:.0f} MB, canonical "
          f"{(canonical / 'time_entries.csv').stat().st_size / 1e6:.0f} MB)")
    python = sys.executable
    env_db = out / "db"
    env_db.mkdir(exist_ok=True)
    commands = {
        "canonical": ["import", str(canonical)],
        "canonical_full": ["import", str(full)],
        "tracker": ["import", str(toggl), "--from", "toggl", "--timezone", "UTC"],
    }
    results: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, float] = {}
    for run in range(args.runs):
        for name, words in commands.items():
            db = env_db / f"{name}-{run}.duckdb"
            for leftover in (db, Path(f"{db}.wal")):
                leftover.unlink(missing_ok=True)
            command = [python, "-m", "billing", *words, "--db", str(db)]
            seconds, peak = timed(command)
            results[name].append(seconds)
            peaks[name] = peak
            db.unlink(missing_ok=True)
    median = {name: statistics.median(times) for name, times in results.items()}
    print(f"{'import':<44} {'median s':>9} {'runs':>24}")
    for name, label in (("canonical", "canonical export, FORMATS.md columns (baseline)"),
                        ("canonical_full", "canonical export + email, project, tags"),
                        ("tracker", "Toggl export (--from toggl)")):
        runs = ", ".join(f"{s:.2f}" for s in results[name])
        print(f"{label:<44} {median[name]:>9.2f} {runs:>24}")
    print(f"ratio tracker / canonical: {median['tracker'] / median['canonical']:.2f}; tracker / canonical with the "
          f"same extra columns: {median['tracker'] / median['canonical_full']:.2f} (bound: 3.00); peak RSS of the "
          f"children so far {max(peaks.values()):.0f} MB")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())
