"""The statement as a PDF for people: totals, days, ledger; long text wraps onto numbered pages."""
from __future__ import annotations

import unicodedata
from datetime import datetime
from functools import lru_cache
from typing import Any

from billing.exports.cells import (ExportError, FONT_DIR, PDF_TITLE, REDACTED_STAFF, day_value, flag_value,
                                   generated_text, records, scrubber, text_value)
from billing.statement_model import Statement, format_minutes


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

    scrub = scrubber(st, redact)
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
        ("Generated", generated_text(st), False),
        ("Policy", f"{st.policy_fingerprint} (data version {st.data_version}); ad-hoc work rounded up "
                   f"daily to {st.policy.get('rounding_increment_minutes', 30)} min (R5), hours valid "
                   f"{st.policy.get('hours_valid_days', 90)} days (R7)", False),
    ]
    days = []
    for r in records(st.days):
        billed = fm(r["billable_us"])
        days.append((_fmt_day(r["day"]), scrub(text_value(r["explanation"])) or "", billed,
                     scrub(text_value(r["paid_by"])) or ""))
    movements = []
    for r in records(st.ledger):
        if text_value(r["kind"]) in ("purchase", "forfeited"):
            movements.append((_fmt_day(r["date"]), scrub(text_value(r["description"])) or text_value(r["kind"]),
                              fm(r["minutes_us"]), fm(r["balance_us"])))
    fees = [(_fmt_day(r["day"]), text_value(r["appointment_id"]) or "",
             " by ".join(x for x in (text_value(r["status"]), text_value(r["cancelled_by"])) if x),
             f"{text_value(r['notice_hours'])} h" if text_value(r["notice_hours"]) else "", fm(r["fee_us"]))
            for r in records(st.fees)]
    blocks = [(text_value(r["purchase_id"]) or "", _fmt_day(r["purchased_on"]), _fmt_day(r["expires_on"]),
               fm(r["purchased_us"]), fm(r["used_us"]), fm(r["forfeited_us"]), fm(r["remaining_us"]),
               text_value(r["status"]) or "")
              for r in records(st.blocks)]
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
    for r in records(st.entries):
        kind = text_value(r["kind"]) or ""
        if flag_value(r["customer_requested"]):
            kind += ", requested by the customer (R3)"
        row = [_fmt_day(r["day"]), text_value(r["started_at"]) or "",
               REDACTED_STAFF if redact else (text_value(r["staff"]) or ""), scrub(text_value(r["activity"])) or "",
               kind, fm(r["minutes_us"])]
        if not redact:
            row.append(text_value(r["notes"]) or "")
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
    d = day_value(value)
    return d.isoformat() if d else ""
