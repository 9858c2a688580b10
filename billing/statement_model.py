"""What a customer statement says, and the one way minutes are written for people.

A ``Statement`` explains every billed minute of one customer and period (RULES.md R1-R9):
the opening balance, day by day how each billed figure was reached and which prepaid
block paid for it, purchases and forfeitures as they happen, and the closing balance.
The engine (ledger/reports) fills it; ``billing.exports`` renders it as CSV, XLSX and PDF.

Minutes stay exact integer microseconds (``*_us``) everywhere in here; they are rounded
to 2 decimals only when printed (``format_minutes``, ``minutes_number``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import pandas as pd

from billing.errors import HourbankError
from billing.policy import US_PER_HOUR, US_PER_MINUTE

# Keys of Statement.totals, all integer microseconds for the period.
TOTAL_KEYS = (
    "billable_us", "covered_us", "uncovered_us", "fee_us", "session_us",
    "adhoc_raw_us", "adhoc_billed_us", "purchased_us", "forfeited_us", "nonbillable_us",
    # Over time (R10-R14): charges billed, credits (adjustments and late credits) and minutes
    # carried in from expired blocks (rollover blocks), minutes rolled over out of expired
    # blocks, and minutes owed from before the period that the period's purchases paid.
    "charged_us", "credited_us", "carried_in_us", "rolled_over_us", "earlier_owed_paid_us",
)

# Columns of each table, in the order the exports show them.
# Texts come twice: for the internal copy (explanation, paid_by, description: with rule
# ids) and for the customer (customer_*: in words), see billing.statement_words.
# A late row (R12) has late_for, the closed day it belongs to (missing otherwise); its
# figures are the differences posted on ``day``. charged_us: charges billed that day (R10).
# covered_us/uncovered_us: as at the end of the period (minutes owed then and paid by a
# later block, R14, are uncovered here; the paid_by text says who paid them).
DAY_COLUMNS = (
    "day", "adhoc_raw_us", "adhoc_billed_us", "session_us", "fee_us", "billable_us",
    "covered_us", "uncovered_us", "explanation", "paid_by", "customer_explanation", "customer_paid_by",
    "late_for", "charged_us",
)
# kind "excluded" (R10): counted toward nothing; excluded_by: the adjustment, excluded_reason its reason.
ENTRY_COLUMNS = (
    "day", "started_at", "entry_id", "staff", "activity", "tier", "kind", "minutes_us",
    "customer_requested", "appointment_id", "notes", "excluded_by", "excluded_reason",
)
# fee_kind: billing.rules.LATE_CANCELLATION or NO_SHOW; notice_us: missing for a no-show. A
# waived fee (R10) has fee_us 0, waived_by (the adjustment), waived_us (what it would have
# billed) and waived_reason.
FEE_COLUMNS = (
    "day", "appointment_id", "fee_kind", "status", "cancelled_by", "scheduled_start", "cancelled_at",
    "notice_us", "fee_us", "waived_by", "waived_us", "waived_reason",
)
# purchase_id: the block's id; block/customer_block: the block in words (billing.display.block_text).
LEDGER_COLUMNS = ("date", "kind", "description", "customer_description", "purchase_id", "minutes_us",
                  "balance_us", "block", "customer_block")
# The blocks usable on some day of the period, as they stood at the end of its last day:
# left_at_start_us (missing for a block bought in the period) + purchased_us (if bought in
# it) − used_us − forfeited_us − rolled_over_us (all in the period) = left_at_end_us; status
# at the end. Their left_at_end_us add up to the closing balance, left_at_start_us to the
# opening one. kind: purchase, credit, rollover or late_credit; block/customer_block the block
# in words; about/customer_about what else it is (a credit's reason, an extension, its source).
BLOCK_COLUMNS = (
    "purchase_id", "purchased_on", "expires_on", "purchased_us", "left_at_start_us", "used_us",
    "forfeited_us", "left_at_end_us", "status", "kind", "rolled_over_us", "block", "customer_block",
    "about", "customer_about",
)
# The adjustments behind the period's figures (R10), each once: date (the adjustment's),
# adjustment_id, kind, description/customer_description (without the reason), reason (shown
# to the customer too), minutes_us (the fee waived, the entry excluded, the credit or the
# charge; missing for an extension), recorded_by.
ADJUSTMENT_COLUMNS = ("date", "adjustment_id", "kind", "description", "customer_description", "reason",
                      "minutes_us", "recorded_by")

# The over-time columns and totals (R10-R14) may be left out by whoever fills a Statement by
# hand: they are then added empty (None, 0), as in a period where none of it happened.
OVER_TIME_TOTALS = ("charged_us", "credited_us", "carried_in_us", "rolled_over_us", "earlier_owed_paid_us")
OVER_TIME_COLUMNS = {
    "days": {"late_for": None, "charged_us": 0},
    "entries": {"excluded_by": None, "excluded_reason": None},
    "fees": {"waived_by": None, "waived_us": None, "waived_reason": None},
    "ledger": {"block": None, "customer_block": None},
    "blocks": {"kind": "purchase", "rolled_over_us": 0, "block": None, "customer_block": None, "about": "",
               "customer_about": ""},
}

ENTRY_KINDS = ("ad-hoc", "session", "general (free)", "held", "excluded")
LEDGER_KINDS = ("opening", "purchase", "credit", "late_credit", "carried_in", "extended", "owed_paid", "billed",
                "uncovered", "rolled_over", "forfeited", "closing")

_TABLES = {
    "days": DAY_COLUMNS,
    "entries": ENTRY_COLUMNS,
    "fees": FEE_COLUMNS,
    "ledger": LEDGER_COLUMNS,
    "blocks": BLOCK_COLUMNS,
    "adjustments": ADJUSTMENT_COLUMNS,
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
    # Over time: the adjustments behind the figures (R10); the close in force (R12), if any.
    adjustments: pd.DataFrame = field(default_factory=lambda: empty_table("adjustments"))
    closed_through: date | None = None
    closing_id: int | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None

    @property
    def fully_closed(self) -> bool:
        """Whether every day the statement covers is closed (R12): then its figures, texts and
        data version are those of the close, whatever was imported or adjusted since."""
        return self.closed_through is not None and self.through <= self.closed_through

    @property
    def through(self) -> date:
        """The last day the figures cover: the period's last day, or T if that is earlier (R1)."""
        return min(self.period_to, self.as_of)

    def __post_init__(self) -> None:
        # A statement the engine filled wrongly must fail here, in one sentence, and not
        # as a half-written download.
        if isinstance(self.totals, dict) and any(k not in self.totals for k in OVER_TIME_TOTALS):
            object.__setattr__(self, "totals", {**{k: 0 for k in OVER_TIME_TOTALS}, **self.totals})
        for name, defaults in OVER_TIME_COLUMNS.items():
            frame = getattr(self, name)
            if isinstance(frame, pd.DataFrame) and any(c not in frame.columns for c in defaults):
                frame = frame.copy()
                for column, value in defaults.items():
                    if column not in frame.columns:
                        frame[column] = frame["purchase_id"] if column == "block" and "purchase_id" in frame \
                            else pd.Series([value] * len(frame), index=frame.index, dtype=object)
                if name == "blocks" and "customer_block" in defaults:
                    frame["customer_block"] = frame["customer_block"].where(frame["customer_block"].notna(),
                                                                            frame["block"])
                object.__setattr__(self, name, frame)
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
    "LEDGER_COLUMNS", "BLOCK_COLUMNS", "ADJUSTMENT_COLUMNS", "ENTRY_KINDS", "LEDGER_KINDS", "empty_table",
    "format_minutes", "minutes_number", "hours_number", "minutes_hundredths",
]
