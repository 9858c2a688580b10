"""Customer statement downloads, one module per format, each a pure function of a Statement.

Each ``statement_*`` takes a ``billing.statement_model.Statement`` and returns the file's
bytes; nothing here reads the database, the policy file or the clock. Every format comes in
two copies: the customer copy (the default) says nothing internal, the internal copy
(``internal=True``) keeps rule ids, staff, notes and the policy and is marked on every page
(see ``cells``). ``team`` (billing.team.Team or None) is the sender in the letterhead.

- ``cells``: typed cell values, the two copies, file names, the statement as sections (shared)
- ``as_csv``, ``as_xlsx``, ``as_pdf``: one format each (``pdf_fit``: words whole in PDF cells)
"""
from billing.exports.as_csv import statement_csv
from billing.exports.as_pdf import statement_pdf
from billing.exports.as_xlsx import statement_xlsx
from billing.exports.cells import (INTERNAL_MARK, REDACTED_STAFF, ExportError, safe_cell,
                                   statement_filename)

FORMATS = {
    "pdf": ("application/pdf", statement_pdf),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", statement_xlsx),
    "csv": ("text/csv", statement_csv),
}


def statement_files(st, *, internal: bool = False, team=None) -> dict[str, tuple[str, bytes]]:
    """One copy of the statement in every format: ``{"pdf": (file name, bytes), "xlsx": …,
    "csv": …}`` (names by ``statement_filename``)."""
    return {ext: (statement_filename(st, ext, internal), render(st, internal=internal, team=team))
            for ext, (_, render) in FORMATS.items()}


def issued_files(st, *, team=None) -> dict[str, bytes]:
    """What is recorded when a statement is issued (billing.statement.issue_statement): both
    copies in every format, file name → bytes. The customer copy is what was sent, word for
    word; the internal copy is how the team explains it later (rule ids, staff, notes, the
    policy's fingerprint), as it was that day: a statement rebuilt after a later import would
    not say the same. Six files of a month's statement weigh some hundred kB."""
    return {name: data for internal in (False, True)
            for name, data in statement_files(st, internal=internal, team=team).values()}


__all__ = ["issued_files", "statement_csv", "statement_xlsx", "statement_pdf", "statement_files", "statement_filename",
           "safe_cell", "ExportError", "REDACTED_STAFF", "INTERNAL_MARK", "FORMATS"]
