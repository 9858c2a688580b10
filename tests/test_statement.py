"""Customer statements built by the engine: every billed minute explained, books balanced."""
import io
from datetime import date

import openpyxl
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
    wb = openpyxl.load_workbook(io.BytesIO(statement_xlsx(st)))
    assert set(wb.sheetnames) >= {"Summary", "Ledger", "Days", "Entries"}
    notes = [c.value for row in wb["Entries"].iter_rows() for c in row if c.value and "cmd" in str(c.value)]
    assert notes and all(c.data_type != "f" for row in wb["Entries"].iter_rows() for c in row)
    csv_text = statement_csv(st).decode("utf-8-sig")
    assert "'=cmd|calc" in csv_text and "165.00" in csv_text
    redacted = statement_csv(st, redact=True).decode("utf-8-sig")
    assert "Bob" not in redacted and "cmd|calc" not in redacted


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
