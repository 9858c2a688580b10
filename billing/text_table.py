"""Text tables for people that fit the terminal: every ``--format table`` of the command line
(reports, adjustments) and the one-record-a-line listings (imports, rejects, closings, links).

How a table meets a width W (``terminal_width``: COLUMNS, else the terminal, else 80):

1. Every column at its widest value (display cells: a CJK character takes two, ``wcwidth``).
2. A long explanation (a review's "what to do") becomes a numbered note under the table,
   each distinct text once, wrapped to W.
3. Free text (a customer's name, an issue, a reason) is cut with "…" to a comfortable width
   (its least + EASE cells); ids, dates and times are never cut.
4. Still too wide: the least important columns are left out, one at a time (each table says
   which go first), and a line under the table names them and points to ``--format csv`` /
   ``json``, which have every column. The customer's id and name and the main times stay;
   when only those are left, free text is cut down to its least (a name: NAME_LEAST cells).
5. If even those cannot fit, one line says so (and how wide the table needs to be) instead
   of a table that wraps into a mess.

``width=None`` (a report written to a file with ``--out``) keeps every column at full width.
The cells are fitted once per distinct value and the lines joined by Arrow, so a report of a
million rows prints in seconds.
"""
from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import wcwidth

from billing.display import MISSING, column_text

SEP = "  "
ELLIPSIS = "…"
NAME_LEAST = 16   # a customer's name is cut down to no fewer cells than this
EASE = 8          # … and free text to its least + EASE cells before a column is left out


def terminal_width() -> int:
    """The width to fit: COLUMNS when set, else the terminal's, else 80 (not a terminal)."""
    return max(shutil.get_terminal_size((80, 24)).columns, 1)


def cells(text: str) -> int:
    """The display width of ``text`` in terminal cells (a CJK character takes two)."""
    w = wcwidth.width(text)
    return w if w >= 0 else len(text)


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells: whole, or cut and ended with "…"."""
    if cells(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = max(wcwidth.wcwidth(ch), 0)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + ELLIPSIS


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` filled with spaces to ``width`` cells, on the left when ``right``."""
    fill = " " * max(width - cells(text), 0)
    return fill + text if right else text + fill


def wrapped(text: str, width: int | None, indent: str = "    ") -> str:
    """One record's line for a terminal ``width`` cells wide: broken between words, the
    following lines indented by ``indent``; unchanged when ``width`` is None or it fits."""
    if width is None or cells(text) <= width:
        return text
    return "\n".join(wcwidth.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False))


@dataclass(frozen=True)
class Column:
    """One column of a text table.

    ``key``: its column in the table of text; ``header``: its name for people; ``right``:
    figures, aligned right; ``least``: > 0 for free text that may be cut with "…" down to this
    many cells; ``note``: a long explanation, moved under the table as numbered notes when it
    does not fit inline (headed ``short`` then); ``drop``: 0 for a column that always shows, else the order in which
    columns are left out when the table is too wide (the highest first)."""
    key: str
    header: str
    right: bool = False
    least: int = 0
    note: bool = False
    drop: int = 0
    short: str = ""

    def head(self, noted: bool) -> str:
        """The header: ``short`` (when given) over a note column shown as numbers."""
        return self.short if noted and self.short else self.header


@dataclass
class Layout:
    """What fits: the columns kept with their widths, the note columns shown as numbers, the
    columns left out; ``need``: the cells the table needs at the least (when nothing fits)."""
    columns: list[Column]
    widths: list[int]
    noted: set[str] = field(default_factory=set)
    dropped: list[Column] = field(default_factory=list)
    need: int = 0

    @property
    def fits(self) -> bool:
        return bool(self.columns)


def _total(widths) -> int:
    return sum(widths) + len(SEP) * (len(widths) - 1)


