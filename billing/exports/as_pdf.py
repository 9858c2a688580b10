"""The statement as a PDF a company sends: letterhead, a summary box, then the explanation.

Page 1: the team's logo, name, address and contacts (billing.team; without a team, the
title alone), the customer and the period, and a box with the balances (opening,
purchased, used, forfeited, closing), the next expiry with what it holds, and what was
billed. Then the days explained, the fees, purchases and expiries, the blocks at the end
of the period (their total is the closing balance), the period's totals, the time entries
and how the figures are reached. Times are hours and whole minutes (billing.display).

Every page is numbered and carries the customer and the period; the internal copy has a red
"INTERNAL COPY" band at the top and the mark in the footer of every page. Table cells never
break a word in the middle (billing.exports.pdf_fit). Any name renders: DejaVu Sans, with
Droid Sans Fallback for Chinese, Japanese and Korean.
"""
from __future__ import annotations

import io
import math
import unicodedata
from datetime import datetime
from functools import lru_cache
from typing import Any

from billing import statement_words as words
from billing.display import MISSING, day_words, duration_text, notice_text, whole_minutes
from billing.exports.cells import (CJK_FONT, FONT_DIR, INTERNAL_MARK, LEAVING, PDF_TITLE, ExportError, activity_text,
                                   closed_lines, day_value, entry_kind_text, fee_what, flag_value, generated_text,
                                   is_missing, period_text, records, scrubber, started_text, summary_figures,
                                   text_value, uncovered_label)
from billing.exports.pdf_fit import fit_text
from billing.statement_model import Statement

NBSP = "\u00a0"
MIN_CELL_PT = 6.0           # a cell's font shrinks no further (then a long id is split)
RED = (185, 28, 28)
INK = (30, 41, 59)
GREY = (100, 110, 125)
HEAD_FILL = (238, 242, 247)
BOX_FILL = (246, 248, 251)


@lru_cache(maxsize=1)
def _dejavu_codepoints() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(FONT_DIR / "DejaVuSans.ttf"), lazy=True) as font:
        return frozenset(font.getBestCmap())


def _needs_fallback(texts) -> bool:
    covered = _dejavu_codepoints()
    return any(ord(ch) not in covered for text in texts if text for ch in text if not ch.isspace())


def statement_pdf(st: Statement, *, internal: bool = False, team=None) -> bytes:
    """The statement as A4 PDF bytes: the customer copy, or with ``internal`` the internal
    copy (rule ids, staff, notes, entry ids, policy; marked on every page). ``team``: the
    sender (billing.team.Team) or None. Raises ExportError if the PDF cannot be written."""
    from fpdf import FPDF

    doc = _pdf_content(st, internal, scrubber(st, internal), team)

    class _StatementPDF(FPDF):
        def header(self):
            if internal:
                self.set_fill_color(*RED)
                self.rect(0, 0, self.w, 9, "F")
                self.set_xy(self.l_margin, 2)
                self.set_font("DejaVu", "B", 9)
                self.set_text_color(255)
                self.cell(self.epw, 5, f"{INTERNAL_MARK} · policy {st.policy_fingerprint} · "
                                       f"data version {st.data_version}", align="C")
            if self.page_no() > 1:
                self.set_xy(self.l_margin, 11)
                self.set_font("DejaVu", "", 7.5)
                self.set_text_color(*GREY)
                self.cell(self.epw, 4, _clip(self, doc["running"], self.epw), align="L")
                self.set_draw_color(210, 215, 222)
                self.line(self.l_margin, 16, self.w - self.r_margin, 16)
                self.set_y(19)
            else:
                self.set_y(13 if internal else 12)
            self.set_text_color(*INK)
            self.set_font("DejaVu", "", 9)

        def footer(self):
            self.set_y(-12)
            self.set_font("DejaVu", "B" if internal else "", 7.5)
            self.set_text_color(*(RED if internal else GREY))
            # The page number and the internal mark always fit; the customer's name and the
            # period take what is left (cut at a word).
            page = f"  ·  Page {self.page_no()} of {{nb}}"
            mark = f"{INTERNAL_MARK}  ·  " if internal else ""
            room = self.epw - self.get_string_width(mark + page.replace("{nb}", "999"))
            self.cell(0, 6, mark + _clip(self, doc["footer"], room) + page, align="C")

    pdf = _StatementPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    if _needs_fallback(doc["all_text"]):
        pdf.add_font("DroidFallback", "", str(CJK_FONT))
        pdf.set_fallback_fonts(["DroidFallback"], exact_match=False)
    pdf.set_title(f"{PDF_TITLE}{' (internal copy)' if internal else ''}: {st.customer_name}")
    pdf.set_author(team.name if team is not None else "Hourbank")
    pdf.set_subject(f"{st.period_from.isoformat()} to {st.period_to.isoformat()}")
    if isinstance(st.generated_at, datetime):
        pdf.set_creation_date(st.generated_at)
    pdf.add_page()
    _Layout(pdf, doc, team).draw()
    try:
        return bytes(pdf.output())
    except Exception as exc:  # fpdf2 raises plain exceptions; give one sentence instead
        raise ExportError(f"statement for {st.customer_id}: the PDF could not be written ({exc}).") from None


