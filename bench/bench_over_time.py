"""Benchmark of the books over time (R10–R14) against the same engine without them, in one run.

    python bench/bench_over_time.py [--entries 1000000] [--adjustments 10000] [--runs 3]
                                    [--workdir bench/out/engine]

On the synthetic export of bench/bench_engine.py (made and imported here if missing), it
times ``compute_books`` plus the three reports' frames, in this process, for:

- the policy as it is, no adjustments (the baseline: the engine's usual path);
- 10,000 adjustments in force (a mix a busy team could have after a few years: waived fees,
  excluded entries, credits, charges and extensions, each on a random target that exists);
- rollover on (30 days) and overage carried, no adjustments: every customer whose blocks
  end with minutes left, or who had uncovered minutes before a purchase, is drawn day by
  day in order;
- a dated change of rounding and validity half-way through the data (R11);
- the books closed through 60 days before T (R12), on a copy of the database: closed days
  read from the close's record, the days after drawn from the blocks' balances then.

Prints medians and each case's ratio to the baseline (target for the adjustments: ≤ 1.5).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import engine_arguments, engine_data  # noqa: E402
from billing.adjusting import ADJUSTMENT_COLUMNS  # noqa: E402
from billing.policy import US_PER_MINUTE, Policy, load_policy  # noqa: E402
from billing.reports import blocks_frame, compute_books, daily_frame, summary_frame  # noqa: E402
from billing.store import open_db  # noqa: E402


def make_adjustments(con, n: int, as_of: date, seed: int = 1) -> pd.DataFrame:
    """``n`` adjustments on targets that exist: 30 % waive (appointments with a fee), 30 %
    exclude (entries), 15 % credit, 15 % charge (customers), 10 % extend (purchases, by
    1–60 days), dated on random days of the data's last year."""
    rng = np.random.default_rng(seed)
    appts = con.execute("SELECT appointment_id, customer_id FROM appointments "
                        "WHERE status IN ('cancelled', 'no_show')").df()
    entries = con.execute(f"SELECT entry_id, customer_id FROM time_entries USING SAMPLE {n} ROWS").df()
    purchases = con.execute("SELECT purchase_id, customer_id, CAST(purchased_at AS DATE) AS day FROM purchases").df()
    customers = con.execute("SELECT customer_id FROM customers").df()["customer_id"]
    counts = {"waive": n * 3 // 10, "exclude": n * 3 // 10, "credit": n * 15 // 100, "charge": n * 15 // 100}
    counts["extend"] = n - sum(counts.values())
    days = pd.Timestamp(as_of) - pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    rows = []

    def add(kind, target, customer, k, **extra):
        rows.append({"adjustment_id": len(rows) + 1, "kind": kind, "target": target, "customer_id": customer,
                     "on_day": days[len(rows)].date(), "to_day": extra.get("to_day"),
                     "minutes_us": extra.get("minutes_us"), "reason": "bench"})

    for i in rng.choice(len(appts), counts["waive"], replace=False):
        add("waive", appts["appointment_id"].iat[i], appts["customer_id"].iat[i], i)
    for i in range(min(counts["exclude"], len(entries))):
        add("exclude", entries["entry_id"].iat[i], entries["customer_id"].iat[i], i)
    for kind in ("credit", "charge"):
        for i in rng.integers(0, len(customers), counts[kind]):
            add(kind, customers.iat[i], customers.iat[i], i, minutes_us=int(rng.integers(1, 240)) * US_PER_MINUTE // 2)
    for i in rng.choice(len(purchases), counts["extend"], replace=False):
        add("extend", purchases["purchase_id"].iat[i], purchases["customer_id"].iat[i], i,
            to_day=(pd.Timestamp(purchases["day"].iat[i]) + pd.Timedelta(days=90 + int(rng.integers(1, 61)))).date())
    frame = pd.DataFrame(rows, columns=ADJUSTMENT_COLUMNS)
    frame["adjustment_id"] = frame["adjustment_id"].astype("int64")
    return frame


def timed(db: Path, policy: Policy, as_of: date, adjustments) -> tuple[float, float]:
    """Wall and CPU seconds (this process, all its threads) of one computation."""
    t, c = time.perf_counter(), time.process_time()
    with open_db(db, read_only=True) as con:
        books = compute_books(con, policy, as_of, adjustments=adjustments)
    for frame in (daily_frame, blocks_frame, summary_frame):
        frame(books)
    return time.perf_counter() - t, time.process_time() - c


def main() -> int:
    ap = engine_arguments(argparse.ArgumentParser(), runs=3)
    ap.add_argument("--adjustments", type=int, default=10_000)
    args = ap.parse_args()
    as_of = date.fromisoformat(args.as_of)
    work = Path(args.workdir)
    _export, db = engine_data(args)
    policy = load_policy()
    with open_db(db, read_only=True) as con:
        adj = make_adjustments(con, args.adjustments, as_of)
    none = adj.iloc[0:0]
    half = as_of.replace(year=as_of.year - 1)
    closed_db = work / f"bench_{args.entries}_closed.duckdb"
    if not closed_db.exists():
        import shutil

        from billing.closing import close

        shutil.copy(db, closed_db)
        t = time.perf_counter()
        close(closed_db, as_of - timedelta(days=60), policy, by="bench", today=as_of)
        print(f"closing through {as_of - timedelta(days=60)} took {time.perf_counter() - t:.2f} s")
    cases = {
        "no adjustments (baseline)": (policy, none),
        f"{len(adj):,} adjustments ({', '.join(f'{k} {v}' for k, v in adj['kind'].value_counts().items())})":
            (policy, adj),
        "rollover 30 days, overage carried": (policy.with_changes(rollover_days=30, overage="carry"), none),
        f"15-min rounding and 60-day validity from {half}": (
            policy.with_dated_change(half, rounding_increment_minutes=15, hours_valid_days=60), none),
        f"closed through {as_of - timedelta(days=60)}": (policy, none),
    }
    dbs = {name: closed_db if name.startswith("closed") else db for name in cases}
    timed(db, policy, as_of, none)  # warm: imports, DuckDB's first query
    times = {name: [] for name in cases}
    cpus = {name: [] for name in cases}
    for _ in range(args.runs):  # interleaved, so a slow spell of the machine hits all alike
        for name, (p, a) in cases.items():
            wall, cpu = timed(dbs[name], p, as_of, a)
            times[name].append(wall)
            cpus[name].append(cpu)
    base = statistics.median(times["no adjustments (baseline)"])
    base_cpu = statistics.median(cpus["no adjustments (baseline)"])
    print(f"{args.entries:,} entries, as of {as_of}; compute_books + daily, blocks, summary frames; "
          f"median of {args.runs}; CPU seconds are steadier than wall on a shared machine")
    for name in cases:
        m, c = statistics.median(times[name]), statistics.median(cpus[name])
        print(f"{name:<90} {m:7.2f} s  ratio {m / base:4.2f}   CPU {c:6.2f} s  ratio {c / base_cpu:4.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
