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
    """Cancelled and no-show appointments of the period with notice and fee (R6). A fee waived
    by an adjustment (R10) keeps its kind (late cancellation, no-show), bills 0 and has
    waived_by (the adjustment's number); one waived after its day was closed (R12) still bills
    as closed, its waiver credited on the first open day: waived_late names that adjustment."""
    a = of_customers(books.appointments, f.customers)
    if f.staff and "staff" in a:
        a = a[a["staff"].isin(list(f.staff))]
    a = a[a["status"].isin(["cancelled", "no_show"]) & in_period(a["day"], f.start, f.end)]
    by = np.where(a["status"] == "no_show", "", a["cancelled_by"].fillna("customer").astype(object))
    waived_by = a["waived_by"].astype("Int64") if "waived_by" in a else pd.Series(pd.NA, index=a.index, dtype="Int64")
    kind = np.where(waived_by.notna().to_numpy(), a["fee_kind"].astype(object).to_numpy(),
                    rules.cancellation_kind(a["status"], a["cancelled_by"], a["fee_us"]))
    late = pd.Series(pd.NA, index=a.index, dtype="Int64")
    if books.closed_through is not None and books.adjustments is not None and len(books.adjustments):
        from billing.adjusting import waived

        later = waived(books.adjustments)
        closed = (as_datetime(a["day"]) <= pd.Timestamp(books.closed_through)).to_numpy() & waived_by.isna().to_numpy()
        late = a["appointment_id"].map(later).where(closed).astype("Int64")
    out = pd.DataFrame({
        "appointment_id": a["appointment_id"].to_numpy(), "customer_id": a["customer_id"].to_numpy(),
        "staff": a["staff"].to_numpy() if "staff" in a else None, "day": as_datetime(a["day"]).dt.date.to_numpy(),
        "scheduled_start": a["scheduled_start"].to_numpy() if "scheduled_start" in a else None,
        "cancelled_at": a["cancelled_at"].to_numpy() if "cancelled_at" in a else None,
        "cancelled_by": by, "kind": kind,
        "notice_us": a["notice_us"].to_numpy(), "fee_us": a["fee_us"].astype("int64").to_numpy(),
        "waived_by": waived_by.to_numpy(), "waived_late": late.to_numpy(),
    })
    out["waived_by"] = out["waived_by"].astype("Int64")
    out["waived_late"] = out["waived_late"].astype("Int64")
    return out.sort_values(["day", "scheduled_start", "appointment_id"], kind="stable").reset_index(drop=True)


def waiver_text(c: pd.DataFrame, reasons: dict[int, str], closed_through=None) -> list[str]:
    """Each appointment's waiver in words (R10): "waived: goodwill (adjustment 4)", "waived after
    the books were closed: goodwill (adjustment 6); credited on 2026-02-01" (R12), or ''.
    ``reasons``: adjustment number → reason (billing.adjustments.history)."""
    from datetime import timedelta

    out = []
    for by, late in zip(c["waived_by"], c["waived_late"]):
        if not pd.isna(by):
            out.append(f"waived: {reasons.get(int(by), '')} (adjustment {int(by)})")
        elif not pd.isna(late):
            credited = f"; credited on {closed_through + timedelta(days=1)}" if closed_through else ""
            out.append(f"waived after the books were closed: {reasons.get(int(late), '')} "
                       f"(adjustment {int(late)}){credited}")
        else:
            out.append("")
    return out


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
    counts late_cancellations, no_shows (waived ones included), staff_cancellations and waived
    (fees waived by an adjustment, R10)."""
    waived = c["waived_by"].notna() if "waived_by" in c else pd.Series(False, index=c.index)
    return {"fee_us": int(c.loc[c["kind"].isin(rules.FEE_KINDS), "fee_us"].sum()),
            "late_cancellations": int((c["kind"] == rules.LATE_CANCELLATION).sum()),
            "no_shows": int((c["kind"] == rules.NO_SHOW).sum()),
            "staff_cancellations": int((c["kind"] == rules.STAFF_CANCELLATION).sum()),
            "waived": int(waived.sum())}


def appointment_rows(c: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``cancellations``' rows for the tables, the notice as text (``notice_text``) instead of
    notice_us and without day: (by the customer and no-shows, by staff)."""
    rows = c.assign(notice=[notice_text(v) for v in c["notice_us"]]).drop(columns=["notice_us", "day"])
    rows = rows.drop(columns=[k for k in ("waived_by", "waived_late") if k in rows])
    by_staff = rows["kind"] == rules.STAFF_CANCELLATION
    return rows[~by_staff], rows[by_staff]