def _clip(pdf, text: str, width: float) -> str:
    """One line of ``text`` that fits ``width``: whole words, cut with an ellipsis when too long
    (running headers and footers)."""
    text = _pdf_clean(text).replace("\n", " ")
    if pdf.get_string_width(text) <= width:
        return text
    words = text.split(" ")
    while len(words) > 1 and pdf.get_string_width(" ".join(words) + " …") > width:
        words.pop()   # whole words only: a running line never ends in half a word
    return " ".join(words).rstrip(" ·") + " …"


class _Layout:
    """Draws the statement's content on ``pdf`` from ``doc`` (_pdf_content)."""

    def __init__(self, pdf, doc: dict[str, Any], team):
        self.pdf, self.doc, self.team = pdf, doc, team

    def measure(self, bold: bool):
        pdf = self.pdf

        def width(text: str, size: float) -> float:
            pdf.set_font("DejaVu", "B" if bold else "", size)
            return pdf.get_string_width(text)
        return width

    def fitted(self, text: str, width: float, size: float, bold: bool = False) -> tuple[str, float]:
        """Text and size for a cell (or a line) ``width`` mm wide: words whole (pdf_fit)."""
        inner = width - 2 * self.pdf.c_margin - 0.4
        return fit_text(_pdf_clean(text), inner, size, MIN_CELL_PT, self.measure(bold))

    def one_line(self, text: str, width: float, size: float, bold: bool = False) -> float:
        """The font size (``size`` or smaller, not under MIN_CELL_PT) at which ``text`` fits
        ``width`` on one line; at the smallest, the caller clips it at a word (_clip)."""
        needed = self.measure(bold)(_pdf_clean(text), size)
        return size if needed <= width else max(MIN_CELL_PT, math.floor(size * width / needed * 4) / 4)

    def write(self, text: str, size: float = 9, bold: bool = False, color=INK, h: float | None = None,
              width: float = 0, align: str = "L"):
        from fpdf.enums import XPos, YPos

        pdf = self.pdf
        text, size = self.fitted(text, width or pdf.epw, size, bold)
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.set_text_color(*color)
        pdf.multi_cell(width, h or size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align=align)
        pdf.set_text_color(*INK)

    def heading(self, text: str):
        pdf = self.pdf
        pdf.ln(3)
        if pdf.will_page_break(20):
            pdf.add_page()
        self.write(text, 11.5, bold=True, h=6.5)
        pdf.ln(0.5)

    def draw(self):
        d = self.doc
        self.letterhead()
        self.summary_box()
        self.heading("Day by day")
        self.table(d["day_header"], d["days"], (20, 88, 20, 52), ("LEFT", "LEFT", "RIGHT", "LEFT"))
        if d["fees"]:
            self.heading("Cancellation and no-show fees")
            self.table(d["fee_header"], d["fees"], (20, 28, 74, 28, 30), ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"))
        if d["adjustments"]:
            self.heading("Corrections (adjustments)")
            self.table(("Date", "What and why", "Time"), d["adjustments"], (22, 131, 27), ("LEFT", "LEFT", "RIGHT"))
        self.heading(d["movements_title"])
        self.table(("Date", "What", "Time", "Balance after"), d["movements"], (22, 104, 27, 27),
                   ("LEFT", "LEFT", "RIGHT", "RIGHT"))
        self.heading(f"Prepaid blocks at the end of {d['through']}")
        self.table(("Block", "Bought on", "Last day", "Size", "Left at start", "Used", "Forfeited", "Left at end",
                    "Status"), d["blocks"], (32, 18, 18, 16, 19, 19, 19, 19, 20),
                   ("LEFT", "LEFT", "LEFT") + ("RIGHT",) * 5 + ("LEFT",), total=d["blocks_total"])
        for text in d["block_notes"]:
            self.write(f"• {text}", 8, h=4.2)
        self.heading("Totals for the period")
        self.table(("Figure", "Time"), d["totals"], (130, 50), ("LEFT", "RIGHT"), size=8.5)
        self.heading("Time entries")
        self.table(d["entry_header"], d["entries"], d["entry_widths"], d["entry_align"])
        self.heading("How the figures are reached")
        for text in d["how"]:
            self.write(f"• {text}", 8.5, h=4.4)

    # --- page 1 -----------------------------------------------------------------------------
    def letterhead(self):
        pdf, d, team = self.pdf, self.doc, self.team
        top = pdf.get_y()
        left_w, right_x = 90.0, pdf.l_margin + 92
        bottom = top
        if team is not None:
            text_x = pdf.l_margin
            if team.logo:
                info = pdf.image(io.BytesIO(team.logo), x=pdf.l_margin, y=top, h=18)
                logo_w = min(float(info.rendered_width), 40.0)
                text_x += logo_w + 4
                bottom = top + 18
            pdf.set_xy(text_x, top)
            width = pdf.l_margin + left_w - text_x
            self._block(team.name, width, 12.5, True, INK, 5.8, text_x)
            for line in team.contact_lines():
                self._block(line, width, 8.5, False, GREY, 4.2, text_x)
            bottom = max(bottom, pdf.get_y())
            pdf.set_xy(right_x, top)
            self._block(PDF_TITLE, pdf.w - pdf.r_margin - right_x, 14, True, INK, 7, right_x, align="R")
        else:
            pdf.set_xy(pdf.l_margin, top)
            self._block(PDF_TITLE, pdf.epw, 17, True, INK, 8, pdf.l_margin)
        for label, value in d["dates"]:
            x = right_x if team is not None else pdf.l_margin
            pdf.set_x(x)
            self._block(f"{label}: {value}", pdf.w - pdf.r_margin - x, 8.5, False, GREY, 4.4, x,
                        align="R" if team is not None else "L")
        bottom = max(bottom, pdf.get_y())
        pdf.set_y(bottom + 5)
        self.write("Customer", 8, color=GREY, h=4)
        self.write(d["customer"], 13, bold=True, h=6)
        self.write(f"Customer id {d['customer_id']}", 8.5, color=GREY, h=4.4)
        for text in d["internal_lines"]:
            self.write(text, 8, color=RED, h=4.2)
        for text in d["customer_notes"]:
            self.write(text, 8, color=GREY, h=4.2)
        pdf.ln(3)

    def _block(self, text, width, size, bold, color, h, x, align="L"):
        from fpdf.enums import XPos, YPos

        pdf = self.pdf
        text, size = self.fitted(text, width, size, bold)
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.set_text_color(*color)
        pdf.set_x(x)
        pdf.multi_cell(width, h, text, new_x=XPos.LEFT, new_y=YPos.NEXT, align=align)
        pdf.set_text_color(*INK)

    def summary_box(self):
        """The balances (left) and what comes next and what was billed (right), boxed. Each
        column's labels share one font size, the largest at which all fit on one line."""
        from fpdf.enums import XPos, YPos

        pdf, d = self.pdf, self.doc
        x, y, w = pdf.l_margin, pdf.get_y(), pdf.epw
        row_h, pad, gap = 5.6, 3.5, 6.0
        inner = w - 2 * pad
        columns = ((d["box_left"], x + pad, inner * 0.56 - gap / 2, 28.0),
                   (d["box_right"], x + pad + inner * 0.56 + gap / 2, inner * 0.44 - gap / 2, 24.0))
        note_lines = 0
        if d["box_note"]:
            pdf.set_font("DejaVu", "", 7)
            note_lines = len(pdf.multi_cell(inner, 3.4, d["box_note"], dry_run=True, output="LINES"))
        rows = max(len(d["box_left"]), len(d["box_right"]))
        h = pad * 2 + 7 + row_h * rows + (note_lines * 3.4 + 1.5 if note_lines else 0)
        if pdf.will_page_break(h + 2):
            pdf.add_page()
            y = pdf.get_y()
        pdf.set_fill_color(*BOX_FILL)
        pdf.set_draw_color(*INK)
        pdf.set_line_width(0.35)
        pdf.rect(x, y, w, h, "DF")
        pdf.set_line_width(0.2)
        pdf.set_xy(x + pad, y + pad)
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(inner, 6, _clip(pdf, f"Summary for {d['period']}", inner))
        for items, cx, width, value_w in columns:
            label_w = width - value_w - 1
            plain = min([self.one_line(label, label_w, 8.5) for label, _, strong in items if not strong] or [8.5])
            cy = y + pad + 7
            for label, value, strong in items:
                if strong:
                    pdf.set_draw_color(*INK)
                    pdf.line(cx, cy + 0.3, cx + width, cy + 0.3)
                pdf.set_font("DejaVu", "B" if strong else "", self.one_line(label, label_w, 9, True) if strong else plain)
                pdf.set_xy(cx, cy)
                pdf.cell(width - value_w, row_h, _clip(pdf, label, label_w))
                pdf.set_font("DejaVu", "B" if strong else "", 9)
                pdf.cell(value_w, row_h, _clip(pdf, value, value_w), align="R")
                cy += row_h
        if note_lines:
            pdf.set_xy(x + pad, y + h - pad - note_lines * 3.4)
            pdf.set_font("DejaVu", "", 7)
            pdf.set_text_color(*GREY)
            pdf.multi_cell(inner, 3.4, d["box_note"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_text_color(*INK)
        pdf.set_draw_color(0)
        pdf.set_xy(x, y + h + 2)

    # --- tables -----------------------------------------------------------------------------
    def table(self, header, rows, widths, align, size: float = 8, total=None):
        from fpdf.fonts import FontFace

        pdf = self.pdf
        if not rows:
            self.write("None in this period.", 8.5, color=GREY)
            return
        pdf.set_font("DejaVu", "", size)
        pdf.set_draw_color(190, 198, 208)
        with pdf.table(col_widths=widths, text_align=align, line_height=size * 0.5,
                       headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL), padding=1,
                       repeat_headings=1, width=pdf.epw) as t:
            head = t.row()
            for text, w in zip(header, widths):
                fitted, s = self.fitted(text, w * pdf.epw / sum(widths), size, bold=True)
                head.cell(fitted, style=FontFace(emphasis="BOLD", size_pt=s, fill_color=HEAD_FILL))
            for row in [*rows, *([total] if total else [])]:
                bold = row is total
                cells = t.row()
                for value, w in zip(row, widths):
                    text = "" if value is None else str(value)
                    fitted, s = self.fitted(text, w * pdf.epw / sum(widths), size, bold)
                    style = FontFace(emphasis="BOLD" if bold else None, size_pt=s,
                                     fill_color=HEAD_FILL if bold else None)
                    cells.cell(fitted, style=style)
        pdf.set_draw_color(0)
        pdf.set_font("DejaVu", "", 9)


def _dt(us) -> str:
    """A time for a table cell: hours and whole minutes, its spaces non-breaking so that
    "14 h 15 min" never wraps inside a narrow column (the cell's font shrinks instead)."""
    return duration_text(int(us)).replace(" ", NBSP)


def _pdf_content(st: Statement, internal: bool, scrub, team) -> dict[str, Any]:
    """Every text the PDF prints, computed before any drawing (also to pick fonts)."""
    t = st.totals
    # The customer copy says its dates as people read them ("12 Oct 2026"); the internal one ISO.
    day, in_words = (_day, (lambda text: text)) if internal else (_day_words, scrub)
    period = period_text(st, words=not internal)
    through = day(st.through)
    dates = [("Period", period), ("Statement date", day(st.as_of))]
    internal_lines = []
    if internal:
        internal_lines = [
            f"Generated {generated_text(st)} · policy {st.policy_fingerprint} · data version {st.data_version}",
            "Settings: " + ", ".join(f"{k} = {v}" for k, v in sorted(st.policy.items())),
        ]
    internal_lines += closed_lines(st, internal) if internal else []
    customer_notes = [] if internal else closed_lines(st, internal)
    figures = summary_figures(st)
    box_left = []
    for i, (label, us) in enumerate(figures):
        if i == 0:
            box_left.append((f"Opening balance (start of {day(st.period_from)})", _dt(us), False))
        elif i == len(figures) - 1:
            box_left.append((f"Closing balance (end of {through})", _dt(us), True))
        else:
            box_left.append((label, ("− " if label in LEAVING else "+ ") + _dt(us), False))
    if st.next_expiry is not None:
        expiry = [("Next expiry", day(st.next_expiry), False),
                  ("Left in the blocks ending then", _dt(st.next_expiry_us), False)]
    else:
        expiry = [("Next expiry", "none", False)]
    owed = uncovered_label(st).startswith("Owed")
    box_right = [*expiry, ("Billed in the period", _dt(t["billable_us"]), False),
                 ("Owed at the end of the period" if owed else uncovered_label(st), _dt(t["uncovered_us"]), False)]
    shown = [us for _, us in figures] + [st.next_expiry_us, t["billable_us"], t["uncovered_us"]]
    box_note = ("Times are rounded to the whole minute; the XLSX and CSV copies give them to 1/100 minute."
                if any(us % 60_000_000 for us in shown) else "")
    # A balance that does not add up once rounded would look wrong: the note says why.
    signed = [whole_minutes(us) * (-1 if label in LEAVING else 1) for label, us in figures[:-1]]
    if sum(signed) != whole_minutes(figures[-1][1]):
        box_note = "Times are rounded to the whole minute, so the lines may differ by a minute from their sum; " \
                   "the XLSX and CSV copies give them to 1/100 minute."

    explain, paid = ("explanation", "paid_by") if internal else ("customer_explanation", "customer_paid_by")
    days = [(day(r["day"]), scrub(text_value(r[explain])) or "", _dt(r["billable_us"]),
             scrub(text_value(r[paid])) or "") for r in records(st.days)]
    describe = "description" if internal else "customer_description"
    moving = ("purchase", "credit", "late_credit", "carried_in", "owed_paid", "extended", "rolled_over", "forfeited")
    movements = [(day(r["date"]), scrub(text_value(r[describe])) or "", _dt(r["minutes_us"]), _dt(r["balance_us"]))
                 for r in records(st.ledger) if text_value(r["kind"]) in moving]
    kinds = set(st.ledger["kind"])
    movements_title = "Purchases and expiries" if not kinds & {"credit", "late_credit", "carried_in", "owed_paid",
                                                               "extended", "rolled_over"} \
        else "Purchases, credits, carried-over time and expiries"
    fees = [(day(r["day"]), text_value(r["appointment_id"]) or "", in_words(fee_what(r, st.policy, internal)),
             notice_text(r["notice_us"]), _dt(r["fee_us"]))
            for r in records(st.fees)]
    what = "description" if internal else "customer_description"
    adjustments = [(day(r["date"]), scrub(words.adjustment_line(text_value(r[what]), text_value(r["reason"]))) or "",
                    MISSING if is_missing(r["minutes_us"]) else _dt(r["minutes_us"]))
                   for r in records(st.adjustments)]
    name = "purchase_id" if internal else "customer_block"
    blocks = [(in_words(text_value(r[name])) or text_value(r["purchase_id"]) or "", day(r["purchased_on"]),
               day(r["expires_on"]), _dt(r["purchased_us"]),
               "bought in period" if is_missing(r["left_at_start_us"]) else _dt(r["left_at_start_us"]),
               _dt(r["used_us"]), _dt(r["forfeited_us"]), _dt(r["left_at_end_us"]),
               words.status_text(text_value(r["status"])) or "")
              for r in records(st.blocks)]
    about = "about" if internal else "customer_about"
    block_notes = [scrub(f"{text_value(r[name]) or text_value(r['purchase_id'])}: {text_value(r[about])}")
                   for r in records(st.blocks) if text_value(r[about])]
    b = st.blocks
    blocks_total = ("Total", "", "", "", _dt(int(b["left_at_start_us"].fillna(0).sum())), _dt(int(b["used_us"].sum())),
                    _dt(int(b["forfeited_us"].sum())), _dt(int(b["left_at_end_us"].sum())), "")
    rule = (lambda r: f" ({r})") if internal else (lambda r: "")
    totals = [
        ("Ad-hoc work as logged", _dt(t["adhoc_raw_us"])),
        ("Ad-hoc work billed (added up per day, rounded up)" + rule("R5"), _dt(t["adhoc_billed_us"])),
        ("Sessions" + rule("R4"), _dt(t["session_us"])),
        ("Cancellation and no-show fees" + rule("R6"), _dt(t["fee_us"])),
        ("Billed in the period", _dt(t["billable_us"])),
        ("Paid from prepaid hours" + rule("R8"), _dt(t["covered_us"])),
        (("Owed at the end of the period (the next purchase pays it first)" + rule("R14")
          if uncovered_label(st).startswith("Owed") else "Not covered by prepaid hours (invoiced separately)"
          + rule("R8")), _dt(t["uncovered_us"])),
        ("Hours purchased" + rule("R7"), _dt(t["purchased_us"])),
        ("Forfeited at expiry" + rule("R9"), _dt(t["forfeited_us"])),
        ("General Support, free (not billed)" + rule("R2"), _dt(t["nonbillable_us"])),
    ]
    extra = [("Charges (corrections)" + rule("R10"), "charged_us"),
             ("Credited (corrections and late changes)" + rule("R10, R12"), "credited_us"),
             ("Carried over into new blocks" + rule("R13"), "carried_in_us"),
             ("Carried over out of blocks at their last day (not forfeited)" + rule("R13"), "rolled_over_us"),
             ("Owed from before the period, paid in it" + rule("R14"), "earlier_owed_paid_us")]
    totals += [(label, _dt(t[key])) for label, key in extra if t.get(key)]

    entries = []
    for r in records(st.entries):
        kind = entry_kind_text(r, internal) or ""
        if flag_value(r["customer_requested"]):
            kind += ", asked for by the customer" + rule("R3")
        start = (in_words(started_text(r["day"], r["started_at"])) or "").replace(" ", NBSP)   # "11:00 Z" on one line
        if internal:
            entries.append((day(r["day"]), start, text_value(r["entry_id"]) or "", text_value(r["staff"]) or "",
                            activity_text(r["activity"]) or "", kind, _dt(r["minutes_us"]),
                            text_value(r["notes"]) or ""))
        else:
            entries.append((day(r["day"]), start, scrub(activity_text(r["activity"])) or "", kind,
                            _dt(r["minutes_us"])))
    if internal:
        entry_header = ("Day", "Start", "Entry", "Who", "Activity", "Kind", "Time", "Notes")
        entry_widths, entry_align = (18, 12, 21, 22, 24, 23, 19, 41), ("LEFT",) * 6 + ("RIGHT", "LEFT")
        day_header = ("Day", "How it was reached", "Billed", "Paid by")
        fee_header = ("Day", "Appointment", "What", "Notice given", "Fee")
    else:
        entry_header = ("Day", "Start", "Activity", "Kind", "Time")
        entry_widths, entry_align = (22, 20, 60, 56, 22), ("LEFT",) * 4 + ("RIGHT",)
        day_header = ("Day", "What was billed", "Billed", "Paid from")
        fee_header = ("Day", "Appointment", "What", "Notice given", "Fee")
    customer = st.customer_name
    footer = f"{customer} · {period}"
    running = f"{PDF_TITLE} · {team.name + ' · ' if team is not None else ''}{customer} ({st.customer_id}) · " \
              f"{period}"
    how = words.how_we_bill(st.policy, internal, st.period_from, st.through)
    doc = {"dates": dates, "customer": customer, "customer_id": st.customer_id, "internal_lines": internal_lines,
           "customer_notes": customer_notes,
           "period": period, "through": through, "box_left": box_left, "box_right": box_right,
           "box_note": box_note, "days": days, "day_header": day_header, "movements": movements, "fees": fees,
           "movements_title": movements_title, "adjustments": adjustments, "block_notes": block_notes,
           "fee_header": fee_header, "blocks": blocks, "blocks_total": blocks_total, "totals": totals,
           "entries": entries, "entry_header": entry_header, "entry_widths": entry_widths,
           "entry_align": entry_align, "how": how, "footer": footer, "running": running}
    all_text = [footer, running, customer, *internal_lines, *customer_notes, *how, *block_notes,
                *(team.contact_lines() if team else []), team.name if team else ""]
    for group in (dates, box_left, box_right, days, movements, fees, adjustments, blocks, totals, entries):
        for row in group:
            all_text.extend(str(v) for v in row if isinstance(v, str))
    doc["all_text"] = all_text
    return doc


def _pdf_clean(text: str) -> str:
    """Text as a PDF can draw it: tabs become spaces, CR/LF a line break, and other control
    characters (which no font draws) are left out."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")


def _day(value) -> str:
    d = day_value(value)
    return d.isoformat() if d else ""


def _day_words(value) -> str:
    """A day in the customer copy: "12 Oct 2026" (billing.display.day_words)."""
    d = day_value(value)
    return day_words(d) if d else ""


__all__ = ["statement_pdf"]
