"""Customer statement downloads (billing/exports/) and the statement model.

The statement is built by hand here, like the lead's engine would fill it, after the
RULES.md worked example: 5 + 30 = 35 -> 60 (R5), a session (R4), a late-cancellation
fee (R6) on a day paid by two blocks (R8), a forfeiture (R9) and an uncovered day (R8).
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from pypdf import PdfReader

from billing.exports import (INTERNAL_MARK, safe_cell, statement_csv, statement_filename, statement_files,
                             statement_pdf, statement_xlsx)
from billing.policy import US_PER_MINUTE, Policy
from billing.statement_model import (Statement, StatementError, empty_table, format_minutes,
                                     hours_number, minutes_number)
from billing.team import Team, load_team

M = US_PER_MINUTE
CUSTOMER = "+1 Łódź Design 東京"
ANN = "Ann Łukasik"
TARO = "山田太郎"
CAROL = "Carol Ng"
STAFF = (ANN, TARO, CAROL)
HYPERLINK_NOTE = '=HYPERLINK("http://evil.example/x","click me")'
SECRET_NOTE = "internal: customer was rude on the phone"
D = date.fromisoformat


def _us(minutes) -> int:
    return int(Decimal(str(minutes)) * M)


def build_statement(**changes) -> Statement:
    policy = Policy()
    days = pd.DataFrame([
        # R5: 5 + 30 = 35 -> 60, paid by P1.
        dict(day=D("2026-01-12"), adhoc_raw_us=_us(35), adhoc_billed_us=_us(60), session_us=0, fee_us=0,
             billable_us=_us(60), covered_us=_us(60), uncovered_us=0,
             explanation="ad-hoc 5 min + 30 min = 35 min -> rounded up to 60 min (R5)", paid_by="P1 60 min",
             customer_explanation="ad-hoc work 5 min + 30 min = 35 min -> rounded up to 1 h",
             customer_paid_by="P1 1 h"),
        # R4: session billed as logged; the staff name in free text must be redacted too.
        dict(day=D("2026-01-13"), adhoc_raw_us=0, adhoc_billed_us=0, session_us=_us(45), fee_us=0,
             billable_us=_us(45), covered_us=_us(45), uncovered_us=0,
             explanation=f"session 45 min with {ANN} (R4)", paid_by="P1 45 min",
             customer_explanation=f"session 45 min with {ANN}", customer_paid_by="P1 45 min"),
        # R6 fee + R8 drawn from two blocks, oldest expiry first.
        dict(day=D("2026-01-21"), adhoc_raw_us=_us(10), adhoc_billed_us=_us(30), session_us=0,
             fee_us=_us(30), billable_us=_us(60), covered_us=_us(60), uncovered_us=0,
             explanation="ad-hoc 10 min -> rounded up to 30 min (R5); late-cancellation fee 30 min (R6)",
             paid_by="P1 15 min, P2 45 min",
             customer_explanation="ad-hoc work 10 min -> rounded up to 30 min; late cancellation 30 min",
             customer_paid_by="P1 15 min, P2 45 min"),
        # R8: nothing left in a valid block -> uncovered.
        dict(day=D("2026-04-22"), adhoc_raw_us=_us(12.5), adhoc_billed_us=_us(30), session_us=0, fee_us=0,
             billable_us=_us(30), covered_us=0, uncovered_us=_us(30),
             explanation="ad-hoc 13 min -> rounded up to 30 min (R5)", paid_by="30 min uncovered (R8)",
             customer_explanation="ad-hoc work 13 min -> rounded up to 30 min",
             customer_paid_by="30 min not covered by prepaid hours"),
    ])
    entries = pd.DataFrame([
        dict(day=D("2026-01-12"), started_at="2026-01-12T09:00:00", entry_id="E1", staff=ANN,
             activity="setup", tier="one_on_one", kind="ad-hoc", minutes_us=_us(5), customer_requested=False,
             appointment_id=None, notes=HYPERLINK_NOTE),
        dict(day=D("2026-01-12"), started_at="2026-01-12T14:00:00", entry_id="E2", staff=TARO,
             activity="research", tier="one_on_one", kind="ad-hoc", minutes_us=_us(30),
             customer_requested=True, appointment_id=None, notes=SECRET_NOTE),
        dict(day=D("2026-01-13"), started_at="2026-01-13T10:00:00", entry_id="E3", staff=ANN,
             activity="status_call", tier="one_on_one", kind="session", minutes_us=_us(45),
             customer_requested=False, appointment_id="A1", notes=None),
        dict(day=D("2026-01-21"), started_at="2026-01-21 08:30", entry_id="E4", staff=ANN,
             activity="monitoring", tier="one_on_one", kind="ad-hoc", minutes_us=_us(10),
             customer_requested=False, appointment_id=None, notes=None),
        dict(day=D("2026-02-02"), started_at="2026-02-02T11:00:00Z", entry_id="E5", staff=CAROL,
             activity="chat", tier="general", kind="general (free)", minutes_us=_us(40),
             customer_requested=False, appointment_id=None, notes=None),
        dict(day=D("2026-04-22"), started_at="2026-04-22T16:00:00", entry_id="E6", staff=ANN,
             activity="@mention sync", tier="one_on_one", kind="ad-hoc", minutes_us=_us(12.5),
             customer_requested=False, appointment_id=None, notes="Łódź visit ☕"),
    ])
    fees = pd.DataFrame([
        dict(day=D("2026-01-21"), appointment_id="A2", fee_kind="late cancellation", status="cancelled",
             cancelled_by="customer", scheduled_start="2026-01-21T15:00:00", cancelled_at="2026-01-21T05:00:00",
             notice_us=600 * M, fee_us=_us(30)),
    ])

    def line(day, kind, text, pid, minutes, balance, customer=None):
        return dict(date=D(day), kind=kind, description=text, customer_description=customer or text,
                    purchase_id=pid, minutes_us=minutes, balance_us=balance)
    ledger = pd.DataFrame([
        line("2026-01-01", "opening", "opening balance", None, 0, 0),
        line("2026-01-10", "purchase", "purchase P1, 2 h, usable through 2026-04-10 (R7)", "P1", _us(120), _us(120),
             "purchase P1, 2 h, usable through 2026-04-10"),
        line("2026-01-12", "billed", "billed 60 min (R8)", "P1", -_us(60), _us(60), "billed 1 h"),
        line("2026-01-13", "billed", "billed 45 min (R8)", "P1", -_us(45), _us(15), "billed 45 min"),
        line("2026-01-20", "purchase", "purchase P2, 1 h, usable through 2026-04-20 (R7)", "P2", _us(60), _us(75),
             "purchase P2, 1 h, usable through 2026-04-20"),
        line("2026-01-21", "billed", "billed 60 min (part)", "P1", -_us(15), _us(60)),
        line("2026-01-21", "billed", "billed 60 min (part)", "P2", -_us(45), _us(15)),
        line("2026-04-20", "forfeited", "P2 expired with 15 min left: forfeited (R9)", "P2", -_us(15), 0,
             "15 min left in P2 expired unused"),
        line("2026-04-22", "uncovered", "30 min not covered by prepaid hours (R8)", None, 0, 0,
             "30 min not covered by prepaid hours"),
        line("2026-04-25", "purchase", "purchase P3, 1 h, usable through 2026-07-24 (R7)", "P3", _us(60), _us(60),
             "purchase P3, 1 h, usable through 2026-07-24"),
        line("2026-04-30", "closing", "closing balance", None, 0, _us(60)),
    ])
    # At the end of the period (all three bought in it: no balance at its start).
    blocks = pd.DataFrame([
        dict(purchase_id="P1", purchased_on=D("2026-01-10"), expires_on=D("2026-04-10"), purchased_us=_us(120),
             left_at_start_us=None, used_us=_us(120), forfeited_us=0, left_at_end_us=0, status="used_up"),
        dict(purchase_id="P2", purchased_on=D("2026-01-20"), expires_on=D("2026-04-20"), purchased_us=_us(60),
             left_at_start_us=None, used_us=_us(45), forfeited_us=_us(15), left_at_end_us=0, status="forfeited"),
        dict(purchase_id="P3", purchased_on=D("2026-04-25"), expires_on=D("2026-07-24"), purchased_us=_us(60),
             left_at_start_us=None, used_us=0, forfeited_us=0, left_at_end_us=_us(60), status="active"),
    ])
    blocks["left_at_start_us"] = blocks["left_at_start_us"].astype("Int64")
    totals = dict(
        billable_us=int(days.billable_us.sum()), covered_us=int(days.covered_us.sum()),
        uncovered_us=int(days.uncovered_us.sum()), fee_us=int(days.fee_us.sum()),
        session_us=int(days.session_us.sum()), adhoc_raw_us=int(days.adhoc_raw_us.sum()),
        adhoc_billed_us=int(days.adhoc_billed_us.sum()), purchased_us=int(blocks.purchased_us.sum()),
        forfeited_us=int(blocks.forfeited_us.sum()),
        nonbillable_us=int(entries.loc[entries.tier == "general", "minutes_us"].sum()),
    )
    values = dict(
        customer_id="cust-1", customer_name=CUSTOMER, period_from=D("2026-01-01"), period_to=D("2026-04-30"),
        as_of=D("2026-04-30"), policy=policy.as_dict(), policy_fingerprint=policy.fingerprint(),
        data_version=7, generated_at=datetime(2026, 4, 30, 17, 5, tzinfo=timezone.utc),
        opening_remaining_us=0, closing_remaining_us=int(blocks.left_at_end_us.sum()),
        next_expiry=D("2026-07-24"), next_expiry_us=_us(60), expiring_us=0, totals=totals,
        days=days, entries=entries, fees=fees, ledger=ledger, blocks=blocks,
    )
    values.update(changes)
    return Statement(**values)


@pytest.fixture(scope="module")
def st() -> Statement:
    return build_statement()


def test_hand_built_statement_balances(st):
    # R9: purchased = used + forfeited + remaining; the ledger ends at the closing balance.
    t = st.totals
    assert t["purchased_us"] == int(st.blocks.used_us.sum()) + t["forfeited_us"] + st.closing_remaining_us
    assert int(st.blocks.left_at_end_us.sum()) == st.closing_remaining_us
    assert t["billable_us"] == t["covered_us"] + t["uncovered_us"]
    assert int(st.ledger.balance_us.iloc[-1]) == st.closing_remaining_us


# --- format_minutes / minutes_number -----------------------------------------------------

@pytest.mark.parametrize("us, text", [
    (0, "0 min"),
    (45 * M, "45 min"),
    (60 * M, "1 h"),
    (90 * M, "1 h 30 min"),
    (120 * M, "2 h"),
    (_us(12.5), "12.5 min"),
    (_us(0.25), "0.25 min"),
    (_us(90.5), "1 h 30.5 min"),
    (M // 3, "0.33 min"),               # 20 s: 0.333... printed with 2 decimals
    (1, "0 min"),                       # one microsecond rounds away when printed
    (60 * M - 1, "1 h"),                # 59.99999... min carries into the hour
    (-75 * M, "-1 h 15 min"),           # a draw in the ledger
])
def test_format_minutes(us, text):
    assert format_minutes(us) == text


def test_minutes_number_rounds_half_up_once():
    assert minutes_number(_us(0.005)) == Decimal("0.01")       # exactly half: up
    assert minutes_number(_us(0.005) - 1) == Decimal("0.00")   # a microsecond under half: down
    assert minutes_number(_us(-0.005)) == Decimal("-0.01")     # half away from zero
    assert str(minutes_number(45 * M)) == "45.00"
    assert str(minutes_number(0)) == "0.00"
    assert hours_number(90 * M) == Decimal("1.50")
    # Exact for large figures too (no float): 10 million hours and one microsecond.
    assert str(minutes_number(600_000_000 * M + 1)) == "600000000.00"


def test_statement_rejects_missing_column_in_one_sentence(st):
    with pytest.raises(StatementError, match=r"table 'fees' lacks column\(s\) fee_us\."):
        build_statement(fees=st.fees.drop(columns=["fee_us"]))
    with pytest.raises(StatementError, match="totals lack nonbillable_us"):
        build_statement(totals={k: v for k, v in st.totals.items() if k != "nonbillable_us"})


# --- safe_cell ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["=1+1", "+1 Łódź", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd", HYPERLINK_NOTE])
def test_safe_cell_neutralises_formula_text(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Łódź Design", "a=b", " =x", "", None, 15, -15, Decimal("-15.00"), 2.5,
                                   date(2026, 1, 2)])
def test_safe_cell_leaves_other_values(value):
    assert safe_cell(value) == value
    assert type(safe_cell(value)) is type(value)   # numbers stay numbers


# --- CSV --------------------------------------------------------------------------------------

def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM so Excel reads accents right"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def _csv_sections(rows: list[list[str]]) -> dict[str, list[list[str]]]:
    """Blank-line separated blocks keyed by their title row."""
    sections, current = {}, []
    for row in rows + [[]]:
        if not row:
            if current:
                sections[current[0][0]] = current[1:]
            current = []
        else:
            current.append(row)
    return sections


def _csv_table(sections, name) -> list[dict]:
    header, *rows = sections[name]
    return [dict(zip(header, row)) for row in rows]


def test_csv_sections_and_summary(st):
    sections = _csv_sections(_csv_rows(statement_csv(st, internal=True)))
    assert list(sections) == [INTERNAL_MARK, "Ledger", "Days", "Entries", "Fees", "Blocks", "Adjustments"]
    first = sections[INTERNAL_MARK]
    assert first[0] == ["Statement of prepaid hours"] and first[1] == ["Item", "Value", "Minutes", "Hours", "As shown"]
    head = {row[0]: row[1:] for row in first[2:]}
    assert head["Customer"] == ["'" + CUSTOMER]                 # starts with "+": neutralised
    assert head["First day"] == ["2026-01-01"] and head["Last day"] == ["2026-04-30"]
    assert head["Statement date"] == ["2026-04-30"]
    assert head["Generated"] == ["2026-04-30 17:05 UTC"]
    assert head["Policy fingerprint"] == [st.policy_fingerprint]
    assert head["Data version"] == ["7"]
    assert head["Billed in the period"] == ["", "195.00", "3.25", "3 h 15 min"]
    assert head["Ad-hoc work as logged"][1] == "57.50"
    assert head["Closing balance"][1:] == ["60.00", "1.00", "1 h"]
    assert head["Next expiry"] == ["2026-07-24"]
    assert head["Left in the blocks ending then"][1] == "60.00"
    # The customer copy: the title first, nothing of the policy.
    customer = _csv_sections(_csv_rows(statement_csv(st)))
    assert list(customer)[0] == "Statement of prepaid hours"
    items = {row[0] for row in customer["Statement of prepaid hours"]}
    assert not items & {"Generated", "Policy fingerprint", "Data version"}
    assert not any(i.startswith("Policy:") for i in items)


def test_csv_tables_numbers_have_two_decimals(st):
    sections = _csv_sections(_csv_rows(statement_csv(st, internal=True)))
    days = _csv_table(sections, "Days")
    assert len(days) == len(st.days)
    first = days[0]
    assert (first["Day"], first["Ad-hoc logged (minutes)"], first["Ad-hoc billed (minutes)"]) == (
        "2026-01-12", "35.00", "60.00")
    assert first["How it was reached"] == "ad-hoc 5 min + 30 min = 35 min -> rounded up to 60 min (R5)"
    two_blocks = days[2]
    assert two_blocks["Paid by"] == "P1 15 min, P2 45 min" and two_blocks["Fees (minutes)"] == "30.00"
    assert days[3]["Not covered (minutes)"] == "30.00" and days[3]["Ad-hoc logged (minutes)"] == "12.50"
    minute_cells = [v for d in days for k, v in d.items() if "(minutes)" in k]
    assert minute_cells and all(re.fullmatch(r"-?\d+\.\d\d", v) for v in minute_cells)

    ledger = _csv_table(sections, "Ledger")
    assert [r["Kind"] for r in ledger] == list(st.ledger.kind)
    forfeit = next(r for r in ledger if r["Kind"] == "forfeited")
    # A negative number stays a number: no apostrophe in front of "-15.00".
    assert (forfeit["Minutes"], forfeit["Balance after (minutes)"]) == ("-15.00", "0.00")

    entries = _csv_table(sections, "Entries")
    assert entries[0]["Notes"] == "'" + HYPERLINK_NOTE
    assert entries[5]["Activity"] == "'@mention sync"
    assert entries[5]["Minutes"] == "12.50"
    assert entries[1]["Asked for by the customer"] == "yes" and entries[1]["Staff"] == TARO
    fee = _csv_table(sections, "Fees")[0]
    assert (fee["Notice given (minutes)"], fee["Fee (minutes)"], fee["Status"]) == ("600.00", "30.00", "cancelled")
    assert fee["What"] == "late cancellation (less than 24 h notice) (R6)"
    blocks = _csv_table(sections, "Blocks")
    assert [(b["Block"], b["Status at end"], b["Forfeited in the period (minutes)"], b["Left at end (minutes)"])
            for b in blocks] == [("P1", "used up", "0.00", "0.00"), ("P2", "forfeited", "15.00", "0.00"),
                                 ("P3", "active", "0.00", "60.00")]
    assert {b["Left at start (minutes)"] for b in blocks} == {""}      # all bought in the period
    # No cell anywhere starts with a formula trigger.
    for rows in sections.values():
        for row in rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
                assert not cell.startswith("-") or re.fullmatch(r"-\d+\.\d\d", cell), cell


def test_csv_customer_copy_tables_in_words(st):
    sections = _csv_sections(_csv_rows(statement_csv(st)))
    entries = _csv_table(sections, "Entries")
    assert list(entries[0]) == ["Day", "Started", "Activity", "Kind", "Minutes", "Asked for by the customer",
                                "Appointment"]
    assert [e["Started"] for e in entries[:4]] == ["09:00", "14:00", "10:00", "08:30"]
    assert entries[4]["Started"] == "11:00 Z" and entries[4]["Kind"] == "General Support (free)"
    assert entries[2]["Activity"] == "status call" and entries[0]["Kind"] == "ad-hoc work"
    assert entries[5]["Minutes"] == "12.50"                                   # exact number
    fee = _csv_table(sections, "Fees")[0]
    assert (fee["What"], fee["Scheduled start"], fee["Cancelled at"], fee["Notice given"]) == (
        "late cancellation (less than 24 h notice)", "2026-01-21 15:00", "2026-01-21 05:00", "10 h")
    days = _csv_table(sections, "Days")
    assert days[3]["How it was reached"] == "ad-hoc work 13 min -> rounded up to 30 min"


# --- XLSX -------------------------------------------------------------------------------------

def _sheet_dicts(ws) -> list[dict]:
    """A sheet's rows under its column names (row 2; row 1 names the document)."""
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[1], row)) for row in rows[2:]]


