"""Customer statement downloads, one module per format, each a pure function of a Statement.

Each ``statement_*`` takes a ``billing.statement_model.Statement`` and returns the file's
bytes; nothing here reads the database or the clock. ``redact=True`` makes the customer
copy: staff names become "Tech Support" (everywhere they occur, not only in the staff
column) and internal notes are left out.

- ``cells``: typed cell values, redaction, the statement as sections (shared)
- ``as_csv``, ``as_xlsx``, ``as_pdf``: one format each
"""
from billing.exports.as_csv import statement_csv
from billing.exports.as_pdf import statement_pdf
from billing.exports.as_xlsx import statement_xlsx
from billing.exports.cells import REDACTED_STAFF, ExportError, safe_cell

__all__ = ["statement_csv", "statement_xlsx", "statement_pdf", "safe_cell", "ExportError", "REDACTED_STAFF"]
