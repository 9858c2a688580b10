"""billing.display: the values people read, at their edges, against values worked out by hand."""
from __future__ import annotations

from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from billing import display as d

S = 1_000_000          # µs in a second
MIN = 60 * S
H = 60 * MIN


@pytest.mark.parametrize("us, text", [
    (0, "0 min"),
    (29_999_999, "0 min"),            # 29.999999 s: under half a minute
    (30 * S, "1 min"),                # exactly half a minute: half up
    (59 * MIN + 29_999_999, "59 min"),
    (59 * MIN + 30 * S, "1 h"),       # 59 min 30 s rounds to the hour
    (H, "1 h"),
    (3 * H, "3 h"),                   # exactly N h: no "0 min"
    (174 * H + 5 * MIN + 15 * S, "174 h 5 min"),   # 174 h 5.25 min
    (48 * MIN + 7 * S, "48 min"),     # 48.12 min
    (45 * MIN, "45 min"),
    (-(75 * MIN), "-1 h 15 min"),
    (-(29 * S), "0 min"),             # rounds to zero: no minus
    (-(30 * S), "-1 min"),            # symmetric: -x is the negative of x
])
def test_duration_text_whole_minutes_half_up(us, text):
    assert d.duration_text(us) == text


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, np.nan])
def test_duration_text_missing_is_a_dash(missing):
    assert d.duration_text(missing) == "—"


def test_signed_and_exact():
    assert d.signed_duration_text(90 * MIN) == "+1 h 30 min"
    assert d.signed_duration_text(-45 * MIN) == "-45 min"
    assert d.signed_duration_text(0) == "0 min"
    assert d.exact_minutes_text(174 * H + 5 * MIN + 15 * S) == "exactly 174 h 5.25 min"


@pytest.mark.parametrize("us, text", [
    (90 * MIN, "1 h 30 min"), (12 * MIN + 30 * S, "12 min 30 s"), (H, "1 h"), (H + 5 * S, "1 h 0 min 5 s"),
    (30 * S, "30 s"), (12 * MIN + 20_700_000, "12 min 20.7 s"), (6, "0.0000001 min"), (600_000, "0.01 min"),
    (S, "1 s"), (S - 1, "0.01666665 min"), (0, "0 min"), (-(12 * MIN + 30 * S), "-12 min 30 s")])
def test_exact_duration_text_says_seconds_and_sub_seconds_exactly(us, text):
    # S - 1 = 999,999 µs = 999,999 / 60,000,000 min = 0.01666665 min exactly.
    assert d.exact_duration_text(us) == text


def test_duration_sql_equals_duration_text():
    values = [0, 29_999_999, 30 * S, 59 * MIN + 30 * S, H, 3 * H, 174 * H + 5 * MIN + 15 * S, -(75 * MIN),
              -(29 * S), -(30 * S), 10**15 + 17]
    con = duckdb.connect()
    got = [r[0] for r in con.execute(
        f"SELECT {d.duration_sql('v')} FROM (SELECT unnest(?::BIGINT[]) AS v, generate_subscripts(?::BIGINT[], 1) AS i) ORDER BY i",
        [values, values]).fetchall()]
    assert got == [d.duration_text(v) for v in values]


def test_dates_and_instants():
    assert d.date_text(date(2026, 11, 27)) == "2026-11-27"
    assert d.date_text(pd.Timestamp("2026-11-27 00:00:00")) == "2026-11-27"
    assert d.date_text(np.datetime64("2026-11-27")) == "2026-11-27"
    assert d.date_text(None) == d.date_text(pd.NaT) == "—"
    assert d.datetime_text(datetime(2026, 11, 27, 14, 5, 59)) == "2026-11-27 14:05"
    assert d.datetime_text(pd.NaT) == "—"


def test_codes_and_columns_in_words():
    assert d.code_text("used_up") == "used up"
    assert d.code_text("no_show") == "no-show"
    assert d.code_text("one_on_one") == "1-on-1"
    assert d.code_text("some_new_code") == "some new code"
    assert d.code_text(None) == "—"
    assert d.column_text("import_id") == "import"
    assert d.column_text("undone_at") == "undone at"
    assert d.column_text("adhoc_raw_us") == "ad-hoc logged"
    assert d.column_text("fee_us") == "fee"


