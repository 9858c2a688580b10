"""The statement as one CSV file: its sections one after the other."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from billing.exports.cells import INTERNAL_MARK, PDF_TITLE, safe_cell, statement_sections
from billing.statement_model import Statement


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


def statement_csv(st: Statement, *, internal: bool = False, team=None) -> bytes:
    """UTF-8 with BOM (Excel then reads accents right). The internal copy's first line is
    INTERNAL_MARK alone; then the title, the Summary (item, value, minutes, hours, as shown:
    sender, customer, period, the summary box's figures, the period's totals; the internal
    copy adds generated, policy fingerprint, data version and settings), then the sections
    Ledger, Days, Entries, Fees, Blocks, each after a blank line and a title row. Minutes
    and hours are numbers with 2 decimals; dates are YYYY-MM-DD. ``team``: the sender
    (billing.team.Team) or None. See billing.exports.cells for what each copy holds."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    sections = statement_sections(st, internal, team)
    summary, tables = sections[0], sections[1:]
    if internal:
        writer.writerow([INTERNAL_MARK])
    writer.writerow([PDF_TITLE])
    writer.writerow(summary.header)
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
    """Summary rows without trailing empty cells."""
    items = list(row)
    while items and items[-1] is None:
        items.pop()
    return tuple(items)
