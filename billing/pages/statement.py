"""Customer statement page: which statement the page shows (customer, period, copy), the
fees and issued statements in people's words. The statement itself is billing.statement's."""
from __future__ import annotations

from datetime import date

import pandas as pd

from billing.display import notice_text, zone_column, zone_datetime_text


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