def test_xlsx_sheets_types_and_layout(st):
    data = statement_xlsx(st, internal=True)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Summary", "Ledger", "Days", "Entries", "Fees", "Blocks", "Adjustments"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A3", ws.title
        assert all(c.font.bold for c in ws[2] if c.value is not None), ws.title
    days = wb["Days"]
    assert days.column_dimensions["J"].width >= 40          # the explanation column is wide
    rows = _sheet_dicts(days)
    assert rows[0]["Day"] == datetime(2026, 1, 12)           # a real date, not text
    assert days["A3"].is_date and days["A3"].number_format == "yyyy-mm-dd"
    assert rows[0]["Ad-hoc logged (minutes)"] == 35 and isinstance(rows[0]["Ad-hoc logged (minutes)"], (int, float))
    assert rows[0]["Billed (hours)"] == 1
    assert days["B3"].number_format == "#,##0.00"
    assert rows[3]["Ad-hoc logged (minutes)"] == 12.5 and rows[3]["Not covered (minutes)"] == 30
    assert rows[2]["Paid by"] == "P1 15 min, P2 45 min"

    summary = {r["Item"]: r for r in _sheet_dicts(wb["Summary"])}
    assert summary["Customer"]["Value"] == CUSTOMER          # no apostrophe in XLSX: a string cell
    assert summary["Billed in the period"]["Minutes"] == 195 and summary["Billed in the period"]["Hours"] == 3.25
    assert summary["Billed in the period"]["As shown"] == "3 h 15 min"
    assert summary["Data version"]["Value"] == 7
    assert summary["Next expiry"]["Value"] == datetime(2026, 7, 24)

    ledger = _sheet_dicts(wb["Ledger"])
    assert [r["Minutes"] for r in ledger if r["Kind"] == "forfeited"] == [-15]
    entries = _sheet_dicts(wb["Entries"])
    assert entries[0]["Staff"] == ANN and entries[1]["Asked for by the customer"] is True
    assert entries[5]["Minutes"] == 12.5
    fees = _sheet_dicts(wb["Fees"])
    assert fees[0]["Notice given (minutes)"] == 600 and fees[0]["Fee (minutes)"] == 30
    blocks = _sheet_dicts(wb["Blocks"])
    assert sum(b["Left at end (minutes)"] for b in blocks) == summary["Closing balance"]["Minutes"] == 60


