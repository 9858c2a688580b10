"""A customer's own page (billing.share's links): one customer's prepaid hours as of T, for the
customer to read (no Streamlit here).

What it holds is what a customer may see of itself and nothing else: its name, each prepaid
block that still has time (bought, last day, left, and how much is projected to be forfeited
at its pace: billing.forecast, R8/R9), the totals, its use month by month and the months a
statement can be downloaded for. No staff, notes, entries, rule ids or other customers.
Minutes stay integer µs (``*_us``) until billing.display writes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from billing import forecast
from billing.display import day_words, duration_text
from billing.pages.common import bucket_start
from billing.reports import Books

USAGE_MONTHS = 12     # the usage table shows the last twelve months up to T's
BLOCK_COLUMNS = ["purchase_id", "purchased_on", "expires_on", "days_left", "purchased_us", "remaining_us",
                 "projected_lost_us"]
USAGE_COLUMNS = ["month", "purchased_us", "billable_us", "covered_us", "uncovered_us", "forfeited_us"]


@dataclass(frozen=True)
class CustomerView:
    customer_id: str
    customer_name: str
    as_of: date
    blocks: pd.DataFrame          # BLOCK_COLUMNS, active blocks with time left, in drawing order (R8)
    remaining_us: int             # left in those blocks
    projected_lost_us: int        # of it, projected to be forfeited at the pace (R9)
    pace_per_day_us: int          # billable µs a day over the last forecast.PACE_WINDOW_DAYS days
    run_out: date | None          # first day the blocks no longer cover the pace; None: no recent use
    next_expiry: date | None      # the soonest last day of those blocks
    usage: pd.DataFrame           # USAGE_COLUMNS, one row per month (first day), oldest first
    months: list[date]            # months a statement can be made for (first days), newest first

    @property
    def uncovered_us(self) -> int:
        """Billed time no block paid for in the usage months (invoiced separately, R8)."""
        return int(self.usage["uncovered_us"].sum())


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _months_back(last: date, n: int) -> list[date]:
    """The first days of the ``n`` months ending with ``last``'s, oldest first."""
    y, m = last.year, last.month
    out = []
    for _ in range(n):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def customer_view(books: Books, customer_id: str, customer_name: str = "", months: int = USAGE_MONTHS) -> CustomerView:
    """The page's figures for ``customer_id`` from ``books`` (every customer's or only its
    own: the figures are the same), as of ``books.as_of``. A customer with nothing dated on
    or before T gets empty tables and zeros, not an error (a link can outlive its data)."""
    as_of = books.as_of
    mine = (customer_id,)
    projection = forecast.block_projection(books, mine)
    order = forecast.active_with_time_left(books, mine)
    # forecast.block_projection carries purchased_on and purchased_us itself: merging them in
    # again made purchased_on_x/_y and a KeyError.
    blocks = projection[BLOCK_COLUMNS].reset_index(drop=True)
    pace = int(forecast.pace(books, mine).get(customer_id, 0))
    run_out = None
    if len(order):
        row = forecast.project(order, pd.Series({customer_id: pace}), as_of).iloc[0]
        run_out = row["run_out"] if isinstance(row["run_out"], date) else None

    usage = usage_by_month(books, customer_id, _months_back(as_of, months))
    first_day = _first_day(books, customer_id)
    statement_months = [] if first_day is None else \
        [m for m in _months_back(as_of, 10_000) if m >= _month_start(first_day)][::-1]
    return CustomerView(
        customer_id=customer_id, customer_name=customer_name or customer_id, as_of=as_of, blocks=blocks,
        remaining_us=int(blocks["remaining_us"].sum()) if len(blocks) else 0,
        projected_lost_us=int(blocks["projected_lost_us"].sum()) if len(blocks) else 0,
        pace_per_day_us=pace, run_out=run_out,
        next_expiry=min(blocks["expires_on"]) if len(blocks) else None,
        usage=usage, months=statement_months)


def _first_day(books: Books, customer_id: str) -> date | None:
    """The customer's first day with anything in the books (a billed day or a purchase)."""
    days = pd.to_datetime(books.days.loc[books.days["customer_id"] == customer_id, "day"])
    bought = pd.to_datetime(books.blocks.loc[books.blocks["customer_id"] == customer_id, "purchased_on"])
    both = pd.concat([days, bought])
    return None if both.empty else both.min().date()


def usage_by_month(books: Books, customer_id: str, months: list[date]) -> pd.DataFrame:
    """Per month of ``months`` (first days, oldest first; a month without anything has
    zeros): purchased_us (blocks bought that month), billable_us, covered_us (paid from
    prepaid blocks, R8), uncovered_us (invoiced separately, R8) and forfeited_us (left in
    blocks whose last day fell that month and has passed, R9)."""
    d = books.days[books.days["customer_id"] == customer_id]
    d = d.assign(month=bucket_start(d["day"], "month"))
    billed = d.groupby("month")[["billable_us", "covered_us", "uncovered_us"]].sum()
    b = books.blocks[books.blocks["customer_id"] == customer_id]
    bought = b.assign(month=bucket_start(b["purchased_on"], "month")).groupby("month")["purchased_us"].sum()
    gone = b[b["forfeited_us"] > 0]
    lost = gone.assign(month=bucket_start(gone["expires_on"], "month")).groupby("month")["forfeited_us"].sum()
    index = pd.DatetimeIndex([pd.Timestamp(m) for m in months])

    def col(series: pd.Series) -> list[int]:
        series.index = pd.DatetimeIndex(series.index)
        return [int(v) for v in series.reindex(index, fill_value=0)]

    return pd.DataFrame({
        "month": months,
        "purchased_us": col(bought.copy()),
        "billable_us": col(billed["billable_us"].copy()),
        "covered_us": col(billed["covered_us"].copy()),
        "uncovered_us": col(billed["uncovered_us"].copy()),
        "forfeited_us": col(lost.copy()),
    }, columns=USAGE_COLUMNS)


def pace_sentence(view: CustomerView) -> str:
    """What the forecast means for this customer, in one or two sentences."""
    window = forecast.PACE_WINDOW_DAYS
    if view.remaining_us == 0:
        return "You have no prepaid time left."
    if view.pace_per_day_us == 0:
        return (f"You have used no time in the last {window} days; at that pace what is left on a block after "
                f"its last day is forfeited.")
    text = (f"Over the last {window} days you used about {duration_text(view.pace_per_day_us)} a day; at that "
            f"pace your prepaid time lasts through {day_words(view.run_out - timedelta(days=1))}.")
    if view.projected_lost_us:
        text += (f" {duration_text(view.projected_lost_us)} of it would still be left when its block's last "
                 f"day has passed, and would be forfeited.")
    return text


def month_period(first_month: date, last_month: date) -> tuple[date, date]:
    """A statement's first and last day for the months ``first_month``..``last_month``
    (first days; swapped when given backwards): the first day of the one to the last day of
    the other. The statement itself counts nothing after T (R1), so T's month is whole too
    and its file is named by the month."""
    a, b = sorted((first_month, last_month))
    nxt = date(b.year + (b.month == 12), b.month % 12 + 1, 1)
    return a, date.fromordinal(nxt.toordinal() - 1)


def month_text(month: date) -> str:
    """A month for people: "November 2026"."""
    return f"{month:%B %Y}"
