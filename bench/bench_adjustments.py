"""Benchmark of recording adjustments (R10) and of reading those in force, on the demo data.

    python bench/bench_adjustments.py [--adjustments 10000] [--records 200] [--runs 5] [--workdir bench/out/adjust]

Prints: the time of one ``record`` (checks, one row, the data version, one transaction) on an
open connection and through a path (which opens the file each time, as the command line
does); then, with --adjustments rows on record (a quarter of them voided), the time of
``in_force`` as of T and of ``history``, each beside ``compute_books`` of the same database
(their ratio: the share the engine would add to read them). Medians of --runs runs.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from billing import adjustments as adj  # noqa: E402
from billing.policy import Policy  # noqa: E402
from billing.reports import compute_books  # noqa: E402
from billing.store import bump_data_version, open_db  # noqa: E402
from tests.builders import demo_database  # noqa: E402

TODAY = date(2026, 11, 29)


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--adjustments", type=int, default=10_000)
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workdir", default=str(ROOT / "bench" / "out" / "adjust"))
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("demo.duckdb*"):
        old.unlink()
    db = demo_database(work, TODAY)
    policy = Policy()
    with open_db(db, read_only=True) as con:
        customers = [r[0] for r in con.execute("SELECT DISTINCT customer_id FROM purchases").fetchall()]

    with open_db(db) as con:
        start = time.perf_counter()
        for i in range(args.records):
            adj.record(con, "credit", customers[i % len(customers)], on=TODAY, by="bench", reason="bench",
                       minutes="12.5", policy=policy)
        per_con = (time.perf_counter() - start) * 1000 / args.records
    start = time.perf_counter()
    for i in range(20):
        adj.record(db, "charge", customers[i % len(customers)], on=TODAY, by="bench", reason="bench", minutes="5",
                   policy=policy)
    per_path = (time.perf_counter() - start) * 1000 / 20
    print(f"record: {per_con:.1f} ms each on an open connection, {per_path:.1f} ms through the path "
          f"(opening the file each time)")

    # Fill up to --adjustments rows directly (what record writes, without its checks), a quarter voided.
    rng = random.Random(7)
    with open_db(db) as con:
        n = con.execute("SELECT count(*) FROM adjustments").fetchone()[0]
        rows = []
        for number in range(n + 1, args.adjustments + 1):
            on = TODAY - timedelta(days=rng.randrange(365))
            if number > n + 4 and rng.random() < 0.25:
                rows.append((number, "void", str(rng.randrange(1, number)), "x", on, None, None, "r", "bench",
                             datetime(2026, 11, 29)))
            else:
                rows.append((number, "credit", customers[number % len(customers)], customers[number % len(customers)],
                             on, None, 6_000_000 * rng.randrange(1, 600), "r", "bench", datetime(2026, 11, 29)))
        con.executemany("INSERT INTO adjustments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        bump_data_version(con)
        total = con.execute("SELECT count(*) FROM adjustments").fetchone()[0]

    with open_db(db, read_only=True) as con:
        forced = median_ms(lambda: adj.in_force(con, TODAY), args.runs)
        listed = median_ms(lambda: adj.history(con), args.runs)
        books = median_ms(lambda: compute_books(con, policy, TODAY), args.runs)
        applying = len(adj.in_force(con, TODAY))
        entries = con.execute("SELECT count(*) FROM time_entries").fetchone()[0]
    print(f"{total:,} adjustments on record ({applying:,} applying as of {TODAY}), {entries:,} entries")
    print(f"in_force: {forced:.1f} ms   history: {listed:.1f} ms   compute_books: {books:.1f} ms   "
          f"ratio in_force / compute_books: {forced / books:.2f}")


if __name__ == "__main__":
    main()