def test_xlsx_dangerous_text_is_a_string_cell_never_a_formula(st):
    data = statement_xlsx(st, internal=True)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cell = wb["Entries"]["K3"]
    assert wb["Entries"]["K2"].value == "Notes"
    assert cell.value == HYPERLINK_NOTE and cell.data_type == "s"
    assert cell.quotePrefix is True                       # stays text when edited, too
    name = next(r for r in wb["Summary"].iter_rows() if r[0].value == "Customer")[1]
    assert name.value == CUSTOMER and name.data_type == "s"
    # At the file level: no sheet holds a formula element at all.
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 7
        for n in sheets:
            assert "<f>" not in z.read(n).decode() and "<f " not in z.read(n).decode(), n


# --- PDF --------------------------------------------------------------------------------------

def _pdf_pages(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    assert round(float(page.mediabox.width)) == 595 and round(float(page.mediabox.height)) == 842  # A4
    return [p.extract_text() for p in reader.pages]


def _pdf_text(data: bytes) -> tuple[str, int]:
    pages = _pdf_pages(data)
    return "\n".join(pages), len(pages)


def test_pdf_text_has_customer_summary_and_closing(st):
    text, pages = _pdf_text(statement_pdf(st, internal=True))
    flat = " ".join(text.split())
    assert "Statement of prepaid hours" in flat
    assert CUSTOMER in flat                                   # Polish letters and 東京 via the fallback font
    assert "Period: 2026-01-01 to 2026-04-30" in flat and "Statement date: 2026-04-30" in flat
    assert "Opening balance (start of 2026-01-01) 0 min" in flat
    assert "rounded up to 60 min" in flat and "P1 15 min, P2 45 min" in flat
    assert "Billed in the period 3 h 15 min" in flat          # 195 min
    assert "Ad-hoc work as logged 58 min" in flat             # 57.5 min, to the whole minute
    assert "Closing balance (end of 2026-04-30) 1 h" in flat
    assert "Next expiry 2026-07-24" in flat and "Left in the blocks ending then 1 h" in flat
    assert "forfeited" in flat
    assert f"Page 1 of {pages}" in flat
    assert ANN in flat and TARO in flat                       # internal copy names the staff


def test_pdf_summary_box_shows_the_statements_figures(st):
    # By hand from the builder: opening 0; purchased P1 2 h + P2 1 h + P3 1 h = 4 h; used
    # 60 + 45 + 60 = 165 min (the day of 22 April was not covered); forfeited 15 min of P2;
    # closing 0 + 240 − 165 − 15 = 60 min.
    flat = " ".join(_pdf_text(statement_pdf(st))[0].split())
    assert "Opening balance (start of 1 Jan 2026) 0 min" in flat   # the customer copy: dates as people read them
    assert "Purchased + 4 h" in flat
    assert "Used (paid from prepaid hours) − 2 h 45 min" in flat
    assert "Forfeited (expired unused) − 15 min" in flat
    assert "Closing balance (end of 30 Apr 2026) 1 h" in flat
    assert "Not covered (invoiced separately) 30 min" in flat


def test_pdf_long_text_wraps_onto_numbered_pages(st):
    many = pd.concat([st.days] * 30, ignore_index=True)
    many["explanation"] = [f"day {i}: " + "ad-hoc 5 min + 30 min = 35 min -> rounded up to 60 min; " * 4
                           + "Zażółć gęślą jaźń" for i in range(len(many))]
    big = build_statement(days=many)
    text, pages = _pdf_text(statement_pdf(big, internal=True))
    assert pages >= 3
    flat = " ".join(text.split())
    assert f"Page {pages} of {pages}" in flat
    assert "day 119:" in flat                                # the last row is there, wrapped, not cut
    assert "Zażółć gęślą jaźń" in flat


def test_pdf_times_are_whole_minutes_and_dates_are_dates(st):
    for internal in (False, True):
        text, _ = _pdf_text(statement_pdf(st, internal=internal))
        assert not re.search(r"\d+\.\d+ ?min", text), "a fractional minute in the PDF"
        assert not re.search(r"\d\d:\d\d:\d\d", text), "a time with seconds"
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d", text), "an ISO timestamp"
        assert "13 min" in text                             # the 12.5-minute entry, half up


# --- The two copies -----------------------------------------------------------------------

def _all_xlsx_text(data: bytes) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    texts = [v.date().isoformat() if isinstance(v, datetime) and v == datetime.combine(v.date(), datetime.min.time())
             else str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    texts += [str(part.text) for ws in wb.worksheets for hf in (ws.oddHeader, ws.oddFooter)
              for part in (hf.left, hf.center, hf.right) if part.text]
    props = wb.properties
    texts += [str(v) for v in (props.title, props.description, props.creator) if v]
    return "\n".join(texts)


AS_TEXT = {
    "csv": (statement_csv, lambda b: b.decode("utf-8-sig")),
    "xlsx": (statement_xlsx, _all_xlsx_text),
    "pdf": (statement_pdf, lambda b: " ".join(_pdf_text(b)[0].split())),
}
RULE_ID = re.compile(r"\bR\d{1,2}\b")
ISO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\b\d\d:\d\d:\d\d\b")
RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")      # used_up, no_show, one_on_one, status_call, ...
INTERNAL_WORD = re.compile(r"\binternal\b", re.IGNORECASE)


@pytest.mark.parametrize("fmt", sorted(AS_TEXT))
def test_customer_copy_says_nothing_internal(st, fmt):
    render, as_text = AS_TEXT[fmt]
    internal = as_text(render(st, internal=True))
    customer = as_text(render(st))
    secrets = [*STAFF, SECRET_NOTE, "HYPERLINK", "Łódź visit", st.policy_fingerprint, "E1", "E2"]
    # The internal copy has each of them, so that the checks below can fail.
    for s in secrets:
        assert s in internal, s
    # (The internal PDF writes times for people too: the entries' timestamps as written are in
    # the fixture, st.entries.started_at, and in the internal CSV and XLSX.)
    for pattern in (RULE_ID, RAW_CODE, INTERNAL_WORD) + ((ISO_TIMESTAMP,) if fmt != "pdf" else ()):
        assert pattern.search(internal), pattern.pattern
    assert ISO_TIMESTAMP.search(" ".join(st.entries["started_at"]))
    # The customer copy has none of them.
    for s in secrets:
        assert s not in customer, s
    for pattern in (RULE_ID, ISO_TIMESTAMP, RAW_CODE, INTERNAL_WORD):
        assert not pattern.search(customer), (pattern.pattern, pattern.search(customer).group(0))
    assert "session 45 min with Tech Support" in customer   # a staff name in free text too
    assert "Łódź Design" in customer                         # the customer is still named
    assert "late cancellation (less than 24 h notice)" in customer or fmt == "pdf"


def test_internal_pdf_is_marked_on_every_page_and_the_customer_copy_nowhere(st):
    many = pd.concat([st.entries] * 25, ignore_index=True)
    big = build_statement(entries=many)
    internal = _pdf_pages(statement_pdf(big, internal=True))
    assert len(internal) >= 3
    for number, text in enumerate(internal, start=1):
        flat = " ".join(text.split())
        # The band at the top and the footer of every page.
        assert flat.count(INTERNAL_MARK) >= 2, f"page {number}"
    customer = _pdf_pages(statement_pdf(big))
    assert len(customer) >= 2
    for number, text in enumerate(customer, start=1):
        assert not INTERNAL_WORD.search(text), f"page {number}"
        assert f"Page {number} of {len(customer)}" in " ".join(text.split())


def test_internal_xlsx_marks_every_sheet_and_csv_its_first_line(st):
    wb = openpyxl.load_workbook(io.BytesIO(statement_xlsx(st, internal=True)))
    for ws in wb.worksheets:
        assert str(ws["A1"].value).startswith(INTERNAL_MARK), ws.title
        assert INTERNAL_MARK in ws.oddHeader.left.text and INTERNAL_MARK in ws.oddFooter.left.text, ws.title
        assert ws.sheet_properties.tabColor is not None, ws.title
    customer = openpyxl.load_workbook(io.BytesIO(statement_xlsx(st)))
    for ws in customer.worksheets:
        assert str(ws["A1"].value).startswith("Statement of prepaid hours · " + CUSTOMER), ws.title
        assert ws.sheet_properties.tabColor is None
    assert _csv_rows(statement_csv(st, internal=True))[0] == [INTERNAL_MARK]
    assert _csv_rows(statement_csv(st))[0] == ["Statement of prepaid hours"]


@pytest.mark.parametrize("first, last, internal, name", [
    ("2026-10-01", "2026-10-31", False, "statement-C1014-2026-10.pdf"),
    ("2026-10-01", "2026-10-31", True, "statement-C1014-2026-10-internal.pdf"),
    ("2026-02-01", "2026-02-28", False, "statement-C1014-2026-02.pdf"),
    ("2026-01-01", "2026-12-31", False, "statement-C1014-2026.pdf"),
    ("2026-10-01", "2026-10-15", True, "statement-C1014-2026-10-01-to-2026-10-15-internal.pdf"),
    ("2026-10-02", "2026-10-31", False, "statement-C1014-2026-10-02-to-2026-10-31.pdf"),
])
def test_file_names_say_period_and_copy(st, first, last, internal, name):
    one = build_statement(customer_id="C1014", period_from=D(first), period_to=D(last), as_of=D(last))
    assert statement_filename(one, "pdf", internal) == name


def test_file_name_of_an_odd_customer_id_is_safe(st):
    name = statement_filename(build_statement(customer_id="../=Ö ä/x"), "csv")
    assert name == "statement-x-2026-01-01-to-2026-04-30.csv"
    assert statement_filename(build_statement(customer_id="Acme Ltd."), "csv").startswith("statement-Acme_Ltd-")
    assert statement_filename(build_statement(customer_id="///"), "pdf").startswith("statement-customer-")


def test_statement_files_give_each_format_of_a_copy(st):
    files = statement_files(st, internal=True)
    assert {ext: name for ext, (name, _) in files.items()} == {
        "pdf": "statement-cust-1-2026-01-01-to-2026-04-30-internal.pdf",
        "xlsx": "statement-cust-1-2026-01-01-to-2026-04-30-internal.xlsx",
        "csv": "statement-cust-1-2026-01-01-to-2026-04-30-internal.csv"}
    assert files["csv"][1] == statement_csv(st, internal=True)


# --- The sender (billing/team.py) --------------------------------------------------------------

def test_letterhead_names_the_team_and_draws_its_logo(st):
    team = load_team()
    data = statement_pdf(st, team=team)
    reader = PdfReader(io.BytesIO(data))
    first = " ".join(reader.pages[0].extract_text().split())
    assert "Northwind Tech Support" in first and "12 Harbour Street" in first
    assert "support@northwind.example +1 207 555 0142" in first
    assert reader.metadata.author == "Northwind Tech Support"
    # The SVG logo is drawn as vector paths: its navy fill (#1e3a5f) is in page 1's drawing.
    navy = "0.1176 0.2275 0.3725 rg"
    assert navy in reader.pages[0].get_contents().get_data().decode("latin-1")
    bare = PdfReader(io.BytesIO(statement_pdf(st)))
    assert navy not in bare.pages[0].get_contents().get_data().decode("latin-1")   # no team: no logo
    assert " ".join(bare.pages[0].extract_text().split()).startswith("Statement of prepaid hours")
    rows = {r["Item"]: r["Value"] for r in _sheet_dicts(openpyxl.load_workbook(
        io.BytesIO(statement_xlsx(st, team=team)))["Summary"])}
    assert rows["From"] == "Northwind Tech Support" and rows["Address line 2"] == "Portland, ME 04101"
    assert rows["E-mail"] == "support@northwind.example" and rows["Phone"] == "+1 207 555 0142"
    assert "Northwind Tech Support" in statement_csv(st, team=team).decode("utf-8-sig")


def test_a_png_logo_is_drawn_as_an_image(st, tmp_path):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (60, 20), (200, 30, 30)).save(buf, format="PNG")
    team = Team("Ops Desk", address=("1 Main St",), logo=buf.getvalue(), logo_kind="png")
    reader = PdfReader(io.BytesIO(statement_pdf(st, team=team)))
    assert len(reader.pages[0].images) == 1


# --- Words whole in table cells ----------------------------------------------------------------

LONG_NAME = ("Internationale Gesellschaft für zahnärztliche Fortbildung und Praxismanagement "
             "Nordrhein-Westfalen Landesverband der Kieferorthopäden e.V.")
LONG_NOTE = ("Customer reported intermittent synchronisation failures between the accounting workstation "
             "and the shared calendar; reconfigured the autodiscover records and verified replication")
LONG_ID = "PO-2026-RENEWAL-ACME-LOGISTICS-INTERNATIONAL-000123"
NO_SEPARATOR_ID = "Z" * 70


def _tokens(data: bytes) -> list[str]:
    return " ".join(_pdf_text(data)[0].split()).split(" ")


def test_pdf_table_cells_never_break_a_word(st):
    entries = st.entries.copy()
    entries.loc[1, "notes"] = LONG_NOTE
    entries.loc[3, "activity"] = "project_management_and_quarterly_planning"
    entries.loc[3, "entry_id"] = "ENTRY-2026-01-21-ACME-LOGISTICS-0000000001"
    blocks = st.blocks.copy()
    blocks.loc[0, "purchase_id"] = LONG_ID
    days = st.days.copy()
    days.loc[0, "paid_by"] = f"{LONG_ID} 1 h"
    days.loc[0, "customer_paid_by"] = f"{LONG_ID} 1 h"
    long = build_statement(customer_name=LONG_NAME, entries=entries, blocks=blocks, days=days)
    for internal in (False, True):
        tokens = _tokens(statement_pdf(long, internal=internal))
        # Words of people's text come out whole: wrapped on spaces only.
        texts = [LONG_NAME, "project management and quarterly planning"] + ([LONG_NOTE] if internal else [])
        for word in " ".join(texts).split():
            assert word in tokens, (internal, word)
        # Long ids are cut only after a separator: each piece ends in "-" or ends the id.
        ids = [LONG_ID] + (["ENTRY-2026-01-21-ACME-LOGISTICS-0000000001"] if internal else [])
        for long_id in ids:
            pieces = [t for t in tokens if len(t) >= 4 and t in long_id and not re.fullmatch(r"[\d-]+", t)]
            assert pieces, long_id
            for piece in pieces:
                assert piece == long_id or piece.endswith("-") or long_id.endswith(piece), (internal, piece)
        # A long name leaves the footer's page number in place.
        pages = _pdf_pages(statement_pdf(long, internal=internal))
        for number, text in enumerate(pages, start=1):
            assert f"Page {number} of {len(pages)}" in " ".join(text.split()), (internal, number)


def test_empty_tables_render(st):
    bare = build_statement(days=empty_table("days"), entries=empty_table("entries"), fees=empty_table("fees"),
                           ledger=empty_table("ledger"), blocks=empty_table("blocks"), next_expiry=None)
    sections = _csv_sections(_csv_rows(statement_csv(bare)))
    assert sections["Days"] == [sections["Days"][0]]        # header only
    assert openpyxl.load_workbook(io.BytesIO(statement_xlsx(bare))).sheetnames[0] == "Summary"
    text, _ = _pdf_text(statement_pdf(bare))
    assert "Next expiry none" in " ".join(text.split())


def test_exports_are_pure(st):
    # Same statement, same CSV and XLSX content; the statement's frames are not modified.
    before = st.days.copy()
    assert statement_csv(st) == statement_csv(st)
    statement_xlsx(st)
    statement_pdf(st, internal=True)
    pd.testing.assert_frame_equal(st.days, before)


def test_hostile_text_survives_every_format(st):
    # Control characters, CR/LF, tabs, emoji, right-to-left and Hangul: nothing crashes,
    # nothing is run as a formula, and the readable parts are kept.
    entries = st.entries.copy()
    entries.loc[0, "notes"] = "bad\x00ctl\x01 tab\there\r\nnext line 😀 שלום"
    entries.loc[1, "activity"] = "\t=cmd|' /C calc'!A0"
    hostile = build_statement(entries=entries, customer_name="한국 Ünïcødé 東京")
    sections = _csv_sections(_csv_rows(statement_csv(hostile, internal=True)))
    rows = _csv_table(sections, "Entries")
    assert rows[1]["Activity"] == "'\t=cmd|' /C calc'!A0"
    assert rows[0]["Notes"] == "bad\x00ctl\x01 tab\there\r\nnext line 😀 שלום"   # CSV loses nothing
    wb = openpyxl.load_workbook(io.BytesIO(statement_xlsx(hostile, internal=True)))
    assert wb["Entries"]["E4"].value == "\t=cmd|' /C calc'!A0" and wb["Entries"]["E4"].data_type == "s"
    text, _ = _pdf_text(statement_pdf(hostile, internal=True))
    flat = " ".join(text.split())
    assert "한국 Ünïcødé 東京" in flat                          # Hangul via the fallback font
    assert "tab here" in flat and "next line" in flat


@given(hs.integers(min_value=-10**15, max_value=10**15))
def test_format_minutes_says_the_same_as_minutes_number(us):
    # "1 h 30.5 min" read back is exactly minutes_number(us): one rounding, in one place.
    text = format_minutes(us)
    m = re.fullmatch(r"(-?)(?:(\d+) h)?(?: ?(\d+(?:\.\d{1,2})?) min)?", text)
    assert m and (m.group(2) or m.group(3)), text
    value = Decimal(m.group(2) or 0) * 60 + Decimal(m.group(3) or 0)
    assert (-value if m.group(1) else value) == minutes_number(us)
    minutes = m.group(3) or ""
    assert "." not in minutes or not minutes.endswith("0"), text          # "12.5 min", not "12.50 min"
    assert not (m.group(2) and minutes == "0"), text                       # "2 h", not "2 h 0 min"
    assert not (m.group(1) and value == 0), text                           # no "-0 min"


def test_frames_as_pandas_makes_them(st):
    # The engine may hand over datetime64 day columns, str columns with missing values
    # (NaN) and nullable booleans; they print like plain dates, blanks and yes/no.
    entries = st.entries.copy()
    entries["day"] = pd.to_datetime(entries["day"])
    entries["notes"] = entries["notes"].astype("str").where(entries["notes"].notna())
    entries["customer_requested"] = entries["customer_requested"].astype("boolean")
    entries.loc[2, "customer_requested"] = pd.NA
    days = st.days.copy()
    days["day"] = pd.to_datetime(days["day"])
    engine_like = build_statement(entries=entries, days=days)
    sections = _csv_sections(_csv_rows(statement_csv(engine_like, internal=True)))
    rows = _csv_table(sections, "Entries")
    assert rows[0]["Day"] == "2026-01-12" and rows[2]["Notes"] == "" and rows[2]["Asked for by the customer"] == ""
    assert rows[1]["Asked for by the customer"] == "yes"
    assert sections["Days"][1][0] == "2026-01-12"
    wb = openpyxl.load_workbook(io.BytesIO(statement_xlsx(engine_like)))
    assert wb["Days"]["A3"].value == datetime(2026, 1, 12)
    assert "2026-01-12" in _pdf_text(statement_pdf(engine_like, internal=True))[0]
    assert "12 Jan 2026" in _pdf_text(statement_pdf(engine_like))[0]   # the customer copy: as people read it
