"""The canonical export (FORMATS.md): its files' columns, and its values written exactly.

``COLUMNS`` is the one list of each file's columns, in FORMATS.md's order; the demo, the
synthetic generator and the tests write them. Minutes are handled as integer millionths of
a minute (``MICRO``; FORMATS.md allows at most 6 decimals) and become text only here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.errors import HourbankError
from billing.policy import US_PER_MINUTE

MICRO = 1_000_000                      # millionths of a minute per minute (FORMATS.md: <= 6 decimals)
US_PER_MICROMINUTE = US_PER_MINUTE // MICRO

ENTRY_COLUMNS = ["entry_id", "customer_id", "customer_name", "staff", "started_at", "minutes",
                 "tier", "activity", "appointment_id", "customer_requested", "notes"]
APPOINTMENT_COLUMNS = ["appointment_id", "customer_id", "staff", "scheduled_start",
                       "scheduled_minutes", "status", "cancelled_at", "cancelled_by"]
PURCHASE_COLUMNS = ["purchase_id", "customer_id", "purchased_at", "hours", "amount"]
CUSTOMER_COLUMNS = ["customer_id", "customer_name"]
COLUMNS = {"time_entries": ENTRY_COLUMNS, "appointments": APPOINTMENT_COLUMNS,
           "purchases": PURCHASE_COLUMNS, "customers": CUSTOMER_COLUMNS}
SEED_ACTIVITIES = ["kickoff", "orientation", "project_management", "familiarization", "setup",
                   "monitoring", "research", "testing", "status_call"]


def minutes_text(us: int) -> str:
    """Integer microseconds as the canonical ``minutes`` text (FORMATS.md): at most 6
    decimals, rounded half up once, no trailing zeros ("12.5", "0.016667", "45")."""
    from decimal import ROUND_HALF_UP, Decimal

    value = (Decimal(int(us)) / US_PER_MINUTE).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_fixed(values, scale: int, keep_zeros: bool = False) -> pa.Array:
    """Non-negative integers in units of 10**-scale as plain decimals ("12.5", "7", "0.016667")."""
    values = np.asarray(values, dtype=np.int64)
    unit = 10 ** scale
    whole = pc.cast(pa.array(values // unit), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(values % unit), pa.string()), scale, "0")
    if keep_zeros:
        return pc.binary_join_element_wise(whole, frac, ".")
    frac = pc.utf8_rtrim(frac, "0")
    return pc.if_else(pc.equal(frac, ""), whole, pc.binary_join_element_wise(whole, frac, "."))


def format_wall(seconds) -> pa.Array:
    """Naive wall times given as seconds since 1970-01-01T00:00 as 'YYYY-MM-DDTHH:MM:SS'."""
    stamps = pa.array(np.asarray(seconds, dtype=np.int64).astype("datetime64[s]"))
    return pc.replace_substring(pc.cast(stamps, pa.string()), " ", "T", max_replacements=1)


def output_folder(out_dir) -> Path:
    """``out_dir`` as a Path, created if missing; HourbankError (one sentence) when it cannot
    be created or is not a folder."""
    path = Path(out_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HourbankError(f"{path}: cannot create the output folder ({exc.strerror}).") from None
    if not path.is_dir():
        raise HourbankError(f"{path}: is not a folder.")
    return path
