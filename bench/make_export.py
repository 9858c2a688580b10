"""Write a synthetic canonical export for benchmarks (billing.synthetic.write_synthetic).

    python bench/make_export.py OUT_DIR --entries 1000000 [--customers 2000 --years 3
        --purchases 10000 --seed 1 --end 2026-11-26 --chunk-rows 1000000]

Prints the row count per file and the seconds taken.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from anywhere

from billing.synthetic import write_synthetic  # noqa: E402
from billing.errors import HourbankError  # noqa: E402


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-26") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic Hourbank export for benchmarks.")
    parser.add_argument("out_dir", metavar="OUT_DIR")
    parser.add_argument("--entries", type=int, required=True, help="time entries to write")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--purchases", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", type=_date, default=None, help="last day of the period (default today)")
    parser.add_argument("--chunk-rows", type=int, default=1_000_000,
                        help="entries generated and written at a time (bounds memory)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        counts = write_synthetic(args.out_dir, entries=args.entries, customers=args.customers,
                                 years=args.years, purchases=args.purchases, seed=args.seed,
                                 end=args.end, chunk_rows=args.chunk_rows)
    except HourbankError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    for name, count in counts.items():
        print(f"{name + '.csv':<20} {count:>12,} rows")
    print(f"written to {args.out_dir} in {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
