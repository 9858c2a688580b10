"""The statement as an XLSX workbook: one sheet per section, numbers as numbers."""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from billing.exports.cells import PDF_TITLE, Hours, Minutes, Section, statement_sections
from billing.safe import is_dangerous
from billing.statement_model import Statement


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
    for section in statement_sections(st, redact):
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
