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

from billing.exports import (REDACTED_STAFF, safe_cell, statement_csv, statement_pdf,
                             statement_xlsx)
from billing.policy import US_PER_MINUTE, Policy
from billing.statement_model import (Statement, StatementError, empty_table, format_minutes,
                                     hours_number, minutes_number)

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
             explanation="ad-hoc 5 min + 30 min = 35 min -> rounded up to 60 min", paid_by="P1 60 min"),
        # R4: session billed as logged; the staff name in free text must be redacted too.
        dict(day=D("2026-01-13"), adhoc_raw_us=0, adhoc_billed_us=0, session_us=_us(45), fee_us=0,
             billable_us=_us(45), covered_us=_us(45), uncovered_us=0,
             explanation=f"session 45 min with {ANN}", paid_by="P1 45 min"),
        # R6 fee + R8 drawn from two blocks, oldest expiry first.
        dict(day=D("2026-01-21"), adhoc_raw_us=_us(10), adhoc_billed_us=_us(30), session_us=0,
             fee_us=_us(30), billable_us=_us(60), covered_us=_us(60), uncovered_us=0,
             explanation="ad-hoc 10 min -> rounded up to 30 min; late-cancellation fee 30 min",
             paid_by="P1 15 min, P2 45 min"),
        # R8: nothing left in a valid block -> uncovered.
        dict(day=D("2026-04-22"), adhoc_raw_us=_us(12.5), adhoc_billed_us=_us(30), session_us=0, fee_us=0,
             billable_us=_us(30), covered_us=0, uncovered_us=_us(30),
             explanation="ad-hoc 12.5 min -> rounded up to 30 min", paid_by="30 min uncovered"),
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
        dict(day=D("2026-01-21"), appointment_id="A2", status="cancelled", cancelled_by="customer",
             scheduled_start="2026-01-21T15:00:00", cancelled_at="2026-01-21T05:00:00", notice_hours="10.0",
             fee_us=_us(30)),
    ])
    ledger = pd.DataFrame([
        dict(date=D("2026-01-01"), kind="opening", description="opening balance", purchase_id=None,
             minutes_us=0, balance_us=0),
        dict(date=D("2026-01-10"), kind="purchase", description="purchase P1, 2 h, usable through 2026-04-10",
             purchase_id="P1", minutes_us=_us(120), balance_us=_us(120)),
        dict(date=D("2026-01-12"), kind="billed", description="billed 60 min", purchase_id="P1",
             minutes_us=-_us(60), balance_us=_us(60)),
        dict(date=D("2026-01-13"), kind="billed", description="billed 45 min", purchase_id="P1",
             minutes_us=-_us(45), balance_us=_us(15)),
        dict(date=D("2026-01-20"), kind="purchase", description="purchase P2, 1 h, usable through 2026-04-20",
             purchase_id="P2", minutes_us=_us(60), balance_us=_us(75)),
        dict(date=D("2026-01-21"), kind="billed", description="billed 60 min (part)", purchase_id="P1",
             minutes_us=-_us(15), balance_us=_us(60)),
        dict(date=D("2026-01-21"), kind="billed", description="billed 60 min (part)", purchase_id="P2",
             minutes_us=-_us(45), balance_us=_us(15)),
        dict(date=D("2026-04-20"), kind="forfeited", description="P2 expired with 15 min left: forfeited",
             purchase_id="P2", minutes_us=-_us(15), balance_us=0),
        dict(date=D("2026-04-22"), kind="uncovered", description="30 min not covered by prepaid hours",
             purchase_id=None, minutes_us=0, balance_us=0),
        dict(date=D("2026-04-25"), kind="purchase", description="purchase P3, 1 h, usable through 2026-07-24",
             purchase_id="P3", minutes_us=_us(60), balance_us=_us(60)),
        dict(date=D("2026-04-30"), kind="closing", description="closing balance", purchase_id=None,
             minutes_us=0, balance_us=_us(60)),
    ])
    blocks = pd.DataFrame([
        dict(purchase_id="P1", purchased_on=D("2026-01-10"), expires_on=D("2026-04-10"), purchased_us=_us(120),
             used_us=_us(120), forfeited_us=0, remaining_us=0, status="used_up"),
        dict(purchase_id="P2", purchased_on=D("2026-01-20"), expires_on=D("2026-04-20"), purchased_us=_us(60),
             used_us=_us(45), forfeited_us=_us(15), remaining_us=0, status="forfeited"),
        dict(purchase_id="P3", purchased_on=D("2026-04-25"), expires_on=D("2026-07-24"), purchased_us=_us(60),
             used_us=0, forfeited_us=0, remaining_us=_us(60), status="active"),
    ])
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
        opening_remaining_us=0, closing_remaining_us=int(blocks.remaining_us.sum()),
        next_expiry=D("2026-07-24"), expiring_us=0, totals=totals,
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


