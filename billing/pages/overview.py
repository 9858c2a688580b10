"""Overview page: the period's billable, uncovered and free hours against the previous
period, recent forfeitures, what expires soon, fees, and the most urgent blocks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from billing import ledger
from billing.pages.common import Filters, as_datetime, bucket_start, in_period, of_customers, period_days, total
from billing.pages.over_time import block_names
from billing.reports import Books
from billing.display import duration_text, exact_minutes_text, signed_duration_text

FORFEITED_LOOKBACK_DAYS = 90
URGENT_BLOCKS = 5


@dataclass
class Kpi:
    label: str
    value_us: int
    previous_us: int | None = None
    help: str = ""

    @property
    def delta_us(self) -> int | None:
        return None if self.previous_us is None else self.value_us - self.previous_us

    @property
    def text(self) -> str:
        return duration_text(self.value_us)

    @property
    def delta_text(self) -> str | None:
        if self.delta_us is None:
            return None
        return f"{signed_duration_text(self.delta_us)} vs previous period"

    @property
    def help_text(self) -> str:
        """The help, with the exact figure (the headline is rounded to the minute)."""
        return f"{self.help} Shown to the minute; {exact_minutes_text(self.value_us)}."


@dataclass
class Overview:
    billable: Kpi
    uncovered: Kpi
    forfeited_90d: Kpi
    expiring: Kpi
    fees: Kpi
    general: Kpi
    fee_count: int
    uncovered_customers: pd.DataFrame      # customer_id, uncovered_us, remaining_us, needs
    urgent_blocks: pd.DataFrame            # purchase_id, block (in words), customer_id, expires_on, days_left,
                                           # remaining_us
    trend: pd.DataFrame                    # bucket, billable_us, previous_us (previous period aligned)
    empty: bool = False


def overview(books: Books, f: Filters) -> Overview:
    """The Overview page's figures for the period, with the previous period for trends."""
    cur, prev = period_days(books, f), period_days(books, f.previous())
    blocks = of_customers(books.blocks, f.customers)
    policy = books.policy
    kpi_billable = Kpi("Billable", total(cur, "billable_us"), total(prev, "billable_us"),
                       "Billable hours in the period: sessions, rounded ad-hoc work and fees (R4-R6).")
    kpi_uncovered = Kpi("Uncovered (overage)", total(cur, "uncovered_us"), total(prev, "uncovered_us"),
                        "Billable time no prepaid block covered (R8): invoice it separately.")
    kpi_fees = Kpi("Cancellation fees", total(cur, "fee_us"), total(prev, "fee_us"),
                   "Late cancellations by the customer and no-shows (R6).")
    kpi_general = Kpi("General support (free)", total(cur, "general_us"), total(prev, "general_us"),
                      "General Support time: never billable (R2).")
    # R9: forfeited at the end of expires_on; "last 90 days" = expired in T-90 .. T-1.
    lookback = f.as_of - timedelta(days=FORFEITED_LOOKBACK_DAYS)
    exp = as_datetime(blocks["expires_on"])
    recent = blocks[((exp >= pd.Timestamp(lookback)) & (exp < pd.Timestamp(f.as_of))).to_numpy()]
    kpi_forfeited = Kpi("Forfeited, last 90 days", total(recent, "forfeited_us"), None,
                        f"Prepaid time left in blocks that expired since {lookback} (R9).")
    soon = blocks[(blocks["status"] == ledger.STATUS_ACTIVE) & blocks["expiring_soon"]]
    kpi_expiring = Kpi(f"Expiring within {policy.expiring_window_days} days", total(soon, "remaining_us"), None,
                       "Prepaid time left in active blocks that expire soon (R9, expiring_window_days).")

    unc = cur[cur["uncovered_us"] > 0].groupby("customer_id", as_index=False)["uncovered_us"].sum()
    active = blocks[blocks["status"] == ledger.STATUS_ACTIVE]
    remaining = active.groupby("customer_id")["remaining_us"].sum()
    unc["remaining_us"] = unc["customer_id"].map(remaining).fillna(0).astype("int64")
    unc["needs"] = np.where(unc["remaining_us"] > 0, "check the balance", "needs a new block")
    unc = unc.sort_values(["uncovered_us", "customer_id"], ascending=[False, True], kind="stable")

    urgent = active[active["remaining_us"] > 0].sort_values(
        ["expires_on", "remaining_us", "purchase_id"], ascending=[True, False, True], kind="stable")
    urgent = urgent.head(URGENT_BLOCKS)
    # A credit, a rollover block or a late credit is named in words (R10, R12, R13); the id stays for links.
    urgent = urgent.assign(block=block_names(urgent["purchase_id"], urgent["kind"] if "kind" in urgent else None))[
        ["purchase_id", "block", "customer_id", "expires_on", "days_left", "remaining_us"]]

    trend = aligned_trend(cur, prev, f)
    fee_count = int(of_customers(books.appointments, f.customers).pipe(
        lambda a: ((a["fee_us"] > 0) & in_period(a["day"], f.start, f.end)).sum()))
    return Overview(kpi_billable, kpi_uncovered, kpi_forfeited, kpi_expiring, kpi_fees, kpi_general,
                    fee_count, unc.reset_index(drop=True), urgent.reset_index(drop=True), trend,
                    empty=books.days.empty and books.blocks.empty and books.appointments.empty)


def aligned_trend(cur: pd.DataFrame, prev: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """Billable per day (or week for long periods) of this period beside the previous one."""
    grain = "day" if f.days <= 62 else ("week" if f.days <= 400 else "month")
    pf = f.previous()
    offset = pd.Timestamp(f.start) - pd.Timestamp(pf.start)
    c = cur.assign(bucket=bucket_start(cur["day"], grain)).groupby("bucket")["billable_us"].sum()
    p = prev.assign(bucket=bucket_start(pd.Series(as_datetime(prev["day"]) + offset, index=prev.index), grain)) \
        .groupby("bucket")["billable_us"].sum()
    all_buckets = bucket_start(pd.Series(pd.date_range(f.start, f.end, freq="D")), grain).drop_duplicates()
    out = pd.DataFrame({"bucket": all_buckets.to_numpy()})
    out["billable_us"] = out["bucket"].map(c).fillna(0).astype("int64")
    out["previous_us"] = out["bucket"].map(p).fillna(0).astype("int64")
    out.attrs["grain"] = grain
    return out
