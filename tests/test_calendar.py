"""R1's one home, billing.calendar: business days in SQL, instants, today."""
from datetime import date

import duckdb
import pandas as pd

from billing.calendar import business_day_expr, today_in, to_utc


def test_r1_to_utc_reads_skipped_and_repeated_wall_times_as_fold_0():
    walls = pd.Series(pd.to_datetime(["2026-03-08 02:30", "2026-11-01 01:30", "2026-07-01 12:00"]))
    utc = to_utc(walls, pd.Series([None, None, None]), "America/New_York")
    assert [str(t) for t in utc] == ["2026-03-08 07:30:00", "2026-11-01 05:30:00", "2026-07-01 16:00:00"]


def test_r1_to_utc_an_offset_decides():
    utc = to_utc(pd.Series(pd.to_datetime(["2026-03-08 09:15"])), pd.Series([-5 * 3600]), "Europe/Paris")
    assert str(utc.iloc[0]) == "2026-03-08 14:15:00"


def test_r1_business_day_sql_written_date_without_offset_instant_date_with_one():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (ts TIMESTAMP, ts_offset INTEGER)")
    con.execute("INSERT INTO t VALUES ('2026-03-08 23:30', NULL), ('2026-03-08 23:30', 0)")
    days = con.execute(f"SELECT {business_day_expr('t', 'ts')} FROM t", {"tz": "Asia/Tokyo"}).fetchall()
    assert [d for (d,) in days] == [date(2026, 3, 8), date(2026, 3, 9)]


def test_today_in_is_a_date():
    assert isinstance(today_in("UTC"), date)
