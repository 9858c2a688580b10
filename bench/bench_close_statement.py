"""Benchmark: what a close costs now that it keeps the entries of the days it freezes, and what
a statement over time costs beside the books it is built from.

    python bench/bench_close_statement.py [--entries 300000] [--runs 3] [--workdir bench/out/close]

On a synthetic export (billing.synthetic, made and imported here if missing), prints medians:

- ``close``: billing.closing.close through the data's last month end, and the part of it that
  writes closed_entries (the share the entries add to a close);
- ``statement``: billing.statement.build_statement of the busiest customer for that month,
  books open and books closed (a statement of a closed month reads the close's entries), each
  beside compute_books of that customer alone (the ratio is what the explanation adds).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from billing import closing  # noqa: E402
from billing.policy import Policy  # noqa: E402
from billing.reports import compute_books  # noqa: E402
from billing.statement import build_statement  # noqa: E402
from billing.store import open_db  # noqa: E402


def median_seconds(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "close")
    args = parser.parse_args(argv)
    export, db = args.workdir / f"export-{args.entries}", args.workdir / f"data-{args.entries}.duckdb"
    end = date(2026, 11, 26)
    if not db.exists():
        args.workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_export.py"), str(export), "--entries",
                        str(args.entries), "--end", end.isoformat()], check=True)
        subprocess.run([sys.executable, "-m", "billing", "import", str(export), "--db", str(db)], check=True,
                       cwd=ROOT)
    policy = Policy()
    through = end.replace(day=1) - timedelta(days=1)
    first = through.replace(day=1)
    with open_db(db, read_only=True) as con:
        customer = con.execute("SELECT customer_id FROM time_entries GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                               ).fetchone()[0]

    def books_and_statement(path: Path) -> tuple[float, float]:
        """Median seconds of the customer's books alone, then of its statement, read from ``path``."""
        def books():
            with open_db(path, read_only=True) as con:
                compute_books(con, policy, end, customer)

        def statement():
            with open_db(path, read_only=True) as con:
                build_statement(con, policy, customer, first, through, end)

        return median_seconds(books, args.runs), median_seconds(statement, args.runs)

    open_books, open_statement = books_and_statement(db)

    # Each close on a copy of the database (a close cannot be repeated on the same days).
    closes, entry_parts = [], []
    original = closing._write_entries
    for run in range(args.runs):
        copy = args.workdir / f"copy-{run}.duckdb"
        shutil.copyfile(db, copy)
        spent = []

        def timed(*a, **k):
            start = time.perf_counter()
            original(*a, **k)
            spent.append(time.perf_counter() - start)

        closing._write_entries = timed
        try:
            start = time.perf_counter()
            closing.close(copy, through, policy, by="bench", today=end)
            closes.append(time.perf_counter() - start)
            entry_parts.append(spent[0])
        finally:
            closing._write_entries = original
        if run < args.runs - 1:
            copy.unlink()
    db_closed = args.workdir / f"copy-{args.runs - 1}.duckdb"
    shut_books, shut_statement = books_and_statement(db_closed)
    with open_db(db_closed, read_only=True) as con:
        kept = con.execute("SELECT count(*) FROM closed_entries").fetchone()[0]
    db_closed.unlink()
    close, part = statistics.median(closes), statistics.median(entry_parts)
    print(f"{args.entries:,} entries; close through {through}: {close:.2f} s, of which keeping "
          f"{kept:,} entries {part:.2f} s ({part / close:.0%} of the close)")
    print(f"statement of {customer} for {first} – {through} as of {end}:")
    print(f"  books open:   statement {open_statement:.2f} s, its books alone {open_books:.2f} s "
          f"(statement / books {open_statement / open_books:.2f})")
    print(f"  books closed: statement {shut_statement:.2f} s, its books alone {shut_books:.2f} s "
          f"(statement / books {shut_statement / shut_books:.2f}; closed / open statement "
          f"{shut_statement / open_statement:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
