"""Customer statements built by the engine: every billed minute explained, books balanced."""
import io
import re
from datetime import date

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from billing.errors import HourbankError
from billing.exports import statement_csv, statement_pdf, statement_xlsx
from billing.policy import Policy
from billing.statement import build_statement, issue_statement, issued_statements, recheck_issued
from billing.store import open_db
from tests.builders import Ledger, appointment, entry, purchase

MIN = 60_000_000
T = date(2026, 4, 30)


@pytest.fixture
def acme(tmp_path):
    led = Ledger(tmp_path, Policy(timezone="UTC"))
    led.load(
        entries=[entry("e1", "2026-01-12T09:00", 5, staff="Ann", customer_name="Łódź Design", notes="=cmd|calc"),
                 entry("e2", "2026-01-12T14:00", 30, staff="Bob"),
                 entry("e3", "2026-01-13T10:00", 45, appointment_id="S1"),
                 entry("e4", "2026-02-02T10:00", 40, tier="general"),
                 entry("e5", "2026-02-03T10:00", 10)],
        appointments=[appointment("S1", "2026-01-13T10:00", 60),
                      appointment("C1", "2026-01-14T15:00", 60, "cancelled", cancelled_at="2026-01-14T05:00")],
        purchases=[purchase("P1", "2026-01-10", 2), purchase("P2", "2026-02-01", 1), purchase("P3", "2026-02-05", 1)])
    return led


def build(led, first, last, as_of=T, policy=None):
    with open_db(led.db, read_only=True) as con:
        return build_statement(con, policy or led.policy, "acme", first, last, as_of)


def test_statement_explains_each_day_as_in_the_worked_example(acme):
    st = build(acme, date(2026, 1, 1), date(2026, 4, 30))
    days = {r.day.isoformat(): r for r in st.days.itertuples()}
    assert days["2026-01-12"].explanation.startswith("ad-hoc 5 min + 30 min = 35 min → rounded up to 1 h")
    assert days["2026-01-12"].paid_by == "P1 1 h"
    assert "session S1: 45 min" in days["2026-01-13"].explanation
    assert "late cancellation fee 30 min" in days["2026-01-14"].explanation
    assert days["2026-01-14"].paid_by.startswith("P1 15 min; 15 min uncovered")
    assert st.customer_name == "Łódź Design"
    assert st.totals["billable_us"] == 165 * MIN and st.totals["uncovered_us"] == 15 * MIN
    assert st.totals["nonbillable_us"] == 40 * MIN


def test_statement_ledger_balances_and_shows_forfeiture_as_it_happens(acme):
    # As of 30 June, P2 (30 min left) expired on 2 May and P3 (unused) on 6 May.
    st = build(acme, date(2026, 1, 1), date(2026, 6, 30), as_of=date(2026, 6, 30))
    assert st.opening_remaining_us == 0
    led = st.ledger
    assert led.iloc[0]["kind"] == "opening" and led.iloc[-1]["kind"] == "closing"
    moves = led[~led["kind"].isin(["opening", "closing"])]
    assert st.opening_remaining_us + int(moves["minutes_us"].sum()) == st.closing_remaining_us == 0
    forfeits = led[led["kind"] == "forfeited"]
    assert [(str(r.date), r.purchase_id, r.minutes_us) for r in forfeits.itertuples()] == [
        ("2026-05-02", "P2", -30 * MIN), ("2026-05-06", "P3", -60 * MIN)]
    assert st.totals["forfeited_us"] == 90 * MIN and st.totals["purchased_us"] == 240 * MIN
    assert st.next_expiry is None
    # As of 30 April the same blocks are still active: nothing forfeited, P2 expires next.
    st_april = build(acme, date(2026, 1, 1), date(2026, 4, 30))
    assert st_april.totals["forfeited_us"] == 0 and st_april.closing_remaining_us == 90 * MIN
    assert st_april.next_expiry == date(2026, 5, 2) and st_april.expiring_us == 90 * MIN