def layout(columns: list[Column], natural: dict[str, int], width: int | None,
           note_width: dict[str, int] | None = None) -> Layout:
    """Fit ``columns`` (their widest values and headers: ``natural``, in cells) into ``width``
    cells as the module says; ``note_width``: a note column's width as numbers ("[12]")."""
    kept, dropped = list(columns), []
    while True:
        widths = [natural[c.key] for c in kept]
        if width is None or _total(widths) <= width:
            return Layout(kept, widths, dropped=dropped)
        noted = {c.key for c in kept if c.note}
        widths = [(note_width or {}).get(c.key, natural[c.key]) if c.note else w for c, w in zip(kept, widths)]
        excess = _total(widths) - width
        droppable = [c for c in kept if c.drop]
        # Free text is cut to a comfortable width (its least + EASE) before a column is left
        # out, and to its least only when nothing else can go.
        ease = EASE if droppable else 0
        floor = [min(max(c.least + ease, cells(c.head(c.key in noted))), w) if c.least else w
                 for c, w in zip(kept, widths)]
        if excess <= sum(w - f for w, f in zip(widths, floor)):
            while excess > 0:   # cut the widest free text first, a cell at a time
                i = max((i for i in range(len(kept)) if widths[i] > floor[i]), key=lambda i: widths[i] - floor[i])
                widths[i] -= 1
                excess -= 1
            return Layout(kept, widths, noted, dropped)
        if not droppable:
            return Layout([], [], need=_total(floor))
        gone = max(droppable, key=lambda c: c.drop)
        kept.remove(gone)
        dropped.append(gone)


def _text_column(column) -> pa.Array:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    arr = arr.cast(pa.large_string())
    return pc.if_else(pc.or_kleene(pc.is_null(arr), pc.equal(arr, "")), pa.scalar(MISSING, pa.large_string()), arr)


def write_fitted(text: pa.Table, columns: list[Column], sink, width: int | None, *,
                 footer: str = "", too_narrow: str = "--format csv or --format json") -> None:
    """``text`` (all text, '' or null where missing) as a table for people into the binary
    file object ``sink``, fitted to ``width`` cells (None: every column at full width): a
    header, a rule, the rows, the notes, the columns left out, then ``footer``; "(no rows)"
    for none. When the table cannot fit, one line saying how wide it needs to be and pointing
    to ``too_narrow`` (the formats with every column)."""
    if text.num_rows == 0:
        sink.write(b"(no rows)\n")
        return
    arrays = {c.key: _text_column(text[c.key]).dictionary_encode() for c in columns}
    values = {k: [cells(v) for v in a.dictionary.to_pylist()] for k, a in arrays.items()}
    natural = {c.key: max(cells(c.header), max(values[c.key], default=0)) for c in columns}
    notes = {c.key: [v for v in arrays[c.key].dictionary.to_pylist() if v != MISSING] for c in columns if c.note}
    note_width = {c.key: max(cells(c.head(True)), len(f"[{len(notes[c.key])}]")) for c in columns if c.note}
    plan = layout(columns, natural, width, note_width)
    if not plan.fits:
        sink.write((wrapped(f"This table needs {plan.need} characters and the terminal is {width} wide: "
                            f"widen it (or set COLUMNS), or see every column with {too_narrow}.", width)
                    + "\n").encode())
        return
    head, parts = [], []
    numbers = {}
    for c, w in zip(plan.columns, plan.widths):
        arr = arrays[c.key]
        shown = arr.dictionary.to_pylist()
        if c.key in plan.noted:
            numbers[c.key] = {v: i for i, v in enumerate(notes[c.key], start=1)}
            shown = [MISSING if v == MISSING else f"[{numbers[c.key][v]}]" for v in shown]
        fitted = pa.array([pad(cut(v, w), w, c.right) for v in shown], pa.large_string())
        parts.append(fitted.take(arr.indices))
        head.append(pad(cut(c.head(c.key in plan.noted), w), w, c.right))
    lines = pc.utf8_rtrim_whitespace(pc.binary_join_element_wise(*parts, pa.scalar(SEP, pa.large_string()))) if len(parts) > 1 \
        else pc.utf8_rtrim_whitespace(parts[0])
    sink.write(("".join([SEP.join(head).rstrip(), "\n", SEP.join("-" * w for w in plan.widths), "\n"])).encode())
    step = 1 << 16
    for start in range(0, len(lines), step):
        chunk = lines.slice(start, step).to_pylist()
        sink.write(("\n".join(chunk) + "\n").encode())
    tail = []
    for c in plan.columns:
        if c.key in plan.noted:
            tail.append(f"{c.header}:")
            tail += [wrapped(f"[{n}] {v}", width, " " * (len(str(n)) + 3)) for v, n in numbers[c.key].items()]
    if plan.dropped:
        tail.append(wrapped(f"Left out to fit {width} characters: {', '.join(c.header for c in plan.dropped)} "
                            f"({too_narrow} has every column).", width))
    if footer:
        tail.append(wrapped(footer, width))
    if tail:
        sink.write(("\n".join(tail) + "\n").encode())


