"""Fitting text into the statement PDF's table cells without breaking a word in the middle.

fpdf2 wraps a cell's text on spaces, but a word wider than its cell is cut wherever the
cell ends ("project_manag" / "ement"). ``fit_text`` decides before the cell is drawn:

1. every word fits at the table's font size: the text is left as it is (wraps on spaces);
2. otherwise the whole cell's font shrinks until its widest word fits, down to ``min_size``;
3. a word that is still too wide at ``min_size`` (an id, a URL, a run of letters with no
   space) is split where a reader expects it: after a separator (``-`` ``_`` ``/`` ``.``
   ``:`` ``@`` ...), else between a lower- and an upper-case letter or a letter and a
   digit, else, only if it has none of these, after the last character that fits.

``measure(text, size_pt)`` gives a text's width in the PDF's unit at a font size; it is the
PDF's own ``get_string_width``, so the decision is made with the widths that are drawn.
"""
from __future__ import annotations

import math
from typing import Callable

Measure = Callable[[str, float], float]
SEPARATORS = frozenset("-_/.:@,;+|\\)]}&=\u00a0")


def fit_text(text: str, width: float, size: float, min_size: float, measure: Measure) -> tuple[str, float]:
    """(``text`` to draw, font size) so that no word of ``text`` is wider than ``width``.
    Lines of ``text`` (``\\n``) stay lines; words are what lies between spaces (a
    non-breaking space joins two into one: "14 h 15 min" shrinks rather than wraps)."""
    words = [w for line in text.split("\n") for w in line.split(" ") if w]
    if not words or width <= 0:
        return text, size
    widest = max(measure(w, size) for w in words)
    if widest <= width:
        return text, size
    shrunk = math.floor(size * width / widest * 4 + 1e-9) / 4   # widths scale with the size: quarter points
    if shrunk >= min_size and max(measure(w, shrunk) for w in words) <= width:
        return text, shrunk
    fits = lambda piece: measure(piece, min_size) <= width  # noqa: E731
    lines = [" ".join(w if not w or fits(w) else "\n".join(split_word(w, fits)) for w in line.split(" "))
             for line in text.split("\n")]
    return "\n".join(lines), min_size


def split_word(word: str, fits: Callable[[str], bool]) -> list[str]:
    """``word`` cut into pieces that each ``fits``, at sensible places (see the module)."""
    pieces, rest = [], word
    while len(rest) > 1 and not fits(rest):
        n = _longest_prefix(rest, fits)
        cut = _break_at(rest, n)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


def _longest_prefix(text: str, fits: Callable[[str], bool]) -> int:
    """The most characters of ``text`` that fit (at least 1), by bisection: widths only grow."""
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[:mid]):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _break_at(text: str, n: int) -> int:
    """Where to cut ``text`` given that its first ``n`` characters fit: the last separator,
    else the last case or letter/digit change, within the last two thirds of them; else n."""
    floor = max(1, n // 3)
    for i in range(n, floor - 1, -1):
        if text[i - 1] in SEPARATORS and i < len(text):
            return i
    for i in range(n, floor - 1, -1):
        a, b = text[i - 1], text[i] if i < len(text) else ""
        if b and ((a.islower() and b.isupper()) or (a.isalpha() and b.isdigit()) or (a.isdigit() and b.isalpha())):
            return i
    return n


__all__ = ["fit_text", "split_word", "SEPARATORS"]
