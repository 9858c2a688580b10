"""The statement as an XLSX workbook: one sheet per section, numbers as numbers."""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from billing.exports.cells import (INTERNAL_MARK, PDF_TITLE, Hours, Minutes, Section, document_line,
                                   statement_sections)
from billing.safe import is_dangerous
from billing.statement_model import Statement


_WRAP_WIDTH = 48
_MAX_WIDTH = 40


def statement_xlsx(st: Statement, *, internal: bool = False, team=None) -> bytes:
    """Sheets Summary, Ledger, Days, Entries, Fees, Blocks. Row 1 of each sheet names the
    document (title, customer, period); in the internal copy it starts with INTERNAL_MARK in
    red, the sheet tab is red and the printed page header says it too, so no sheet of the
    internal copy can be mistaken for the customer's. Row 2: bold frozen column names;
    then the rows: real dates, minutes as numbers shown with 2 decimals, hours beside them.
    Every text is a string cell (never a formula), whatever it starts with. ``team``: the
    sender (billing.team.Team) or None; see billing.exports.cells for what each copy holds."""
    import xlsxwriter

    buffer = io.BytesIO()
    # strings_to_*: False so nothing written as text is ever turned into a formula, URL or
    # number behind our back; we choose each cell's type below.
    wb = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False,
    })
    title = f"{PDF_TITLE} ({'internal copy' if internal else 'customer copy'}): {st.customer_name}"
    properties = {"title": title, "author": team.name if team is not None else "Hourbank"}
    if internal:
        properties["comments"] = f"policy {st.policy_fingerprint}, data version {st.data_version}"
    wb.set_properties(properties)
    fmt = {
        "banner": wb.add_format({"bold": True, "font_size": 12, "font_color": "#B91C1C" if internal else "#1E3A5F"}),
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
    }
    banner = document_line(st, internal)
    for section in statement_sections(st, internal, team):
        ws = wb.add_worksheet(section.name)
        ws.write_string(0, 0, banner, fmt["banner"])
        _write_sheet(ws, section, fmt, first_row=1)
        ws.set_header(_print_text(f"&L&B{INTERNAL_MARK}&R{section.name}" if internal
                                  else f"&L{PDF_TITLE}&R{section.name}"), {"margin": 0.3})
        ws.set_footer(_print_text(f"&L{INTERNAL_MARK}&RPage &P of &N" if internal else "&RPage &P of &N"),
                      {"margin": 0.3})
        if internal:
            ws.set_tab_color("#B91C1C")
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0, 1)
    wb.close()
    return buffer.getvalue()


def _print_text(text: str) -> str:
    """A page header/footer for xlsxwriter: at most 255 characters."""
    return text[:255]


def _write_sheet(ws, section: Section, fmt: dict, first_row: int = 0) -> None:
    """The section's column names on ``first_row`` (frozen, wrapped on spaces), its rows below it.
    A column is as wide as its longest value (capped) and at least its longest word."""
    widths = [max(10, max(len(w) for w in h.split()) + 2) for h in section.header]
    for col, name in enumerate(section.header):
        ws.write_string(first_row, col, name, fmt["header"])
    for r, row in enumerate(section.rows, start=first_row + 1):
        for col, value in enumerate(row):
            wrap = section.header[col] in section.wrap
            shown = _write_xlsx_cell(ws, r, col, value, fmt, wrap)
            widths[col] = max(widths[col], min(len(shown) + 2, _WRAP_WIDTH if wrap else _MAX_WIDTH))
    lines = 1
    for col, name in enumerate(section.header):
        width = max(widths[col], _WRAP_WIDTH) if name in section.wrap and section.rows else widths[col]
        ws.set_column(col, col, width)
        lines = max(lines, _lines(name, width - 1))
    ws.set_row(first_row, 15 * lines)
    ws.freeze_panes(first_row + 1, 0)
    if section.rows and section.name != "Summary":
        ws.autofilter(first_row, 0, first_row + len(section.rows), len(section.header) - 1)


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped on spaces at ``width`` characters."""
    count, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > width:
            count, used = count + 1, len(word)
        else:
            used += (1 if used else 0) + len(word)
    return count


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
