"""The statement as one CSV file: its sections one after the other."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from billing.exports.cells import PDF_TITLE, safe_cell, statement_sections
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


def statement_csv(st: Statement, redact: bool = False) -> bytes:
    """UTF-8 with BOM (Excel then reads accents right). A header block (customer, period,
    as-of, generated, policy fingerprint, data version, balances, totals), then the
    sections Ledger, Days, Entries, Fees, Blocks, each after a blank line and a title row.
    Minutes are numbers with 2 decimals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    sections = statement_sections(st, redact)
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