def test_people_table_leaves_nothing_raw():
    frame = pd.DataFrame({
        "import_id": [1, 2], "imported_at": pd.to_datetime(["2026-11-27 14:05:07", "2026-11-28 09:00:00"]),
        "day": [date(2026, 11, 27), None], "undone_at": [pd.NaT, pd.Timestamp("2026-11-29 10:11:12")],
        "status": ["used_up", "active"], "fee_us": [30 * S, None], "line": [3.0, np.nan],
        "bucket": pd.to_datetime(["2026-11-01", "2026-12-01"]),
    })
    out = d.people_table(frame, {"fee": "fee charged"})
    assert list(out.columns) == ["import", "imported at", "day", "undone at", "status", "fee charged", "line",
                                 "bucket"]
    assert out.to_dict("list") == {
        "import": [1, 2], "imported at": ["2026-11-27 14:05", "2026-11-28 09:00"], "day": ["2026-11-27", "—"],
        "undone at": ["—", "2026-11-29 10:11"], "status": ["used up", "active"], "fee charged": ["1 min", "—"],
        "line": [3, "—"], "bucket": ["2026-11-01", "2026-12-01"]}


def test_exact_minutes_text_to_us():
    assert d.exact_minutes_us("48.12") == 48 * MIN + 7_200_000   # 0.12 min = 7.2 s
    assert d.exact_minutes_us("") is None


def test_review_text_gives_a_short_entry_in_seconds():
    # 0.6833 min = 40.998 s -> 41 s; 0.0083 min = 0.498 s -> 0 s
    assert d.review_text("entry under one minute (0.6833 min)") == "entry under one minute (41 s)"
    assert d.review_text("entry under one minute (0.0083 min)") == "entry under one minute (0 s)"
    assert d.review_text("session with no time logged") == "session with no time logged"


def test_instants_written_as_text_lose_their_seconds_not_their_offset():
    assert d.datetime_text("2026-08-19T08:01:00") == "2026-08-19 08:01"
    assert d.datetime_text("2026-03-08T09:15:59-05:00") == "2026-03-08 09:15 -05:00"
    assert d.datetime_text("2026-03-08T09:15:00Z") == "2026-03-08 09:15 Z"
    frame = pd.DataFrame({"started_at": ["2026-08-19T08:01:00", None]})
    assert d.people_table(frame)["started"].tolist() == ["2026-08-19 08:01", "—"]


def test_an_empty_text_is_a_dash_too():
    # a no-show has no canceller: "" in a text column (pandas' str dtype) shows a dash
    frame = pd.DataFrame({"cancelled_by": pd.Series(["customer", ""], dtype="str")})
    assert d.people_table(frame)["by"].tolist() == ["customer", "—"]


def test_split_minutes_adds_up_to_the_whole():
    from billing.display import split_minutes

    s = 1_000_000  # µs per second
    # 5 min 20 s + 54 min 40 s = 60 min: each alone rounds to 5 and 55; together 60.
    assert split_minutes([320 * s, 3280 * s]) == [5, 55]
    # 5 min 30 s + 54 min 30 s = 60: rounded alone 6 + 55 = 61; split: the earlier part gets it.
    assert split_minutes([330 * s, 3270 * s]) == [6, 54]
    # Three thirds of a minute and a half: 1 min 30 s total → 2; the largest remainders get them.
    assert split_minutes([30 * s, 30 * s, 30 * s]) == [1, 1, 0]
    assert split_minutes([0, 60 * 60 * s]) == [0, 60] and split_minutes([]) == []


def test_notice_after_the_start_reads_as_such():
    from billing.display import MISSING, notice_text

    assert notice_text(-15 * 60_000_000) == "15 min after the start"
    assert notice_text(10 * 60 * 60_000_000) == "10 h" and notice_text(None) == MISSING


def test_a_close_is_dated_in_the_policys_zone_when_given():
    from datetime import date, datetime

    from billing.display import closed_text

    at = datetime(2026, 11, 2, 14, 14)  # recorded in UTC
    assert closed_text(date(2026, 10, 31), 3, "lead", at, "America/New_York") == \
        "Books closed through 2026-10-31 (closing 3, by lead, on 2026-11-02 09:14 America/New_York)"
    assert closed_text(date(2026, 10, 31), 3, "lead", at).endswith("on 2026-11-02 14:14 UTC)")


def test_a_day_in_a_customers_sentence_has_its_month_in_words():
    from billing.display import MISSING, dates_in_words, day_words

    assert day_words(date(2026, 10, 2)) == "2 Oct 2026" and day_words("2026-12-31") == "31 Dec 2026"
    assert day_words(None) == MISSING
    assert dates_in_words("usable through 2026-05-03 — outage on 2026-02-01") == \
        "usable through 3 May 2026 — outage on 1 Feb 2026"
    assert dates_in_words("logged on 2026-11-04 17:10 (45 min)") == "logged on 4 Nov 2026 17:10 (45 min)"
    assert dates_in_words("at 2026-11-04T17:10:09") == "at 4 Nov 2026 17:10"
    # inside an id, or not a day: left as written
    assert dates_in_words("block PO-2026-10-12 and 2026-13-45") == "block PO-2026-10-12 and 2026-13-45"
    assert dates_in_words(None) is None