def test_statement_of_a_later_period_opens_with_the_earlier_balance(acme):
    st = build(acme, date(2026, 2, 2), date(2026, 2, 28))
    # At the end of 1 February: P1 0 + P2 60.
    assert st.opening_remaining_us == 60 * MIN
    assert st.closing_remaining_us == 90 * MIN  # P2 30 left + P3 60 bought on 5 February
    assert list(st.days["day"].astype(str)) == ["2026-02-03"]


def test_statement_downloads_carry_the_engine_figures(acme):
    st = build(acme, date(2026, 1, 1), date(2026, 4, 30))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(statement_pdf(st))).pages)
    assert "Łódź Design" in text and "P1 15 min" in text
    wb = openpyxl.load_workbook(io.BytesIO(statement_xlsx(st, internal=True)))
    assert set(wb.sheetnames) >= {"Summary", "Ledger", "Days", "Entries"}
    notes = [c.value for row in wb["Entries"].iter_rows() for c in row if c.value and "cmd" in str(c.value)]
    assert notes and all(c.data_type != "f" for row in wb["Entries"].iter_rows() for c in row)
    csv_text = statement_csv(st, internal=True).decode("utf-8-sig")
    assert "'=cmd|calc" in csv_text and "165.00" in csv_text
    customer = statement_csv(st).decode("utf-8-sig")              # the default: the customer copy
    assert "Bob" not in customer and "cmd|calc" not in customer and "165.00" in customer


def test_issued_statement_is_flagged_when_todays_figures_differ(acme):
    st = build(acme, date(2026, 1, 1), date(2026, 4, 30))
    sid = issue_statement(acme.db, st, {"statement.csv": statement_csv(st)}, issued_by="manager@example.com")
    with open_db(acme.db, read_only=True) as con:
        row = issued_statements(con, "acme").iloc[0]
        assert row["statement_id"] == sid and recheck_issued(con, row) == []
    acme.load(entries=[entry("e6", "2026-02-03T15:00", 25)])  # 10 + 25 = 35 → 60 on 3 Feb
    with open_db(acme.db, read_only=True) as con:
        diffs = recheck_issued(con, issued_statements(con, "acme").iloc[0])
    assert any("billable" in d for d in diffs) and any("2026-02-03" in d for d in diffs)


def test_statement_of_an_unknown_customer_is_a_clear_error(acme):
    with open_db(acme.db, read_only=True) as con, pytest.raises(HourbankError, match="nothing dated"):
        build_statement(con, acme.policy, "nobody", date(2026, 1, 1), date(2026, 1, 31), T)


# --- The summary and the blocks agree with the ledger ------------------------------------------

