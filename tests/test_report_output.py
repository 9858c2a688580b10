"""How reports are printed: minutes text, CSV quoting, row order (FORMATS.md "Reports").

The command line's CSV is built by DuckDB line by line and streamed from Arrow buffers
(billing.reports.write_csv); these tests hold it to an independent reference: Python's
Decimal for the figures and Python's csv module for the quoting.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from billing.display import duration_text
from hypothesis import given, settings, strategies as st

from billing.policy import US_PER_MINUTE
from billing.reports import as_table, minutes_sql, report_minutes_text, write_csv, write_table
from billing.rules import sort_by_customer_day

MIN = US_PER_MINUTE
EDGES = [0, 1, 299_999, 300_000, 300_001, 599_999, 600_000, 900_000, 1_500_000, MIN - 1, MIN, 30 * MIN,
         1440 * MIN, 10**15 + 300_000, 2**62]


def reference(us: int) -> str:
    """Minutes to 2 decimals, half up (away from zero), by Decimal."""
    value = (Decimal(us) / MIN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format(value if value != 0 else Decimal("0.00"), "f")


def sql_text(values: list[int]) -> list[str]:
    con = duckdb.connect()
    try:
        con.register("v", pa.table({"us": pa.array(values, pa.int64()), "i": pa.array(range(len(values)))}))
        return [r[0] for r in con.sql(f"SELECT {minutes_sql('us')} FROM v ORDER BY i").fetchall()]
    finally:
        con.close()


def test_minutes_text_in_sql_and_numpy_match_decimal_at_the_edges():
    values = EDGES + [-v for v in EDGES]
    expected = [reference(v) for v in values]
    assert sql_text(values) == expected
    assert list(report_minutes_text(values)) == expected
    assert reference(-1) == "0.00" and reference(-300_000) == "-0.01"  # no "-0.00"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(10**13), 10**13), min_size=1, max_size=50))
def test_minutes_text_matches_decimal_for_any_sum(values):
    expected = [reference(v) for v in values]
    assert sql_text(values) == expected
    assert list(report_minutes_text(values)) == expected


HOSTILE_IDS = ["plain", "with,comma", 'with "quote"', "line\nbreak", "carriage\rreturn", "=SUM(A1)", "  spaced  ",
               "Łódź ünïcode", "'quoted'", ",", '"', "x" * 300, ""]


def frame_of(ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "customer_id": pd.Series(ids, dtype="str"),
        "day": pd.Series(pd.date_range("2026-01-01", periods=n, freq="D"), dtype="datetime64[us]"),
        "billable_us": pd.Series([i * 7 * MIN // 3 for i in range(n)], dtype="int64"),
        "note": pd.Series([None if i % 2 else f"n{i}" for i in range(n)], dtype="object"),
    })


COLUMNS = ["customer_id", "day", "billable_minutes", "note"]


def rfc4180(field: str) -> str:
    """Quoted, inner quotes doubled, when it holds a comma, a quote, CR or LF (Python's csv
    writer leaves a lone CR bare when its line end is LF; a reader may then split the row)."""
    return '"' + field.replace('"', '""') + '"' if any(c in field for c in ',"\r\n') else field


def reference_csv(frame: pd.DataFrame) -> bytes:
    lines = [",".join(COLUMNS)]
    for r in frame.itertuples(index=False):
        lines.append(",".join(rfc4180(v) for v in [r.customer_id, r.day.strftime("%Y-%m-%d"),
                                                    reference(int(r.billable_us)), r.note or ""]))
    return ("\n".join(lines) + "\n").encode()


def test_csv_quotes_only_where_rfc_4180_needs_it_and_reads_back():
    frame = frame_of(HOSTILE_IDS)
    sink = io.BytesIO()
    write_csv(frame, COLUMNS, sink)
    assert sink.getvalue() == reference_csv(frame)
    # It reads back to the same text as the table view of the report.
    rows = list(csv.reader(io.StringIO(sink.getvalue().decode(), newline="")))
    table = as_table(frame, COLUMNS).to_pylist()
    assert rows[0] == COLUMNS
    assert rows[1:] == [[r[c] for c in COLUMNS] for r in table]


def test_csv_of_many_batches_keeps_every_row_in_order():
    n = 150_000  # more than two of write_csv's Arrow batches
    frame = pd.DataFrame({
        "customer_id": pd.Series([f"c{i:06d}" for i in range(n)], dtype="str"),
        "day": pd.Series(np.datetime64("2026-01-01", "D") + (np.arange(n) % 365), dtype="datetime64[us]"),
        "billable_us": pd.Series(np.arange(n, dtype="int64") * 600_001, dtype="int64"),
        "note": pd.Series([None] * n, dtype="object"),
    })
    sink = io.BytesIO()
    write_csv(frame, COLUMNS, sink)
    lines = sink.getvalue().decode().split("\n")
    assert lines[-1] == "" and len(lines) == n + 2
    assert [line.split(",")[0] for line in lines[1:-1]] == list(frame["customer_id"])
    assert lines[123_457] == f"c123456,{(date(2026, 1, 1) + pd.Timedelta(days=123456 % 365)).isoformat()}," \
                             f"{reference(123456 * 600_001)},"


def test_an_empty_report_is_its_header_row():
    sink = io.BytesIO()
    write_csv(frame_of([]), COLUMNS, sink)
    assert sink.getvalue() == b"customer_id,day,billable_minutes,note\n"


@given(st.lists(st.tuples(st.text(min_size=1, max_size=4), st.integers(0, 40)), max_size=60,
                unique=True))
def test_customer_days_are_sorted_by_customer_in_code_point_order_then_day(pairs):
    table = pa.table({"customer_id": pa.array([c for c, _ in pairs], pa.string()),
                      "day": pa.array([date(2026, 1, 1) + pd.Timedelta(days=d) for _, d in pairs], pa.date32()),
                      "row": pa.array(range(len(pairs)), pa.int64())})
    got = sort_by_customer_day(table)
    expected = sorted(range(len(pairs)), key=lambda i: pairs[i])
    assert got.column("row").to_pylist() == expected


@pytest.mark.parametrize("value", ["a,b", 'a"b', "a\nb"])
def test_a_header_that_needs_quoting_is_quoted(value):
    frame = pd.DataFrame({value: pd.Series(["x"], dtype="str")})
    sink = io.BytesIO()
    write_csv(frame, [value], sink)
    assert list(csv.reader(io.StringIO(sink.getvalue().decode(), newline=""))) == [[value], ["x"]]


def reference_table(frame: pd.DataFrame) -> str:
    """The text table, one Python string at a time: billing.display's Python functions (times in
    whole minutes, names in words, a dash for nothing) where write_table uses their SQL twins."""
    if frame.empty:
        return "(no rows)\n"
    cells = [[r.customer_id or "—", r.day.date().isoformat(), duration_text(r.billable_us), r.note or "—"]
             for r in frame.itertuples()]
    names = ["customer", "day", "billable", "note"]
    width = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(names)]
    numeric = [c.endswith("_minutes") for c in COLUMNS]

    def row(values):
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, width, numeric)).rstrip()

    lines = [row(names), "  ".join("-" * w for w in width)] + [row(r) for r in cells]
    return "\n".join(lines) + f"\n({len(cells)} rows; times to the minute, exact in --format csv)\n"


@pytest.mark.parametrize("ids", [["a", "bb"], ["Łódź ünïcode", "x" * 40, "short", ""], []],
                         ids=["plain", "unicode-and-wide", "empty"])
def test_the_table_for_people_pads_every_column_to_its_widest_value(ids):
    frame = frame_of(ids)
    sink = io.BytesIO()
    write_table(frame, COLUMNS, sink)
    assert sink.getvalue().decode() == reference_table(frame)
