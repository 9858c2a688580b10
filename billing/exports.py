"""Customer statement downloads: CSV, XLSX and PDF, as pure functions of a Statement.

Each function takes a ``billing.statement_model.Statement`` and returns the file's bytes;
nothing here reads the database or the clock. ``redact=True`` makes the customer copy:
staff names become "Tech Support" (everywhere they occur, not only in the staff column)
and internal notes are left out.

Text from the export (names, notes, activities) is data, never a spreadsheet formula:
``safe_cell`` neutralises it in CSV, and XLSX writes every text as a string cell.

Minutes are exact integer microseconds up to here; they are rounded to 2 decimals
(half-up) only as they are written (``minutes_number``, ``format_minutes``).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from billing.errors import HourbankError
from billing.safe import FORMULA_TRIGGERS, is_dangerous
from billing.statement_model import Statement, format_minutes, hours_number, minutes_number

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REDACTED_STAFF = "Tech Support"
PDF_TITLE = "Statement of prepaid hours"


class ExportError(HourbankError):
    pass


# --- Cell values -------------------------------------------------------------------------

class Minutes(Decimal):
    """A minute figure already rounded to 2 decimals: written as a number with 2 decimals."""


class Hours(Decimal):
    """An hour figure already rounded to 2 decimals."""


def _minutes(us) -> Minutes | None:
    if _missing(us):
        return None
    return Minutes(minutes_number(int(us)))


def _hours(us) -> Hours | None:
    if _missing(us):
        return None
    return Hours(hours_number(int(us)))


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _day(value) -> date | None:
    """A calendar date from a date, datetime, pandas Timestamp or ISO text."""
    if _missing(value):
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


def _text(value) -> str | None:
    if _missing(value):
        return None
    return str(value)


def _flag(value) -> bool | None:
    if _missing(value):
        return None
    return bool(value)


def safe_cell(value):
    """Neutralise formula injection: text starting with = + - @ tab or CR gets a leading
    apostrophe, so a spreadsheet shows it as text and never runs it. Anything that is not
    text (numbers, dates, None) is returned as it is, so numbers stay numbers."""
    from billing.safe import safe_text  # the one neutraliser every download shares

    return safe_text(value)


# --- Redaction -----------------------------------------------------------------------------

def _scrubber(st: Statement, redact: bool) -> Callable[[str | None], str | None]:
    """Text filter for free text (explanations, descriptions, activities): with ``redact``,
    every staff name (whole words) becomes "Tech Support". Names and ids are left alone."""
    if not redact:
        return lambda text: text
    names = sorted({str(s).strip() for s in st.entries["staff"] if not _missing(s)} - {"", REDACTED_STAFF},
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
        ("generated_at", _generated(st), None, None),
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
        rows.append((label, _minutes(us), _hours(us), format_minutes(int(us))))
    rows.append(("next_expiry", st.next_expiry, None, None))
    rows.append(("expiring_minutes", _minutes(st.expiring_us), _hours(st.expiring_us),
                 format_minutes(int(st.expiring_us))))
    return rows


def _generated(st: Statement) -> str:
    g = st.generated_at
    return g.isoformat(timespec="seconds") if isinstance(g, datetime) else str(g)


def _policy_value(value):
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, (int, float)):
        return value
    return str(value)


def _sections(st: Statement, redact: bool) -> list[Section]:
    scrub = _scrubber(st, redact)
    sections = [Section("Summary", ("item", "value", "hours", "as written"), _summary_rows(st, scrub))]

    ledger = [
        (_day(r["date"]), _text(r["kind"]), scrub(_text(r["description"])), _text(r["purchase_id"]),
         _minutes(r["minutes_us"]), _minutes(r["balance_us"]), _hours(r["balance_us"]))
        for r in _records(st.ledger)
    ]
    sections.append(Section(
        "Ledger", ("date", "kind", "description", "purchase_id", "minutes", "balance_minutes",
                   "balance_hours"), ledger, wrap=("description",)))

    days = [
        (_day(r["day"]), _minutes(r["adhoc_raw_us"]), _minutes(r["adhoc_billed_us"]),
         _minutes(r["session_us"]), _minutes(r["fee_us"]), _minutes(r["billable_us"]),
         _hours(r["billable_us"]), _minutes(r["covered_us"]), _minutes(r["uncovered_us"]),
         scrub(_text(r["explanation"])), scrub(_text(r["paid_by"])))
        for r in _records(st.days)
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
    for r in _records(st.entries):
        staff = REDACTED_STAFF if redact else _text(r["staff"])
        row = [_day(r["day"]), _text(r["started_at"]), _text(r["entry_id"]), staff,
               scrub(_text(r["activity"])), _text(r["tier"]), _text(r["kind"]), _minutes(r["minutes_us"]),
               _flag(r["customer_requested"]), _text(r["appointment_id"])]
        if not redact:
            row.append(_text(r["notes"]))
        entries.append(tuple(row))
    sections.append(Section("Entries", tuple(entry_header), entries, wrap=("notes",)))

    fees = [
        (_day(r["day"]), _text(r["appointment_id"]), _text(r["status"]), _text(r["cancelled_by"]),
         _text(r["scheduled_start"]), _text(r["cancelled_at"]), _notice(r["notice_hours"]),
         _minutes(r["fee_us"]))
        for r in _records(st.fees)
    ]
    sections.append(Section(
        "Fees", ("day", "appointment_id", "status", "cancelled_by", "scheduled_start", "cancelled_at",
                 "notice_hours", "fee_minutes"), fees))

    blocks = [
        (_text(r["purchase_id"]), _day(r["purchased_on"]), _day(r["expires_on"]),
         _minutes(r["purchased_us"]), _minutes(r["used_us"]), _minutes(r["forfeited_us"]),
         _minutes(r["remaining_us"]), _hours(r["remaining_us"]), _text(r["status"]))
        for r in _records(st.blocks)
    ]
    sections.append(Section(
        "Blocks", ("purchase_id", "purchased_on", "expires_on", "purchased_minutes", "used_minutes",
                   "forfeited_minutes", "remaining_minutes", "remaining_hours", "status"), blocks))
    return sections


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.to_dict("records")


def _notice(value):
    """notice_hours is text such as "10.0"; kept as a number when it is one."""
    text = _text(value)
    if text is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return number if number.is_finite() else text


# --- CSV -----------------------------------------------------------------------------------

def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (Decimal, int, float)):
        return str(value)
    return safe_cell(str(value))


def statement_csv(st: Statement, redact: bool = False) -> bytes:
    """UTF-8 with BOM (Excel then reads accents right). A header block (customer, period,
    as-of, generated, policy fingerprint, data version, balances, totals), then the
    sections Ledger, Days, Entries, Fees, Blocks, each after a blank line and a title row.
    Minutes are numbers with 2 decimals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    sections = _sections(st, redact)
    summary, tables = sections[0], sections[1:]
    writer.writerow([PDF_TITLE])
    for row in summary.rows:
        writer.writerow([_csv_value(v) for v in _trim(row)])
    for section in tables:
        writer.writerow([])
        writer.writerow([section.name])
        writer.writerow(section.header)
        for row in section.rows:
            writer.writerow([_csv_value(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def _trim(row: tuple) -> tuple:
    """Summary rows without trailing empty cells (label, value[, hours, as written])."""
    items = list(row)
    while items and items[-1] is None:
        items.pop()
    return tuple(items)


# --- XLSX ----------------------------------------------------------------------------------

_WRAP_WIDTH = 48
_MAX_WIDTH = 40


def statement_xlsx(st: Statement, redact: bool = False) -> bytes:
    """Sheets Summary, Ledger, Days, Entries, Fees, Blocks: bold frozen header row, column
    widths, real dates, minutes as numbers shown with 2 decimals, hours beside them.
    Every text is a string cell (never a formula), whatever it starts with."""
    import xlsxwriter

    buffer = io.BytesIO()
    # strings_to_*: False so nothing written as text is ever turned into a formula, URL or
    # number behind our back; we choose each cell's type below.
    wb = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False,
    })
    wb.set_properties({"title": f"{PDF_TITLE}: {st.customer_name}", "author": "Hourbank",
                       "comments": f"policy {st.policy_fingerprint}, data version {st.data_version}"})
    fmt = {
        "header": wb.add_format({"bold": True, "bottom": 1, "bg_color": "#EEF2F7", "text_wrap": True,
                                 "valign": "top"}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top", "align": "left"}),
        "minutes": wb.add_format({"num_format": "#,##0.00", "valign": "top"}),
        "hours": wb.add_format({"num_format": '#,##0.00" h"', "valign": "top"}),
        "number": wb.add_format({"valign": "top"}),
        "text": wb.add_format({"valign": "top"}),
        "wrap": wb.add_format({"valign": "top", "text_wrap": True}),
        # quote_prefix: also when someone edits the cell later, it stays text.
        "text_q": wb.add_format({"valign": "top", "quote_prefix": True}),
        "wrap_q": wb.add_format({"valign": "top", "text_wrap": True, "quote_prefix": True}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
    }
    for section in _sections(st, redact):
        ws = wb.add_worksheet(section.name)
        _write_sheet(ws, section, fmt)
    wb.close()
    return buffer.getvalue()


def _write_sheet(ws, section: Section, fmt: dict) -> None:
    widths = [len(h) + 2 for h in section.header]
    for col, name in enumerate(section.header):
        ws.write_string(0, col, name, fmt["header"])
    for r, row in enumerate(section.rows, start=1):
        for col, value in enumerate(row):
            wrap = section.header[col] in section.wrap
            shown = _write_xlsx_cell(ws, r, col, value, fmt, wrap)
            widths[col] = max(widths[col], min(len(shown) + 2, _WRAP_WIDTH if wrap else _MAX_WIDTH))
    for col, name in enumerate(section.header):
        width = max(widths[col], _WRAP_WIDTH) if name in section.wrap and section.rows else widths[col]
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 0)
    if section.rows and section.name != "Summary":
        ws.autofilter(0, 0, len(section.rows), len(section.header) - 1)


def _write_xlsx_cell(ws, row: int, col: int, value, fmt: dict, wrap: bool) -> str:
    """Write one typed cell; returns its text as shown, for the column width."""
    if value is None:
        ws.write_blank(row, col, None)
        return ""
    if isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt["number"])
        return "FALSE"
    if isinstance(value, Minutes):
        ws.write_number(row, col, float(value), fmt["minutes"])
        return f"{value:,}"
    if isinstance(value, Hours):
        ws.write_number(row, col, float(value), fmt["hours"])
        return f"{value:,} h"
    if isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value), fmt["number"])
        return str(value)
    if isinstance(value, (date, datetime)) and not isinstance(value, datetime):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt["date"])
        return "yyyy-mm-dd"
    text = str(value)
    style = ("wrap" if wrap else "text") + ("_q" if is_dangerous(text) else "")
    ws.write_string(row, col, text, fmt[style])  # a string cell: never run as a formula
    return text


