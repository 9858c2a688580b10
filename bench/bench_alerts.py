"""Benchmark of `python -m billing alerts` (the daily cron run) against `report blocks`, which
computes the same books: what the alerts add on top of them.

    python bench/bench_alerts.py [--entries 1000000] [--runs 5] [--workdir bench/out/engine]

Uses bench_engine.py's synthetic export and database when they are there (else makes them).
Prints the median wall and CPU seconds of each command and the ratio alerts / report blocks;
the dry run reads the database once, computes the books, the forecast and every alert of
2,000 customers, and prints every message of a daily digest. Nothing is sent.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import PY, ROOT, engine_arguments, engine_data, peak_of  # noqa: E402


def main() -> int:
    args = engine_arguments(argparse.ArgumentParser(), runs=5).parse_args()
    _export, db = engine_data(args)
    policy = Path(args.workdir) / "alerts_policy.toml"
    policy.write_text('[alerts]\ndigest = "daily"\nmanagers = ["lead@example.com"]\n'
                      '[alerts.smtp]\nhost = "127.0.0.1"\nport = 25\nsecurity = "none"\nsender = "hb@example.com"\n'
                      '[alerts.webhook]\nurl = "http://127.0.0.1:9/hook"\n')
    commands = {
        "report blocks": [PY, "-m", "billing", "report", "blocks", "--db", str(db), "--as-of", args.as_of,
                          "--format", "csv"],
        "alerts --dry-run": [PY, "-m", "billing", "alerts", "--dry-run", "--db", str(db), "--as-of", args.as_of,
                             "--policy", str(policy)],
    }
    times = {n: [] for n in commands}
    cpus = {n: [] for n in commands}
    mems = {n: [] for n in commands}
    for _ in range(args.runs):   # interleaved: a slow spell of the machine hits both alike
        for name, cmd in commands.items():
            s, m = peak_of(cmd, cpus[name])
            times[name].append(s), mems[name].append(m)
    due = subprocess.run(commands["alerts --dry-run"], cwd=ROOT, capture_output=True, text=True).stdout.splitlines()[0]
    print(f"{args.entries:,} entries; {due}")
    print(f"{'what':<24} {'seconds':>8} {'CPU s':>6} {'peak MB':>8}")
    for name in commands:
        print(f"{name:<24} {statistics.median(times[name]):>8.2f} {statistics.median(cpus[name]):>6.2f} "
              f"{max(mems[name]):>8.0f}")
    ratio = statistics.median(times["alerts --dry-run"]) / statistics.median(times["report blocks"])
    cpu_ratio = statistics.median(cpus["alerts --dry-run"]) / statistics.median(cpus["report blocks"])
    print(f"ratio alerts / report blocks: {ratio:.2f} wall, {cpu_ratio:.2f} CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
