"""What the three statement formats share: typed cell values, redaction, and the statement
as sections of typed rows (CSV and XLSX write these; the PDF lays out the same values).

Text from the export (names, notes, activities) is data, never a spreadsheet formula:
``safe_cell`` neutralises it in CSV, and XLSX writes every text as a string cell. Minutes
are exact integer microseconds up to here; they are rounded to 2 decimals (half-up) only
as they are written (``minutes_number``, ``format_minutes``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable

import pandas as pd

from billing.errors import HourbankError
from billing.statement_model import Statement, format_minutes, hours_number, minutes_number

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
REDACTED_STAFF = "Tech Support"
PDF_TITLE = "Statement of prepaid hours"


class ExportError(HourbankError):
    pass


# --- Cell values -------------------------------------------------------------------------

class Minutes(Decimal):
    """A minute figure already rounded to 2 decimals: written as a number with 2 decimals."""


class Hours(Decimal):
    """An hour figure already rounded to 2 decimals."""


def minutes_value(us) -> Minutes | None:
    """µs as a Minutes cell (2 decimals, half up), None when missing."""
    if is_missing(us):
        return None
    return Minutes(minutes_number(int(us)))


def hours_value(us) -> Hours | None:
    """µs as an Hours cell (2 decimals, half up), None when missing."""
    if is_missing(us):
        return None
    return Hours(hours_number(int(us)))


def is_missing(value) -> bool:
    """True for None, NaN, NaT and pandas NA (an empty cell)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def day_value(value) -> date | None:
    """A calendar date from a date, datetime, pandas Timestamp or ISO text."""
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ExportError(f"statement: {value!r} is not a date.") from None


def text_value(value) -> str | None:
    """A value as text, None when missing."""
    if is_missing(value):
        return None
    return str(value)


def flag_value(value) -> bool | None:
    """A value as a boolean cell, None when missing."""
    if is_missing(value):
        return None
    return bool(value)


def safe_cell(value):
    """Neutralise formula injection: text starting with = + - @ tab or CR gets a leading
    apostrophe, so a spreadsheet shows it as text and never runs it. Anything that is not
    text (numbers, dates, None) is returned as it is, so numbers stay numbers."""
    from billing.safe import safe_text  # the one neutraliser every download shares

    return safe_text(value)


# --- Redaction -----------------------------------------------------------------------------

def scrubber(st: Statement, redact: bool) -> Callable[[str | None], str | None]:
    """Text filter for free text (explanations, descriptions, activities): with ``redact``,
    every staff name (whole words) becomes "Tech Support". Names and ids are left alone."""
    if not redact:
        return lambda text: text
    names = sorted({str(s).strip() for s in st.entries["staff"] if not is_missing(s)} - {"", REDACTED_STAFF},
                   key=len, reverse=True)
    if not names:
        return lambda text: text
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)")
    return lambda text: text if text is None else pattern.sub(REDACTED_STAFF, text)


# --- The statement as sections of typed rows (shared by CSV and XLSX) -------------------

@dataclass(frozen=True)
class Section:
    name: str
    header: tuple[str, ...]
    rows: list[tuple]
    wrap: tuple[str, ...] = ()  # columns with long text


def _summary_rows(st: Statement, scrub) -> list[tuple]:
    t = st.totals
    rows: list[tuple] = [
        ("customer", st.customer_name, None, None),
        ("customer_id", st.customer_id, None, None),
        ("period_from", st.period_from, None, None),
        ("period_to", st.period_to, None, None),
        ("as_of", st.as_of, None, None),
        ("generated_at", generated_text(st), None, None),
        ("policy_fingerprint", st.policy_fingerprint, None, None),
        ("data_version", int(st.data_version), None, None),
    ]
    for key in sorted(st.policy):
        rows.append((f"policy.{key}", _policy_value(st.policy[key]), None, None))
    figures = [
        ("opening_balance_minutes", st.opening_remaining_us),
        ("purchased_minutes", t["purchased_us"]),
        ("adhoc_raw_minutes", t["adhoc_raw_us"]),
        ("adhoc_billed_minutes", t["adhoc_billed_us"]),
        ("session_minutes", t["session_us"]),
        ("fee_minutes", t["fee_us"]),
        ("billable_minutes", t["billable_us"]),
        ("covered_minutes", t["covered_us"]),
        ("uncovered_minutes", t["uncovered_us"]),
        ("forfeited_minutes", t["forfeited_us"]),
        ("nonbillable_minutes", t["nonbillable_us"]),
        ("closing_balance_minutes", st.closing_remaining_us),
    ]
    for label, us in figures:
        rows.append((label, minutes_value(us), hours_value(us), format_minutes(int(us))))
    rows.append(("next_expiry", st.next_expiry, None, None))
    rows.append(("expiring_minutes", minutes_value(st.expiring_us), hours_value(st.expiring_us),
                 format_minutes(int(st.expiring_us))))
    return rows