def _pdf_flat(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_summary_box_figures_by_hand(acme):
    # February as of 30 April (RULES.md worked example): at the start of 1 February P1 has
    # 120 − 60 − 45 − 15 = 0 left, so the opening balance is 0; P2 (1 h, 1 February) and P3
    # (1 h, 5 February) are bought; 3 February bills 10 → 30 min, from P2 (P1 is empty);
    # nothing is forfeited; closing 0 + 120 − 30 − 0 = 90 min: P2 30 + P3 60. Next expiry:
    # P2's last day, 2 May (1 February + 90 days), with its 30 min.
    st = build(acme, date(2026, 2, 1), date(2026, 2, 28))
    assert (st.opening_remaining_us, st.totals["purchased_us"], st.totals["covered_us"],
            st.totals["forfeited_us"], st.closing_remaining_us) == (0, 120 * MIN, 30 * MIN, 0, 90 * MIN)
    assert (st.next_expiry, st.next_expiry_us) == (date(2026, 5, 2), 30 * MIN)
    assert st.totals["billable_us"] == 30 * MIN and st.totals["uncovered_us"] == 0
    flat = _pdf_flat(statement_pdf(st))
    for text in ("Summary for 1 Feb 2026 to 28 Feb 2026", "Opening balance (start of 1 Feb 2026) 0 min",
                 "Purchased + 2 h", "Used (paid from prepaid hours) − 30 min", "Forfeited (expired unused) − 0 min",
                 "Closing balance (end of 28 Feb 2026) 1 h 30 min", "Next expiry 2 May 2026",
                 "Left in the blocks ending then 30 min", "Billed in the period 30 min",
                 "Not covered (invoiced separately) 0 min"):
        assert text in flat, text
    summary = {row[0].value: row for row in openpyxl.load_workbook(
        io.BytesIO(statement_xlsx(st)))["Summary"].iter_rows(min_row=3)}
    assert [summary[k][2].value for k in ("Opening balance", "Purchased", "Used (paid from prepaid hours)",
                                          "Forfeited (expired unused)", "Closing balance",
                                          "Left in the blocks ending then")] == [0, 120, 30, 0, 90, 30]


def _blocks(st) -> dict[str, tuple]:
    """purchase id → (left at start, used, forfeited, left at end) in minutes, status."""
    return {r.purchase_id: (None if pd.isna(r.left_at_start_us) else r.left_at_start_us // MIN, r.used_us // MIN,
                            r.forfeited_us // MIN, r.left_at_end_us // MIN, r.status)
            for r in st.blocks.itertuples()}


def _assert_blocks_agree(st):
    b = st.blocks
    assert int(b["left_at_end_us"].sum()) == st.closing_remaining_us
    assert int(b["left_at_start_us"].fillna(0).sum()) == st.opening_remaining_us
    assert int(b["used_us"].sum()) == st.totals["covered_us"]
    assert int(b["forfeited_us"].sum()) == st.totals["forfeited_us"]
    bought = b["left_at_start_us"].isna()
    start = b["left_at_start_us"].fillna(0).astype("int64") + b["purchased_us"].where(bought, 0)
    assert (start - b["used_us"] - b["forfeited_us"] == b["left_at_end_us"]).all()   # block by block


def test_blocks_are_shown_as_of_the_end_of_a_past_period_with_forfeitures(acme):
    # April-May as of 30 June; P4 is bought on 10 June, after the period. At the start of
    # 1 April: P1 (last day 10 April) 0, P2 30, P3 60: opening 90. Nothing is billed; P2's
    # 30 min are forfeited at the end of 2 May, P3's 60 at the end of 6 May: closing 0.
    acme.load(purchases=[purchase("P4", "2026-06-10", 1)])
    st = build(acme, date(2026, 4, 1), date(2026, 5, 31), as_of=date(2026, 6, 30))
    assert _blocks(st) == {"P1": (0, 0, 0, 0, "used_up"), "P2": (30, 0, 30, 0, "forfeited"),
                           "P3": (60, 0, 60, 0, "forfeited")}
    assert (st.opening_remaining_us, st.totals["forfeited_us"], st.closing_remaining_us) == (90 * MIN, 90 * MIN, 0)
    assert st.next_expiry is None and st.next_expiry_us == 0
    _assert_blocks_agree(st)
    # As of 30 June P4 has its hour: the statement's blocks do not (the old page did).
    with open_db(acme.db, read_only=True) as con:
        from billing.reports import compute_books
        today = compute_books(con, acme.policy, date(2026, 6, 30), "acme").blocks
    assert int(today["remaining_us"].sum()) == 60 * MIN != st.closing_remaining_us


def test_blocks_bought_after_the_period_are_neither_shown_nor_counted(acme):
    # January-February as of 30 April, with P5 bought on 15 March (after the period, before T).
    acme.load(purchases=[purchase("P5", "2026-03-15", 2)])
    st = build(acme, date(2026, 1, 1), date(2026, 2, 28))
    assert set(_blocks(st)) == {"P1", "P2", "P3"}
    assert _blocks(st) == {"P1": (None, 120, 0, 0, "used_up"), "P2": (None, 30, 0, 30, "active"),
                           "P3": (None, 0, 0, 60, "active")}
    assert st.closing_remaining_us == 90 * MIN and st.totals["purchased_us"] == 240 * MIN
    _assert_blocks_agree(st)
    text = statement_csv(st).decode("utf-8-sig")
    assert "P5" not in text


@pytest.mark.parametrize("as_of, p2_left, closing", [
    (date(2026, 5, 2), 30, 90),    # T is P2's last day: still usable, not forfeited yet (R9)
    (date(2026, 5, 3), 0, 60),     # the day after: P2's 30 min were forfeited at the end of 2 May
])
def test_a_block_ending_on_the_periods_last_day(acme, as_of, p2_left, closing):
    st = build(acme, date(2026, 4, 1), date(2026, 5, 2), as_of=as_of)
    assert _blocks(st)["P2"][3] == p2_left and st.closing_remaining_us == closing * MIN
    assert st.totals["forfeited_us"] == (30 - p2_left) * MIN
    _assert_blocks_agree(st)


def test_a_period_after_the_as_of_date_is_a_clear_error(acme):
    with open_db(acme.db, read_only=True) as con, pytest.raises(HourbankError, match="starts after the as-of date"):
        build_statement(con, acme.policy, "acme", date(2026, 5, 1), date(2026, 5, 31), T)


def test_blocks_agree_with_the_ledger_on_a_year_of_demo_data(tmp_path):
    # Every customer, calendar months and odd periods: the engine's own check (StatementError)
    # and the block by block identity hold on realistic data with forfeitures and top-ups.
    from tests.builders import demo_database

    db = demo_database(tmp_path, date(2026, 11, 27))
    policy = Policy()
    periods = [(date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 5, 15), date(2026, 6, 15)),
               (date(2025, 12, 1), date(2026, 11, 30)), (date(2026, 11, 1), date(2026, 11, 30))]
    checked = 0
    with open_db(db, read_only=True) as con:
        customers = [c for c, in con.execute("SELECT customer_id FROM customers ORDER BY 1").fetchall()][::4]
        for customer in customers:
            for first, last in periods:
                st = build_statement(con, policy, customer, first, last, date(2026, 11, 27))
                _assert_blocks_agree(st)
                checked += 1
    assert checked == len(customers) * len(periods) >= 40


# --- Two copies -------------------------------------------------------------------------------

def test_customer_copy_of_an_engine_statement_says_nothing_internal(acme):
    acme.load(appointments=[appointment("N1", "2026-02-10T09:00", 60, "no_show")],
              entries=[entry("TE-9001", "2026-02-11T10:00:00", 20, staff="Ann", activity="status_call",
                             notes="internal: slow to answer")])
    st = build(acme, date(2026, 1, 1), date(2026, 2, 28))
    flat = _pdf_flat(statement_pdf(st))
    xlsx = openpyxl.load_workbook(io.BytesIO(statement_xlsx(st)))
    cells = " ".join(str(c.value) for ws in xlsx.worksheets for row in ws.iter_rows() for c in row
                     if c.value is not None and not c.is_date)
    for text in (flat, cells, statement_csv(st).decode("utf-8-sig")):
        for secret in ("Ann", "Bob", "TE-9001", "slow to answer", "cmd|calc", st.policy_fingerprint):
            assert secret not in text, secret
        assert not re.search(r"\bR\d{1,2}\b", text)
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\d:\d\d", text)
        assert not re.search(r"\b(no_show|used_up|one_on_one|status_call|adhoc)\b", text)
        assert not re.search(r"\binternal\b", text, re.IGNORECASE)
    assert "late cancellation (less than 24 h notice) of appointment C1: 30 min" in flat
    assert "no-show of appointment N1: 30 min" in flat and "status call" in flat
    internal = _pdf_flat(statement_pdf(st, internal=True))
    assert "TE-9001" in internal and "slow to answer" in internal and "(R6)" in internal