def test_csv_sections_and_header_block(st):
    sections = _csv_sections(_csv_rows(statement_csv(st)))
    assert list(sections) == ["Statement of prepaid hours", "Ledger", "Days", "Entries", "Fees", "Blocks"]
    head = {row[0]: row[1:] for row in sections["Statement of prepaid hours"]}
    assert head["customer"] == ["'" + CUSTOMER]                 # starts with "+": neutralised
    assert head["period_from"] == ["2026-01-01"] and head["period_to"] == ["2026-04-30"]
    assert head["as_of"] == ["2026-04-30"]
    assert head["generated_at"] == ["2026-04-30T17:05:00+00:00"]
    assert head["policy_fingerprint"] == [st.policy_fingerprint]
    assert head["data_version"] == ["7"]
    assert head["billable_minutes"] == ["195.00", "3.25", "3 h 15 min"]
    assert head["adhoc_raw_minutes"][0] == "57.50"
    assert head["closing_balance_minutes"][0] == "60.00"
    assert head["next_expiry"] == ["2026-07-24"]


def test_csv_tables_numbers_have_two_decimals(st):
    sections = _csv_sections(_csv_rows(statement_csv(st)))
    days = [dict(zip(sections["Days"][0], row)) for row in sections["Days"][1:]]
    assert len(days) == len(st.days)
    first = days[0]
    assert (first["day"], first["adhoc_raw_minutes"], first["adhoc_billed_minutes"]) == ("2026-01-12", "35.00",
                                                                                          "60.00")
    assert first["explanation"] == "ad-hoc 5 min + 30 min = 35 min -> rounded up to 60 min"
    two_blocks = days[2]
    assert two_blocks["paid_by"] == "P1 15 min, P2 45 min" and two_blocks["fee_minutes"] == "30.00"
    assert days[3]["uncovered_minutes"] == "30.00" and days[3]["adhoc_raw_minutes"] == "12.50"
    minute_cells = [v for d in days for k, v in d.items() if k.endswith("_minutes")]
    assert minute_cells and all(re.fullmatch(r"-?\d+\.\d\d", v) for v in minute_cells)

    ledger = [dict(zip(sections["Ledger"][0], row)) for row in sections["Ledger"][1:]]
    assert [r["kind"] for r in ledger] == list(st.ledger.kind)
    forfeit = next(r for r in ledger if r["kind"] == "forfeited")
    # A negative number stays a number: no apostrophe in front of "-15.00".
    assert (forfeit["minutes"], forfeit["balance_minutes"]) == ("-15.00", "0.00")

    entries = [dict(zip(sections["Entries"][0], row)) for row in sections["Entries"][1:]]
    assert entries[0]["notes"] == "'" + HYPERLINK_NOTE
    assert entries[5]["activity"] == "'@mention sync"
    assert entries[5]["minutes"] == "12.50"
    assert entries[1]["customer_requested"] == "yes" and entries[1]["staff"] == TARO
    fee = dict(zip(sections["Fees"][0], sections["Fees"][1]))
    assert (fee["notice_hours"], fee["fee_minutes"], fee["status"]) == ("10.0", "30.00", "cancelled")
    blocks = [dict(zip(sections["Blocks"][0], row)) for row in sections["Blocks"][1:]]
    assert [(b["purchase_id"], b["status"], b["forfeited_minutes"]) for b in blocks] == [
        ("P1", "used_up", "0.00"), ("P2", "forfeited", "15.00"), ("P3", "active", "0.00")]
    # No cell anywhere starts with a formula trigger.
    for rows in sections.values():
        for row in rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
                assert not cell.startswith("-") or re.fullmatch(r"-\d+\.\d\d", cell), cell


# --- XLSX -------------------------------------------------------------------------------------

