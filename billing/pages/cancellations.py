"""Cancellation fees page: late cancellations and no-shows (R6) by month and customer, the
notice given, staff cancellations apart."""
from __future__ import annotations

import numpy as np
import pandas as pd

from billing import rules
from billing.display import MISSING, duration_text, is_missing, notice_text
from billing.pages.common import Filters, as_datetime, bucket_start, in_period, of_customers
from billing.policy import US_PER_HOUR
from billing.reports import Books


def cancellations(books: Books, f: Filters) -> pd.DataFrame:
    """Cancelled and no-show appointments of the period with notice and fee (R6)."""
    a = of_customers(books.appointments, f.customers)
    if f.staff:
        a = a[a["staff"].isin(list(f.staff))]
    a = a[a["status"].isin(["cancelled", "no_show"]) & in_period(a["day"], f.start, f.end)]
    by = np.where(a["status"] == "no_show", "", a["cancelled_by"].fillna("customer").astype(object))
    kind = rules.cancellation_kind(a["status"], a["cancelled_by"], a["fee_us"])
    out = pd.DataFrame({
        "appointment_id": a["appointment_id"].to_numpy(), "customer_id": a["customer_id"].to_numpy(),
        "staff": a["staff"].to_numpy(), "day": as_datetime(a["day"]).dt.date.to_numpy(),
        "scheduled_start": a["scheduled_start"].to_numpy(),
        "cancelled_at": a["cancelled_at"].to_numpy(),
        "cancelled_by": by, "kind": kind,
        "notice_us": a["notice_us"].to_numpy(), "fee_us": a["fee_us"].astype("int64").to_numpy(),
    })
    return out.sort_values(["day", "scheduled_start", "appointment_id"], kind="stable").reset_index(drop=True)


def fees_by_month(c: pd.DataFrame) -> pd.DataFrame:
    """Fee-charging appointments of ``cancellations``' frame per month and kind:
    month (datetime64, first day), kind, count, fee_us."""
    c = c[c["kind"].isin(rules.FEE_KINDS)]
    g = c.assign(month=bucket_start(c["day"], "month")).groupby(["month", "kind"], as_index=False) \
        .agg(count=("appointment_id", "size"), fee_us=("fee_us", "sum"))
    return g.sort_values(["month", "kind"]).reset_index(drop=True)


def fees_by_customer(c: pd.DataFrame) -> pd.DataFrame:
    """Fees per customer from ``cancellations``' frame: customer_id, late_cancellations,
    no_shows, fee_us; most fees first."""
    charged = c[c["kind"].isin(rules.FEE_KINDS)]
    g = charged.groupby("customer_id").agg(
        late_cancellations=("kind", lambda k: int((k == rules.LATE_CANCELLATION).sum())),
        no_shows=("kind", lambda k: int((k == rules.NO_SHOW).sum())),
        fee_us=("fee_us", "sum")).reset_index()
    return g.sort_values(["fee_us", "customer_id"], ascending=[False, True], kind="stable").reset_index(drop=True)


NOTICE_BINS_H = [-np.inf, 0, 2, 6, 12, 24, 48, 72, 168, np.inf]
NOTICE_LABELS = ["after the start", "0-2 h", "2-6 h", "6-12 h", "12-24 h", "24-48 h", "48-72 h",
                 "3-7 days", "over 7 days"]


def notice_histogram(c: pd.DataFrame) -> pd.DataFrame:
    """Cancellations by the notice given (hours before the start), pre-binned so the chart
    gets a handful of bars whatever the count; staff cancellations are kept apart."""
    cancelled = c[c["kind"] != rules.NO_SHOW]
    hours = cancelled["notice_us"].astype("float64") / US_PER_HOUR  # binning only
    # bins are right-open: exactly 24 h notice lands in "24-48 h" (free, R6)
    cat = pd.cut(hours, NOTICE_BINS_H, right=False, labels=NOTICE_LABELS)
    who = np.where(cancelled["cancelled_by"] == "staff", "by staff", "by the customer")
    g = pd.DataFrame({"notice": cat, "who": who}).groupby(["notice", "who"], observed=False).size()
    out = g.reset_index(name="count")
    out["notice"] = out["notice"].astype(str)
    return out


def cancellation_counts(c: pd.DataFrame) -> dict[str, int]:
    """The headline of the page from ``cancellations``' frame: fee_us (fees billed, µs) and the
    counts late_cancellations, no_shows and staff_cancellations."""
    return {"fee_us": int(c.loc[c["kind"].isin(rules.FEE_KINDS), "fee_us"].sum()),
            "late_cancellations": int((c["kind"] == rules.LATE_CANCELLATION).sum()),
            "no_shows": int((c["kind"] == rules.NO_SHOW).sum()),
            "staff_cancellations": int((c["kind"] == rules.STAFF_CANCELLATION).sum())}


def appointment_rows(c: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``cancellations``' rows for the tables, the notice as text (``notice_text``) instead of
    notice_us and without day: (by the customer and no-shows, by staff)."""
    rows = c.assign(notice=[notice_text(v) for v in c["notice_us"]]).drop(columns=["notice_us", "day"])
    by_staff = rows["kind"] == rules.STAFF_CANCELLATION
    return rows[~by_staff], rows[by_staff]
