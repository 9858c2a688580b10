"""First and warm rerun time of every dashboard page on a big database (AppTest, in-process).

    .venv/bin/python bench/bench_pages.py [--entries 1000000] [--db bench/out/bench_1m.duckdb]
        [--runs 5] [--period last_30_days|this_year|...]

Builds the database once (bench/make_export.py, then `python -m billing import`) and reuses it
afterwards. For each page: "first" is the page's run with every cache empty (as after an
import), "warm" the median of ``--runs`` reruns with nothing changed. Targets: first < 3 s,
warm < 300 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["pages/overview.py", "pages/usage.py", "pages/expiring.py", "pages/cancellations.py",
         "pages/statement.py", "pages/data_quality.py", "pages/import.py", "pages/policy.py"]
FIRST_BUDGET_S, WARM_BUDGET_S = 3.0, 0.300


def build(db: Path, entries: int) -> None:
    export = db.parent / f"export_{entries}"
    if not (export / "time_entries.csv").exists():
        print(f"writing a {entries:,}-entry export to {export} ...", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_export.py"), str(export),
                        "--entries", str(entries)], check=True)
    print(f"importing it into {db} ...", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "billing", "import", str(export), "--db", str(db)], check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    print(f"imported in {time.perf_counter() - started:.1f} s", flush=True)


def app_test():
    from streamlit.testing.v1 import AppTest

    from tests.apptest_live import as_on_a_live_server

    as_on_a_live_server()  # as on a live server once dashboard.py has called st.navigation
    return AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)


def timed(at) -> float:
    started = time.perf_counter()
    at.run()
    took = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"the page raised: {at.exception[0].value}")
    return took


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--period", default="last_30_days")
    args = parser.parse_args(argv)
    db = args.db or ROOT / "bench" / "out" / f"bench_{args.entries}.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    if not db.exists():
        build(db, args.entries)
    os.environ["HOURBANK_DB"] = str(db)

    from billing import appdata

    at = app_test()
    at.run()
    at.selectbox(key="period").set_value(args.period)
    at.run()
    print(f"{'page':<26}{'first':>10}{'warm (median)':>16}")
    ok = True
    for page in PAGES:
        at.switch_page(page)
        appdata.clear_caches()
        first = timed(at)
        warm = statistics.median(timed(at) for _ in range(args.runs))
        flag = "" if first < FIRST_BUDGET_S and warm < WARM_BUDGET_S else "  over budget"
        ok &= not flag
        print(f"{page:<26}{first * 1000:>8.0f} ms{warm * 1000:>13.0f} ms{flag}", flush=True)
    print(f"budget: first < {FIRST_BUDGET_S:g} s, warm < {WARM_BUDGET_S * 1000:.0f} ms; database {db}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