def _sheet_dicts(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def test_xlsx_sheets_types_and_layout(st):
    data = statement_xlsx(st)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Summary", "Ledger", "Days", "Entries", "Fees", "Blocks"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.bold for c in ws[1] if c.value is not None), ws.title
    days = wb["Days"]
    assert days.column_dimensions["J"].width >= 40          # the explanation column is wide
    rows = _sheet_dicts(days)
    assert rows[0]["day"] == datetime(2026, 1, 12)           # a real date, not text
    assert days["A2"].is_date and days["A2"].number_format == "yyyy-mm-dd"
    assert rows[0]["adhoc_raw_minutes"] == 35 and isinstance(rows[0]["adhoc_raw_minutes"], (int, float))
    assert rows[0]["billable_hours"] == 1
    assert days["B2"].number_format == "#,##0.00"
    assert rows[3]["adhoc_raw_minutes"] == 12.5 and rows[3]["uncovered_minutes"] == 30
    assert rows[2]["paid_by"] == "P1 15 min, P2 45 min"

    summary = {r["item"]: r for r in _sheet_dicts(wb["Summary"])}
    assert summary["customer"]["value"] == CUSTOMER          # no apostrophe in XLSX: a string cell
    assert summary["billable_minutes"]["value"] == 195 and summary["billable_minutes"]["hours"] == 3.25
    assert summary["billable_minutes"]["as written"] == "3 h 15 min"
    assert summary["data_version"]["value"] == 7
    assert summary["next_expiry"]["value"] == datetime(2026, 7, 24)

    ledger = _sheet_dicts(wb["Ledger"])
    assert [r["minutes"] for r in ledger if r["kind"] == "forfeited"] == [-15]
    entries = _sheet_dicts(wb["Entries"])
    assert entries[0]["staff"] == ANN and entries[1]["customer_requested"] is True
    assert entries[5]["minutes"] == 12.5
    fees = _sheet_dicts(wb["Fees"])
    assert fees[0]["notice_hours"] == 10 and fees[0]["fee_minutes"] == 30


def test_xlsx_dangerous_text_is_a_string_cell_never_a_formula(st):
    data = statement_xlsx(st)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cell = wb["Entries"]["K2"]
    assert wb["Entries"]["K1"].value == "notes"
    assert cell.value == HYPERLINK_NOTE and cell.data_type == "s"
    assert cell.quotePrefix is True                       # stays text when edited, too
    name = next(r for r in wb["Summary"].iter_rows() if r[0].value == "customer")[1]
    assert name.value == CUSTOMER and name.data_type == "s"
    # At the file level: no sheet holds a formula element at all.
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 6
        for n in sheets:
            assert "<f>" not in z.read(n).decode() and "<f " not in z.read(n).decode(), n


# --- PDF --------------------------------------------------------------------------------------

def _pdf_text(data: bytes) -> tuple[str, int]:
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    assert round(float(page.mediabox.width)) == 595 and round(float(page.mediabox.height)) == 842  # A4
    return "\n".join(p.extract_text() for p in reader.pages), len(reader.pages)


def test_pdf_text_has_customer_totals_and_closing(st):
    text, pages = _pdf_text(statement_pdf(st))
    flat = " ".join(text.split())
    assert "Statement of prepaid hours" in flat
    assert CUSTOMER in flat                                   # Polish letters and 東京 via the fallback font
    assert "Period: 2026-01-01 to 2026-04-30" in flat and "As of: 2026-04-30" in flat
    assert "0 min" in flat                                    # opening balance
    assert "rounded up to 60 min" in flat and "P1 15 min, P2 45 min" in flat
    assert "3 h 15 min" in flat                               # billable total (195 min)
    assert "57.5 min" in flat                                 # ad-hoc as logged
    assert "Prepaid time left at the end of 2026-04-30: 1 h" in flat
    assert "Next expiry: 2026-07-24" in flat
    assert "forfeited" in flat
    assert f"Page 1 of {pages}" in flat
    assert ANN in flat and TARO in flat                       # internal copy names the staff


def test_pdf_long_text_wraps_onto_numbered_pages(st):
    many = pd.concat([st.days] * 30, ignore_index=True)
    many["explanation"] = [f"day {i}: " + "ad-hoc 5 min + 30 min = 35 min -> rounded up to 60 min; " * 4
                           + "Zażółć gęślą jaźń" for i in range(len(many))]
    big = build_statement(days=many)
    text, pages = _pdf_text(statement_pdf(big))
    assert pages >= 3
    flat = " ".join(text.split())
    assert f"Page {pages} of {pages}" in flat
    assert "day 119:" in flat                                # the last row is there, wrapped, not cut
    assert "Zażółć gęślą jaźń" in flat


# --- Redaction ----------------------------------------------------------------------------

def _all_xlsx_text(data: bytes) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                     for v in row if v is not None)