def generated_text(st: Statement) -> str:
    """When the statement was made, as ISO text to the second."""
    g = st.generated_at
    return g.isoformat(timespec="seconds") if isinstance(g, datetime) else str(g)


def _policy_value(value):
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, (int, float)):
        return value
    return str(value)


def statement_sections(st: Statement, redact: bool) -> list[Section]:
    """The statement as typed sections: Summary, Ledger, Days, Entries, Fees, Blocks
    (redacted when ``redact``: staff as "Tech Support", no notes)."""
    scrub = scrubber(st, redact)
    sections = [Section("Summary", ("item", "value", "hours", "as written"), _summary_rows(st, scrub))]

    ledger = [
        (day_value(r["date"]), text_value(r["kind"]), scrub(text_value(r["description"])), text_value(r["purchase_id"]),
         minutes_value(r["minutes_us"]), minutes_value(r["balance_us"]), hours_value(r["balance_us"]))
        for r in records(st.ledger)
    ]
    sections.append(Section(
        "Ledger", ("date", "kind", "description", "purchase_id", "minutes", "balance_minutes",
                   "balance_hours"), ledger, wrap=("description",)))

    days = [
        (day_value(r["day"]), minutes_value(r["adhoc_raw_us"]), minutes_value(r["adhoc_billed_us"]),
         minutes_value(r["session_us"]), minutes_value(r["fee_us"]), minutes_value(r["billable_us"]),
         hours_value(r["billable_us"]), minutes_value(r["covered_us"]), minutes_value(r["uncovered_us"]),
         scrub(text_value(r["explanation"])), scrub(text_value(r["paid_by"])))
        for r in records(st.days)
    ]
    sections.append(Section(
        "Days", ("day", "adhoc_raw_minutes", "adhoc_billed_minutes", "session_minutes", "fee_minutes",
                 "billable_minutes", "billable_hours", "covered_minutes", "uncovered_minutes",
                 "explanation", "paid_by"), days, wrap=("explanation", "paid_by")))

    entry_header = ["day", "started_at", "entry_id", "staff", "activity", "tier", "kind", "minutes",
                    "customer_requested", "appointment_id"]
    if not redact:
        entry_header.append("notes")
    entries = []
    for r in records(st.entries):
        staff = REDACTED_STAFF if redact else text_value(r["staff"])
        row = [day_value(r["day"]), text_value(r["started_at"]), text_value(r["entry_id"]), staff,
               scrub(text_value(r["activity"])), text_value(r["tier"]), text_value(r["kind"]), minutes_value(r["minutes_us"]),
               flag_value(r["customer_requested"]), text_value(r["appointment_id"])]
        if not redact:
            row.append(text_value(r["notes"]))
        entries.append(tuple(row))
    sections.append(Section("Entries", tuple(entry_header), entries, wrap=("notes",)))

    fees = [
        (day_value(r["day"]), text_value(r["appointment_id"]), text_value(r["status"]), text_value(r["cancelled_by"]),
         text_value(r["scheduled_start"]), text_value(r["cancelled_at"]), _notice(r["notice_hours"]),
         minutes_value(r["fee_us"]))
        for r in records(st.fees)
    ]
    sections.append(Section(
        "Fees", ("day", "appointment_id", "status", "cancelled_by", "scheduled_start", "cancelled_at",
                 "notice_hours", "fee_minutes"), fees))

    blocks = [
        (text_value(r["purchase_id"]), day_value(r["purchased_on"]), day_value(r["expires_on"]),
         minutes_value(r["purchased_us"]), minutes_value(r["used_us"]), minutes_value(r["forfeited_us"]),
         minutes_value(r["remaining_us"]), hours_value(r["remaining_us"]), text_value(r["status"]))
        for r in records(st.blocks)
    ]
    sections.append(Section(
        "Blocks", ("purchase_id", "purchased_on", "expires_on", "purchased_minutes", "used_minutes",
                   "forfeited_minutes", "remaining_minutes", "remaining_hours", "status"), blocks))
    return sections


def records(frame: pd.DataFrame) -> list[dict]:
    """A table's rows as dicts (column → value)."""
    return frame.to_dict("records")


def _notice(value):
    """notice_hours is text such as "10.0"; kept as a number when it is one."""
    text = text_value(value)
    if text is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return number if number.is_finite() else text
