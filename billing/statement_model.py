"""What a customer statement says, and the one way minutes are written for people.

A ``Statement`` explains every billed minute of one customer and period (RULES.md R1-R9):
the opening balance, day by day how each billed figure was reached and which prepaid
block paid for it, purchases and forfeitures as they happen, and the closing balance.
The engine (ledger/reports) fills it; ``billing.exports`` renders it as CSV, XLSX and PDF.

Minutes stay exact integer microseconds (``*_us``) everywhere in here; they are rounded
to 2 decimals only when printed (``format_minutes``, ``minutes_number``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pandas as pd

from billing.errors import HourbankError
from billing.policy import US_PER_HOUR, US_PER_MINUTE

# Keys of Statement.totals, all integer microseconds for the period.
TOTAL_KEYS = (
    "billable_us", "covered_us", "uncovered_us", "fee_us", "session_us",
    "adhoc_raw_us", "adhoc_billed_us", "purchased_us", "forfeited_us", "nonbillable_us",
)

# Columns of each table, in the order the exports show them.
# Texts come twice: for the internal copy (explanation, paid_by, description: with rule
# ids) and for the customer (customer_*: in words), see billing.statement_words.
DAY_COLUMNS = (
    "day", "adhoc_raw_us", "adhoc_billed_us", "session_us", "fee_us", "billable_us",
    "covered_us", "uncovered_us", "explanation", "paid_by", "customer_explanation", "customer_paid_by",
)
ENTRY_COLUMNS = (
    "day", "started_at", "entry_id", "staff", "activity", "tier", "kind", "minutes_us",
    "customer_requested", "appointment_id", "notes",
)
# fee_kind: billing.rules.LATE_CANCELLATION or NO_SHOW; notice_us: missing for a no-show.
FEE_COLUMNS = (
    "day", "appointment_id", "fee_kind", "status", "cancelled_by", "scheduled_start", "cancelled_at",
    "notice_us", "fee_us",
)
LEDGER_COLUMNS = ("date", "kind", "description", "customer_description", "purchase_id", "minutes_us",
                  "balance_us")
# The blocks usable on some day of the period, as they stood at the end of its last day:
# left_at_start_us (missing for a block bought in the period) + purchased_us (if bought in
# it) − used_us − forfeited_us (both in the period) = left_at_end_us; status at the end.
# Their left_at_end_us add up to the closing balance, left_at_start_us to the opening one.
BLOCK_COLUMNS = (
    "purchase_id", "purchased_on", "expires_on", "purchased_us", "left_at_start_us", "used_us",
    "forfeited_us", "left_at_end_us", "status",
)

ENTRY_KINDS = ("ad-hoc", "session", "general (free)", "held")
LEDGER_KINDS = ("opening", "purchase", "billed", "uncovered", "forfeited", "closing")

_TABLES = {
    "days": DAY_COLUMNS,
    "entries": ENTRY_COLUMNS,
    "fees": FEE_COLUMNS,
    "ledger": LEDGER_COLUMNS,
    "blocks": BLOCK_COLUMNS,
}


class StatementError(HourbankError):
    pass


@dataclass(frozen=True, eq=False)
class Statement:
    """One customer's statement for period_from..period_to, computed as of ``as_of``.

    Balances are µs at the start of ``period_from`` (opening) and at the end of ``through``
    (closing: the period's last day, or T if that is earlier). ``next_expiry``: the
    earliest last day of a block still usable at the end, ``next_expiry_us`` what the
    blocks ending that day have left then; ``expiring_us``: what blocks expiring within
    the policy's window of that day have left (R9).

    ``eq=False``: DataFrames have no single truth value, so statements compare (and hash)
    by identity; compare the exported bytes instead.
    """
    customer_id: str
    customer_name: str
    period_from: date
    period_to: date
    as_of: date
    policy: dict
    policy_fingerprint: str
    data_version: int
    generated_at: datetime
    opening_remaining_us: int
    closing_remaining_us: int
    next_expiry: date | None
    next_expiry_us: int
    expiring_us: int
    totals: dict[str, int]
    days: pd.DataFrame
    entries: pd.DataFrame
    fees: pd.DataFrame
    ledger: pd.DataFrame
    blocks: pd.DataFrame

    @property
    def through(self) -> date:
        """The last day the figures cover: the period's last day, or T if that is earlier (R1)."""
        return min(self.period_to, self.as_of)

    def __post_init__(self) -> None:
        # A statement the engine filled wrongly must fail here, in one sentence, and not
        # as a half-written download.
        missing = [k for k in TOTAL_KEYS if k not in self.totals]
        if missing:
            raise StatementError(f"statement for {self.customer_id}: totals lack {', '.join(missing)}.")
        for name, columns in _TABLES.items():
            frame = getattr(self, name)
            if not isinstance(frame, pd.DataFrame):
                raise StatementError(
                    f"statement for {self.customer_id}: '{name}' must be a pandas DataFrame, "
                    f"not {type(frame).__name__}.")
            absent = [c for c in columns if c not in frame.columns]
            if absent:
                raise StatementError(
                    f"statement for {self.customer_id}: table '{name}' lacks column(s) {', '.join(absent)}.")
        if self.period_from > self.period_to:
            raise StatementError(
                f"statement for {self.customer_id}: period starts {self.period_from} after it ends "
                f"{self.period_to}.")


def empty_table(name: str) -> pd.DataFrame:
    """An empty table with the columns a Statement expects for ``name`` (e.g. "fees")."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in _TABLES[name]})


# --- Writing minutes for people --------------------------------------------------------

def _round_half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers only."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


def minutes_hundredths(us: int) -> int:
    """Minutes in hundredths (1 min 30 s -> 150), rounded half-up once, here."""
    return _round_half_up_div(int(us) * 100, US_PER_MINUTE)


def minutes_number(us: int) -> Decimal:
    """Minutes as a Decimal with exactly 2 decimals (ROUND_HALF_UP), for CSV/XLSX cells."""
    return Decimal(minutes_hundredths(us)).scaleb(-2)


def hours_number(us: int) -> Decimal:
    """Hours as a Decimal with exactly 2 decimals (ROUND_HALF_UP): 90 min -> 1.50."""
    return Decimal(_round_half_up_div(int(us) * 100, US_PER_HOUR)).scaleb(-2)


def _plain(hundredths: int) -> str:
    whole, frac = divmod(hundredths, 100)
    if frac == 0:
        return str(whole)
    return f"{whole}.{frac:02d}".rstrip("0")


def format_minutes(us: int) -> str:
    """People's style: "1 h 30 min", "45 min", "0 min", "2 h", "12.5 min".

    Exact up to the print: the figure is rounded once to 1/100 minute (half-up).
    A negative figure (a draw in the ledger) gets a leading minus: "-1 h 15 min".
    """
    hundredths = minutes_hundredths(us)
    sign = "-" if hundredths < 0 else ""
    hours, rest = divmod(abs(hundredths), 60 * 100)
    if hours == 0:
        return f"{sign}{_plain(rest)} min"
    if rest == 0:
        return f"{sign}{hours} h"
    return f"{sign}{hours} h {_plain(rest)} min"


__all__ = [
    "Statement", "StatementError", "TOTAL_KEYS", "DAY_COLUMNS", "ENTRY_COLUMNS", "FEE_COLUMNS",
    "LEDGER_COLUMNS", "BLOCK_COLUMNS", "ENTRY_KINDS", "LEDGER_KINDS", "empty_table",
    "format_minutes", "minutes_number", "hours_number", "minutes_hundredths",
]