@pytest.mark.parametrize("render, as_text", [
    (statement_csv, lambda b: b.decode("utf-8-sig")),
    (statement_xlsx, _all_xlsx_text),
    (statement_pdf, lambda b: " ".join(_pdf_text(b)[0].split())),
])
def test_redact_hides_staff_and_notes(st, render, as_text):
    secrets = [*STAFF, SECRET_NOTE, "HYPERLINK", "Łódź visit"]
    internal = as_text(render(st))
    assert all(s in internal for s in secrets)               # so the check below can fail
    customer_copy = as_text(render(st, redact=True))
    for s in secrets:
        assert s not in customer_copy, s
    assert REDACTED_STAFF in customer_copy
    assert "session 45 min with Tech Support" in customer_copy   # names in free text too
    assert "Łódź Design" in customer_copy                         # the customer is still named


def test_empty_tables_render(st):
    bare = build_statement(days=empty_table("days"), entries=empty_table("entries"), fees=empty_table("fees"),
                           ledger=empty_table("ledger"), blocks=empty_table("blocks"), next_expiry=None)
    sections = _csv_sections(_csv_rows(statement_csv(bare)))
    assert sections["Days"] == [sections["Days"][0]]        # header only
    assert openpyxl.load_workbook(io.BytesIO(statement_xlsx(bare))).sheetnames[0] == "Summary"
    text, _ = _pdf_text(statement_pdf(bare))
    assert "Next expiry: none" in " ".join(text.split())


def test_exports_are_pure(st):
    # Same statement, same CSV and XLSX content; the statement's frames are not modified.
    before = st.days.copy()
    assert statement_csv(st) == statement_csv(st)
    statement_xlsx(st)
    statement_pdf(st, redact=True)
    pd.testing.assert_frame_equal(st.days, before)


def test_hostile_text_survives_every_format(st):
    # Control characters, CR/LF, tabs, emoji, right-to-left and Hangul: nothing crashes,
    # nothing is run as a formula, and the readable parts are kept.
    entries = st.entries.copy()
    entries.loc[0, "notes"] = "bad\x00ctl\x01 tab\there\r\nnext line 😀 שלום"
    entries.loc[1, "activity"] = "\t=cmd|' /C calc'!A0"
    hostile = build_statement(entries=entries, customer_name="한국 Ünïcødé 東京")
    sections = _csv_sections(_csv_rows(statement_csv(hostile)))
    rows = [dict(zip(sections["Entries"][0], r)) for r in sections["Entries"][1:]]
    assert rows[1]["activity"] == "'\t=cmd|' /C calc'!A0"
    assert rows[0]["notes"] == "bad\x00ctl\x01 tab\there\r\nnext line 😀 שלום"   # CSV loses nothing
    wb = openpyxl.load_workbook(io.BytesIO(statement_xlsx(hostile)))
    assert wb["Entries"]["E3"].value == "\t=cmd|' /C calc'!A0" and wb["Entries"]["E3"].data_type == "s"
    text, _ = _pdf_text(statement_pdf(hostile))
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
    sections = _csv_sections(_csv_rows(statement_csv(engine_like)))
    rows = [dict(zip(sections["Entries"][0], r)) for r in sections["Entries"][1:]]
    assert rows[0]["day"] == "2026-01-12" and rows[2]["notes"] == "" and rows[2]["customer_requested"] == ""
    assert rows[1]["customer_requested"] == "yes"
    assert sections["Days"][1][0] == "2026-01-12"
    wb = openpyxl.load_workbook(io.BytesIO(statement_xlsx(engine_like)))
    assert wb["Days"]["A2"].value == datetime(2026, 1, 12)
    assert "2026-01-12" in _pdf_text(statement_pdf(engine_like))[0]
