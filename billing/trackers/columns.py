"""Which cells feed which field: a tracker table's columns read once per distinct text.

    Context(table, mapping, zone)       each field as one trimmed Arrow text column per row
    codes_of(array) -> (codes, values)  each distinct text once, and each row's index into them
    per_distinct(fn, *arrays) -> array  ``fn`` once per distinct combination, one result per row

A million-row export has a few thousand distinct dates, durations and clients: the rules
of reading run once per distinct text in plain Python, and the rows cost array operations.
"""
from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.trackers.mapping import Mapping, column_patterns, resolve_all, spec_column
from billing.trackers.reader import Table, TrackerError


def trimmed(array: pa.Array) -> pa.Array:
    """The texts of ``array`` (Arrow strings, one per row) without leading or trailing whitespace."""
    return pc.utf8_trim_whitespace(array)


def codes_of(array: pa.Array) -> tuple[np.ndarray, list[str]]:
    """(per-row code, distinct values) of an Arrow text column: each distinct text once.

    The codes are an int64 numpy array, one per row, indexing the list of distinct texts
    (in order of first appearance)."""
    encoded = pc.dictionary_encode(array)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary.to_pylist()


def distinct_tuples(*arrays: pa.Array) -> tuple[np.ndarray, list[tuple]]:
    """(per-row code, distinct tuples) of several Arrow text columns of equal length taken
    together: the codes an int64 numpy array indexing the list of distinct tuples of texts."""
    parts = [codes_of(a) for a in arrays]
    key = np.zeros(len(arrays[0]) if arrays else 0, dtype=np.int64)
    span = 1
    for codes, values in parts:
        if span * max(len(values), 1) >= 1 << 62:
            stacked = np.stack([c for c, _ in parts], axis=1)
            uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
            return inverse.reshape(-1), [tuple(p[1][c] for p, c in zip(parts, row)) for row in uniq]
        key = key * max(len(values), 1) + codes
        span *= max(len(values), 1)
    uniq, inverse = factorize(key)
    tuples = []
    for k in uniq.tolist():
        row = []
        for codes, values in reversed(parts):
            k, c = divmod(k, max(len(values), 1))
            row.append(values[c] if values else "")
        tuples.append(tuple(reversed(row)))
    return inverse.astype(np.int64), tuples


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, each row's index into them) of a numpy array: np.unique's answer,
    hashed not sorted (distinct values in order of first appearance, indices int64)."""
    encoded = pc.dictionary_encode(pa.array(values))
    return encoded.dictionary.to_numpy(zero_copy_only=False), encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def texts_of(values: list[str], inverse: np.ndarray) -> pa.Array:
    """Per-row texts (an Arrow string array) from distinct ``values`` and each row's index
    into them (an integer numpy array)."""
    return pa.array(values, pa.string()).take(pa.array(inverse, pa.int64()))


def per_distinct(fn, *arrays: pa.Array) -> np.ndarray:
    """``fn(*texts)`` once for each distinct combination of the Arrow text columns
    ``arrays``, as one result per row (a numpy object array). Exceptions of ``fn`` propagate."""
    inverse, tuples = distinct_tuples(*arrays)
    results = [fn(*t) for t in tuples]
    out = np.empty(len(results), dtype=object)
    out[:] = results
    return out[inverse]


class Context:
    """The table and mapping, and each source field as one Arrow text column per row.

    ``cols``: field -> (kind "first" or "join", header indices); ``patterns``: field ->
    {header index: pattern whose group is kept}; ``order``: the date order once decided
    (ymd, dmy, mdy, or None); ``n``: the number of rows. Values computed from the table
    are kept once per key (``memo``)."""

    def __init__(self, table: Table, mapping: Mapping, zone: ZoneInfo | None):
        self.table = table
        self.mapping = mapping
        self.zone = zone
        self.fmt = mapping.format
        self.order: str | None = None
        self.n = table.rows
        self.cols: dict[str, tuple[str, list[int]]] = {}
        self.patterns: dict[str, dict] = {}  # field -> {header index: pattern whose group is kept}
        for name, spec in mapping.columns.items():
            found = resolve_all(table.header, spec)
            if found:
                self.cols[name] = found
                self.patterns[name] = column_patterns(table.header, spec)
        self._cells: dict[str, pa.Array] = {}

    def has(self, name: str) -> bool:
        """Whether the header has a column for field ``name``."""
        return name in self.cols

    def column_name(self, name: str) -> str:
        """The header cell(s) a field is read from, as the user sees them."""
        if name not in self.cols:
            return name
        kind, indices = self.cols[name]
        if kind == "join":
            return " + ".join(self.table.header[i] for i in indices)
        return self.table.header[indices[0]]

    def primary(self, name: str) -> pa.Array:
        """The field's first column only (no fallback), trimmed."""
        kind, indices = self.cols[name]
        key = f"primary:{name}"
        if key not in self._cells:
            self._cells[key] = trimmed(self.table.columns[indices[0]])
        return self._cells[key]

    def cell(self, name: str) -> pa.Array:
        """The field's text per row, trimmed ("" when absent): the first non-empty of its
        columns, or its parts joined."""
        if name in self._cells:
            return self._cells[name]
        if name not in self.cols:
            value = pa.array([""] * self.n, pa.string()) if self.n else pa.array([], pa.string())
        else:
            kind, indices = self.cols[name]
            parts = [trimmed(self.table.columns[i]) for i in indices]
            for k, i in enumerate(indices):
                pattern = self.patterns.get(name, {}).get(i)
                if pattern is not None and len(parts[k]):
                    parts[k] = pa.array(per_distinct(lambda t, rx=pattern: _group(rx, t), parts[k]), pa.string())
            if kind == "first":
                value = parts[0]
                for part in parts[1:]:
                    value = pc.if_else(pc.equal(value, ""), part, value)
            else:
                spec = self.mapping.columns[name]
                sep = spec.get("sep", self.fmt["join_separator"])
                value = pa.array(per_distinct(lambda *p: sep.join(x for x in p if x), *parts), pa.string())
        self._cells[name] = value
        return value

    def memo(self, key: str, make):
        """The value kept under ``key``, made by ``make()`` (no arguments) the first time."""
        if key not in self._cells:
            self._cells[key] = make()
        return self._cells[key]