# --- PDF -----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _dejavu_codepoints() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(FONT_DIR / "DejaVuSans.ttf"), lazy=True) as font:
        return frozenset(font.getBestCmap())


def _needs_fallback(texts) -> bool:
    covered = _dejavu_codepoints()
    return any(ord(ch) not in covered for text in texts if text for ch in text if not ch.isspace())


def statement_pdf(st: Statement, redact: bool = False) -> bytes:
    """A4 statement: title, customer, period, as-of, opening balance, a table of days (day,
    how it was reached, billed, paid by), purchases and forfeitures, fees, closing balance
    and next expiry, totals, then the entries. Long text wraps; every page is numbered;
    any name renders (DejaVu Sans, with Droid Sans Fallback for Chinese/Japanese/Korean)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    scrub = _scrubber(st, redact)
    doc = _pdf_content(st, redact, scrub)

    class _StatementPDF(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font("DejaVu", "", 8)
            self.set_text_color(110)
            self.cell(0, 6, _pdf_clean(f"{doc['footer']}    Page {self.page_no()} of {{nb}}"), align="C")

    pdf = _StatementPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    if _needs_fallback(doc["all_text"]):
        pdf.add_font("DroidFallback", "", str(FONT_DIR / "DroidSansFallback.ttf"))
        pdf.set_fallback_fonts(["DroidFallback"], exact_match=False)
    pdf.set_title(f"{PDF_TITLE}: {st.customer_name}")
    pdf.set_author("Hourbank")
    pdf.set_subject(f"{st.period_from.isoformat()} to {st.period_to.isoformat()}")
    if isinstance(st.generated_at, datetime):
        pdf.set_creation_date(st.generated_at)
    pdf.add_page()

    def heading(text: str, size: float = 12):
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", size)
        pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("DejaVu", "", 9)

    def line(text: str, bold: bool = False):
        pdf.set_font("DejaVu", "B" if bold else "", 9)
        pdf.multi_cell(0, 5, _pdf_clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.set_font("DejaVu", "", 9)

    def table(header, rows, widths, align=None, size=8):
        if not rows:
            line("None in this period.")
            return
        pdf.set_font("DejaVu", "", size)
        with pdf.table(col_widths=widths, text_align=align or "LEFT", line_height=4.2,
                       headings_style=FontFace(emphasis="BOLD", fill_color=(238, 242, 247)),
                       padding=1, repeat_headings=1, width=pdf.epw) as t:
            head = t.row()
            for h in header:
                head.cell(h)
            for row in rows:
                cells = t.row()
                for value in row:
                    cells.cell(_pdf_clean("" if value is None else str(value)))
        pdf.set_font("DejaVu", "", 9)

    heading(PDF_TITLE, 16)
    for label, value, bold in doc["header"]:
        line(f"{label}: {value}", bold)

    heading("Opening balance")
    line(doc["opening"], True)

    heading("Day by day")
    table(("Day", "How it was reached", "Billed", "Paid by"), doc["days"], (19, 86, 20, 55),
          align=("LEFT", "LEFT", "RIGHT", "LEFT"))

    heading("Purchases and forfeitures")
    table(("Date", "What", "Minutes", "Balance after"), doc["movements"], (22, 98, 30, 30),
          align=("LEFT", "LEFT", "RIGHT", "RIGHT"))

    if doc["fees"]:
        heading("Cancellation and no-show fees (R6)")
        table(("Day", "Appointment", "Status", "Notice", "Fee"), doc["fees"], (22, 50, 48, 30, 30),
              align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"))

    heading("Prepaid blocks")
    table(("Block", "Purchased", "Usable through", "Bought", "Used", "Forfeited", "Left", "Status"),
          doc["blocks"], (26, 21, 21, 22, 22, 22, 22, 24))

    heading("Closing balance")
    for text in doc["closing"]:
        line(text, True)

    heading("Totals for the period")
    table(("Figure", "Minutes"), doc["totals"], (120, 60), align=("LEFT", "RIGHT"), size=9)

    heading("Time entries")
    if redact:
        table(("Day", "Started", "Who", "Activity", "Kind", "Minutes"), doc["entries"],
              (20, 40, 30, 40, 28, 22), align=("LEFT",) * 5 + ("RIGHT",))
    else:
        table(("Day", "Started", "Who", "Activity", "Kind", "Minutes", "Notes"), doc["entries"],
              (19, 33, 24, 24, 22, 16, 42), align=("LEFT",) * 5 + ("RIGHT", "LEFT"))

    try:
        return bytes(pdf.output())
    except Exception as exc:  # fpdf2 raises plain exceptions; give one sentence instead
        raise ExportError(f"statement for {st.customer_id}: the PDF could not be written ({exc}).") from None


def _pdf_content(st: Statement, redact: bool, scrub) -> dict[str, Any]:
    """Every text the PDF prints, computed before any drawing (also to pick fonts)."""
    fm = lambda us: format_minutes(int(us))  # noqa: E731
    name = st.customer_name
    header = [
        ("Customer", f"{name} ({st.customer_id})", True),
        ("Period", f"{st.period_from.isoformat()} to {st.period_to.isoformat()}", False),
        ("As of", st.as_of.isoformat(), False),
        ("Generated", _generated(st), False),
        ("Policy", f"{st.policy_fingerprint} (data version {st.data_version}); ad-hoc work rounded up "
                   f"daily to {st.policy.get('rounding_increment_minutes', 30)} min (R5), hours valid "
                   f"{st.policy.get('hours_valid_days', 90)} days (R7)", False),
    ]
    days = []
    for r in _records(st.days):
        billed = fm(r["billable_us"])
        days.append((_fmt_day(r["day"]), scrub(_text(r["explanation"])) or "", billed,
                     scrub(_text(r["paid_by"])) or ""))
    movements = []
    for r in _records(st.ledger):
        if _text(r["kind"]) in ("purchase", "forfeited"):
            movements.append((_fmt_day(r["date"]), scrub(_text(r["description"])) or _text(r["kind"]),
                              fm(r["minutes_us"]), fm(r["balance_us"])))
    fees = [(_fmt_day(r["day"]), _text(r["appointment_id"]) or "",
             " by ".join(x for x in (_text(r["status"]), _text(r["cancelled_by"])) if x),
             f"{_text(r['notice_hours'])} h" if _text(r["notice_hours"]) else "", fm(r["fee_us"]))
            for r in _records(st.fees)]
    blocks = [(_text(r["purchase_id"]) or "", _fmt_day(r["purchased_on"]), _fmt_day(r["expires_on"]),
               fm(r["purchased_us"]), fm(r["used_us"]), fm(r["forfeited_us"]), fm(r["remaining_us"]),
               _text(r["status"]) or "")
              for r in _records(st.blocks)]
    closing = [f"Prepaid time left at the end of {st.period_to.isoformat()}: {fm(st.closing_remaining_us)}"]
    if st.next_expiry is not None:
        closing.append(f"Next expiry: {_fmt_day(st.next_expiry)}"
                       + (f" ({fm(st.expiring_us)} expiring soon)" if st.expiring_us else ""))
    else:
        closing.append("Next expiry: none (no active prepaid block)")
    t = st.totals
    totals = [
        ("Ad-hoc work as logged", fm(t["adhoc_raw_us"])),
        ("Ad-hoc work billed (rounded up once a day, R5)", fm(t["adhoc_billed_us"])),
        ("Session work (R4)", fm(t["session_us"])),
        ("Cancellation and no-show fees (R6)", fm(t["fee_us"])),
        ("Billable", fm(t["billable_us"])),
        ("Paid from prepaid hours", fm(t["covered_us"])),
        ("Not covered (invoiced separately, R8)", fm(t["uncovered_us"])),
        ("Hours purchased", fm(t["purchased_us"])),
        ("Forfeited at expiry (R9)", fm(t["forfeited_us"])),
        ("General Support, not billable (R2)", fm(t["nonbillable_us"])),
    ]
    entries = []
    for r in _records(st.entries):
        kind = _text(r["kind"]) or ""
        if _flag(r["customer_requested"]):
            kind += ", requested by the customer (R3)"
        row = [_fmt_day(r["day"]), _text(r["started_at"]) or "",
               REDACTED_STAFF if redact else (_text(r["staff"]) or ""), scrub(_text(r["activity"])) or "",
               kind, fm(r["minutes_us"])]
        if not redact:
            row.append(_text(r["notes"]) or "")
        entries.append(tuple(row))
    footer = f"{name} · {st.period_from.isoformat()} to {st.period_to.isoformat()} · as of {st.as_of.isoformat()}"
    opening = f"Prepaid time left at the end of the day before {st.period_from.isoformat()}: " \
              f"{fm(st.opening_remaining_us)}"
    all_text = [footer, opening, *closing]
    for group in (header, days, movements, fees, blocks, totals, entries):
        for row in group:
            all_text.extend(str(v) for v in row if isinstance(v, str))
    return {"header": header, "opening": opening, "days": days, "movements": movements, "fees": fees,
            "blocks": blocks, "closing": closing, "totals": totals, "entries": entries,
            "footer": footer, "all_text": all_text}


def _pdf_clean(text: str) -> str:
    """Text as a PDF can draw it: tabs become spaces, CR/LF a line break, and other control
    characters (which no font draws) are left out."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")


def _fmt_day(value) -> str:
    d = _day(value)
    return d.isoformat() if d else ""


__all__ = ["statement_csv", "statement_xlsx", "statement_pdf", "safe_cell", "ExportError",
           "REDACTED_STAFF", "FORMULA_TRIGGERS"]
