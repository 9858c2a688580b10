"""Text bound for a spreadsheet is data, never a formula: the one neutraliser every download uses.

Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(and a leading tab or carriage return is stripped before that check), so a customer name,
a note or an activity such as ``=HYPERLINK("http://evil", "click")`` from the tracker
could run when a CSV download is opened. ``safe_text`` prefixes such text with an
apostrophe, which both programs show as text. A plain number (``-15.00``, ``+3``) cannot
run anything and is left alone, so figures stay figures; values that are not text
(numbers, dates, None) are returned unchanged.

Only downloads use this: the engine's frames and the app show the text as it was written.
"""
from __future__ import annotations

import re

import pandas as pd

# A cell starting with one of these can be run as a formula by Excel or LibreOffice.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")


def is_dangerous(value) -> bool:
    """Text that a spreadsheet could run as a formula."""
    return (isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)
            and _PLAIN_NUMBER.match(value) is None)


def safe_text(value):
    """``value`` with a leading apostrophe when it is dangerous text; anything else as it is."""
    return "'" + value if is_dangerous(value) else value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells are neutralised (number, date and bool columns untouched).
    Column names are neutralised too: a header cell is a cell."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.map(safe_text, na_action="ignore")
    out.columns = [safe_text(c) for c in out.columns]
    return out


__all__ = ["FORMULA_TRIGGERS", "is_dangerous", "safe_frame", "safe_text"]
