"""Statement page: what it shows of a billing.statement.Statement, in people's words, which
statement the page shows (customer, period, copy), and whether issuing it can close its period
(R12). No Streamlit here.

The page shows the internal copy's wording (rule ids, adjustment numbers) once; the downloads
choose the copy. Block ids the engine made (adj-7, P2~rollover, late~…) are shown in words
(billing.display.block_text); codes in words (billing.display.code_text).
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from billing.display import date_text, notice_text, zone_column, zone_datetime_text
from billing.exports.cells import activity_text, entry_kind_text, fee_what, ledger_kind_text


def can_close(through: date, today: date, closed_through: date | None) -> tuple[bool, str | None]:
    """Whether issuing a statement whose figures go through ``through`` can also close the
    books through that day (R12: only days before today, and later than the close in force),
    and if not, why in one sentence (None when there is nothing to say: the period is not over)."""
    if through >= today:
        return False, None
    if closed_through is not None and through <= closed_through:
        return False, (f"The books are closed through {date_text(closed_through)}: this statement's days are "
                       "closed already.")
    return True, None


def adjustments_table(adjustments: pd.DataFrame, redact: bool = False) -> pd.DataFrame:
    """The statement's adjustments for the page: date, no., what (with the rules; in the
    customer's words when ``redact``: the copy chosen is the copy shown), reason, minutes_us, by."""
    return pd.DataFrame({
        "date": adjustments["date"], "no.": [str(int(v)) for v in adjustments["adjustment_id"]],
        "what": adjustments["customer_description" if redact else "description"],
        "reason": [" ".join(str(r).split()) for r in adjustments["reason"]],
        "minutes_us": adjustments["minutes_us"], "by": adjustments["recorded_by"],
    }).reset_index(drop=True)


def ledger_table(ledger: pd.DataFrame, redact: bool = False) -> pd.DataFrame:
    """The ledger for the page: date, kind in words, what (internal wording, or the customer's
    when ``redact``), block in words, minutes_us, balance_us."""
    return pd.DataFrame({
        "date": ledger["date"], "kind": [ledger_kind_text(k) for k in ledger["kind"]],
        "what": ledger["customer_description" if redact else "description"],
        "block": ledger["customer_block" if redact else "block"],
        "minutes_us": ledger["minutes_us"], "balance_us": ledger["balance_us"],
    }).reset_index(drop=True)


def entries_table(entries: pd.DataFrame, redact: bool) -> pd.DataFrame:
    """The time entries for the page: an excluded one's kind says why (R10); without staff and
    notes when ``redact`` (the customer copy is chosen)."""
    out = entries.assign(kind=[entry_kind_text(r, True) for r in entries.to_dict("records")],
                         activity=[activity_text(a) for a in entries["activity"]])
    out = out.drop(columns=["excluded_by", "excluded_reason"])
    return out.drop(columns=["notes", "staff"]) if redact else out


def fees_table(fees: pd.DataFrame, policy: dict | None = None) -> pd.DataFrame:
    """The fees for the page: what each is, and a waived one (R10) says so, by which adjustment
    and why; fee_us is 0 for it and waived_us what it would have billed."""
    shown = fees.assign(what=[fee_what(r, policy or {}, True) for r in fees.to_dict("records")])
    return shown[["day", "appointment_id", "what", "status", "cancelled_by", "scheduled_start", "cancelled_at",
                  "notice_us", "fee_us", "waived_us"]].reset_index(drop=True)




def fees_for_people(fees: pd.DataFrame) -> pd.DataFrame:
    """The statement's fees (R6) with the notice given as people read it ("10 h", "9 h 30 min",
    "45 min after the start"; a dash for a no-show) in place of notice_us."""
    out = fees.drop(columns=["notice_us"])
    out.insert(list(fees.columns).index("notice_us"), "notice", [notice_text(v) for v in fees["notice_us"]])
    return out


def issued_for_people(issued: pd.DataFrame, zone: str) -> pd.DataFrame:
    """billing.statement.issued_with_checks' rows with "issued at" in the policy's zone (the
    database records UTC), the column named with its zone."""
    out = issued.copy()
    out.insert(list(issued.columns).index("issued at"), zone_column("issued at", zone),
               [zone_datetime_text(v, zone) for v in issued["issued at"]])
    return out.drop(columns=["issued at"])


def follow(current: tuple[date, date] | None, seen: tuple[date, date] | None,
           sidebar: tuple[date, date]) -> tuple[date, date]:
    """The statement's period after the sidebar's is ``sidebar``: it follows the sidebar when
    that changed since last ``seen`` (or nothing is set yet), else it stays ``current`` (a
    period chosen on the page, or one from the page's link)."""
    if current is None or (seen is not None and seen != sidebar):
        return sidebar
    return current


def period_note(period: tuple[date, date], sidebar: tuple[date, date]) -> str | None:
    """One sentence when the statement's period is not the sidebar's (the other pages'), so
    the two never disagree silently; None when they agree."""
    if tuple(period) == tuple(sidebar):
        return None
    return (f"This statement covers {period[0]} – {period[1]}; the sidebar's period, which the other pages "
            f"show, is {sidebar[0]} – {sidebar[1]}.")


__all__ = ["can_close", "adjustments_table", "ledger_table", "entries_table", "fees_table", "fees_for_people",
           "issued_for_people", "follow", "period_note"]