# --------------------------------------------------------------------------- the reports
# Which columns go first when a report is too wide (the first named goes first). The
# customer's id and name, the day or block, and the times a billing manager reads first
# (billable and uncovered; what is left and what expires) always stay.
LEAVE_OUT_FIRST = {
    "daily": ["adhoc_raw_minutes", "late_for", "charged_minutes", "adhoc_billed_minutes", "session_minutes",
              "fee_minutes", "covered_minutes"],
    "blocks": ["rolled_over_minutes", "purchased_on", "forfeited_minutes", "used_minutes", "purchased_minutes"],
    "summary": ["nonbillable_minutes", "covered_minutes", "fee_minutes", "forfeited_minutes",
                "purchased_minutes", "billable_minutes"],
    "review": ["item"],
}
# Free text cut with "…" down to this many cells (names, issues); a long explanation: a note.
LEAST = {"customer_name": NAME_LEAST, "issue": 20}
NOTES = {"what_to_do": "to do"}


def report_columns(report: str | None, columns: list[str]) -> list[Column]:
    """The ``Column``s of a report's FORMATS.md columns (``x_minutes`` shown as times, named in
    words by billing.display.column_text), with LEAVE_OUT_FIRST's order and LEAST's cuts."""
    order = LEAVE_OUT_FIRST.get(report or "", [])
    out = []
    for key in columns:
        minutes = key.endswith("_minutes")
        header = column_text(key[:-len("_minutes")] if minutes else key)
        rank = len(order) - order.index(key) if key in order else 0
        out.append(Column(key, header, right=minutes, least=LEAST.get(key, 0), note=key in NOTES, drop=rank,
                          short=NOTES.get(key, "")))
    return out


def frame_columns(names: list[str], spec: dict[str, dict]) -> list[Column]:
    """``Column``s for a table of text whose columns are already named for people
    (``names``), with ``spec``: name → Column keyword arguments (right, least, note, drop)."""
    return [Column(n, n, **spec.get(n, {})) for n in names]


def write_report_table(frame, columns: list[str], sink, names: dict[str, str] | None = None,
                       report: str | None = None, width: int | None = None) -> None:
    """A report (billing.reports.report_frame: minutes still µs) as a table for people into the
    binary file object ``sink``: columns named in words (billing.display.column_text), each
    customer's name beside its id (``names``: billing.customers), times as hours and whole
    minutes ("174 h 5 min", half up: billing.display), a block's status in words, a dash where
    a value is missing, a review's issue in whole seconds; fitted to ``width`` cells as the
    module says (``report``: which columns go first); a row count under it. The exact minutes
    are ``--format csv``'s."""
    from billing.display import review_text
    from billing.reports import as_table

    if "issue" in columns:
        frame = frame.assign(issue=[review_text(v) for v in frame["issue"]])
    if names is not None and "customer_id" in columns:
        frame = frame.assign(customer_name=frame["customer_id"].map(names).astype(object))
        at = columns.index("customer_id") + 1
        columns = columns[:at] + ["customer_name"] + columns[at:]
    text = as_table(frame, columns, for_people=True)
    write_fitted(text, report_columns(report, columns), sink, width,
                 footer=f"({text.num_rows} row{'' if text.num_rows == 1 else 's'}; times to the minute, exact in --format csv)")


def wrap_lines(text: str, width: int | None, indent: str = "    ") -> str:
    """Every line of ``text`` fitted to ``width`` cells (``wrapped``), a line's continuation
    indented by its own leading spaces plus ``indent``."""
    if width is None:
        return text
    out = []
    for line in text.split("\n"):
        lead = line[:len(line) - len(line.lstrip(" "))]
        out.append(wrapped(line, width, lead + indent) if line.strip() else line)
    return "\n".join(out)


ADJUSTMENT_COLUMNS = {   # billing.adjustments.people_frame's columns: how they fit a terminal
    "no.": {"right": True}, "what": {"least": 18}, "customer": {"least": 16}, "reason": {"least": 16},
    "by": {"least": 10, "drop": 2}, "recorded (UTC)": {"drop": 3}, "voided": {"least": 10, "drop": 1},
}