def _group(pattern, text: str) -> str:
    """The pattern's group in ``text`` ("" when it does not match): a column spec's part."""
    found = pattern.search(text) if text else None
    return (found.group(1) or "").strip() if found else ""


def examples(cells: pa.Array, rows: np.ndarray, most: int = 5) -> str:
    """The distinct texts of ``cells`` (Arrow texts) in ``rows`` (a boolean mask), the first
    ``most`` of them by case-folded order, in words ("a, b and 3 more")."""
    found = sorted(set(cells.filter(pa.array(rows, pa.bool_())).unique().to_pylist()), key=str.casefold)
    shown = ", ".join(found[:most])
    return shown + (f" and {len(found) - most} more" if len(found) > most else "")


def need_columns(ctx: Context, path: Path) -> None:
    """Whole-file errors: raises TrackerError (naming ``path``'s file and what the mapping
    looks for) when the header has no column for the client, staff, start, or duration or end,
    as without these no row can be read. Returns None."""
    needs = [("client", ("client",)), ("staff", ("staff",)), ("the start", ("start", "start_date")),
             ("the duration or end", ("duration", "end", "end_time"))]
    missing = [(label, keys) for label, keys in needs if not any(ctx.has(k) for k in keys)]
    if missing:
        wanted = "; ".join(
            f"{label} ({' or '.join(spec_text(ctx.mapping.columns[k]) for k in keys if k in ctx.mapping.columns) or 'not mapped'})"
            for label, keys in missing)
        raise TrackerError(
            f"{path.name}: line 1: the header has no column for {wanted} "
            f"(mapping '{ctx.mapping.name}'); check the export or the mapping.")


def spec_text(spec) -> str:
    """A mapping's column spec (a header name, a list of them, or {"join": [...]}) in words,
    as an error message quotes it ("'Client' or 'Project'")."""
    if spec is None:
        return "not mapped"
    if isinstance(spec, str):
        return f"'{spec}'"
    if isinstance(spec, list):
        return " or ".join(f"'{spec_column(s)}'" for s in spec[:3]) + (" …" if len(spec) > 3 else "")
    return " + ".join(spec_text(p) for p in spec["join"])


def parse_each(fn, texts: list[str]):
    """Each text of ``texts`` read by ``fn``: (values, error reasons), two lists as long as
    ``texts``; where ``fn`` raises ValueError the value is None and the reason its message,
    else the reason is None. Other exceptions propagate."""
    values, errors = [], []
    for text in texts:
        try:
            values.append(fn(text))
            errors.append(None)
        except ValueError as exc:
            values.append(None)
            errors.append(str(exc))
    return values, errors


def spread(values: list, codes: np.ndarray, dtype=object, fill=None) -> np.ndarray:
    """Per-distinct ``values`` spread over the rows: a numpy array of ``dtype`` with
    ``values[codes[i]]`` at row i, ``fill`` where that value is None (object arrays: None)."""
    table = np.empty(len(values), dtype=dtype) if dtype is object else np.full(len(values), fill, dtype=dtype)
    for i, v in enumerate(values):
        if v is not None:
            table[i] = v
    return table[codes] if len(values) else np.full(len(codes), fill, dtype=dtype)
