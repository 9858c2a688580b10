"""The books over time on the pages (R10–R14): the close in force in words, the late changes to
closed days posted in a period, and blocks named in words. No Streamlit here.

- ``closed_banner``: "Books closed through 2026-10-31 (closing 3, by lead@…, on …)" from
  billing.closing.history, or None while the books are open;
- ``late_changes``: the late rows (billed on the first open day, R12) and late credits of the
  period, one line each, in words;
- ``block_names``: a column of block ids as people read them ("credit (adjustment 7)",
  "carried from PO-0166", "credit for a late change to 2026-10-12"; billing.display.block_text).
"""
from __future__ import annotations

import pandas as pd

from billing.display import block_text, closed_text, date_text, late_credit_days
from billing.pages.common import Filters, in_period, of_customers
from billing.reports import Books

LATE_COLUMNS = ["customer_id", "posted_on", "late_for", "change_us", "how", "covered_us", "uncovered_us"]


def closed_banner(history: pd.DataFrame, zone: str | None = None) -> str | None:
    """The close in force in words (billing.display.closed_text; when it was recorded in
    ``zone``, the policy's, if given), or None when the books are open.
    ``history``: billing.closing.history (its in_force column marks the close reports use)."""
    if history is None or history.empty or not history["in_force"].any():
        return None
    row = history[history["in_force"]].iloc[-1]
    return closed_text(row["day"], row["closing_id"], row["recorded_by"], row["recorded_at"], zone)


def closings_table(history: pd.DataFrame) -> pd.DataFrame:
    """Every close and reopen for people, newest first: no., what ("closed through 2026-10-31",
    "reopened from 2026-10-15"), in force, by, recorded (UTC), reason."""
    if history is None or history.empty:
        return pd.DataFrame(columns=["no.", "what", "in force", "by", "recorded (UTC)", "reason"])
    h = history.sort_values("closing_id", ascending=False)
    return pd.DataFrame({
        "no.": [str(int(v)) for v in h["closing_id"]],
        "what": [f"closed through {date_text(d)}" if k == "close" else f"reopened from {date_text(d)}"
                 for k, d in zip(h["kind"], h["day"])],
        "in force": ["yes" if v else "" for v in h["in_force"]],
        "by": list(h["recorded_by"]),
        "recorded (UTC)": [pd.Timestamp(v).strftime("%Y-%m-%d %H:%M") for v in h["recorded_at"]],
        "reason": ["" if r is None or pd.isna(r) else " ".join(str(r).split()) for r in h["reason"]],
    }, dtype=object).reset_index(drop=True)


def late_changes(books: Books, f: Filters) -> pd.DataFrame:
    """The late changes to closed days posted in the period for the chosen customers (R12):
    a late row billed on the first open day (change_us > 0: "billed on the day posted"), or a
    late credit, a block bought that day (change_us < 0: "credited as a block"). Columns
    LATE_COLUMNS (covered/uncovered for a late row; missing for a credit), by posting day."""
    d = of_customers(books.days, f.customers)
    rows = d[d["late_for"].notna() & in_period(d["day"], f.start, f.end)] if "late_for" in d else d.iloc[:0]
    b = of_customers(books.blocks, f.customers)
    credits = b[(b["kind"] == "late_credit") & in_period(b["purchased_on"], f.start, f.end)] \
        if "kind" in b else b.iloc[:0]
    out = [pd.DataFrame({
        "customer_id": rows["customer_id"].to_numpy(), "posted_on": pd.to_datetime(rows["day"]).dt.date.to_numpy(),
        "late_for": pd.to_datetime(rows["late_for"]).dt.date.to_numpy(),
        "change_us": rows["billable_us"].astype("int64").to_numpy(), "how": "billed on the day posted",
        "covered_us": rows["covered_us"].astype("int64").to_numpy(),
        "uncovered_us": rows["uncovered_us"].astype("int64").to_numpy()})]
    if len(credits):
        days = [late_credit_days(p) for p in credits["purchase_id"]]
        out.append(pd.DataFrame({
            "customer_id": credits["customer_id"].to_numpy(), "posted_on": credits["purchased_on"].to_numpy(),
            "late_for": [pd.Timestamp(x).date() for x, _ in days],
            "change_us": (-credits["purchased_us"].astype("int64")).to_numpy(), "how": "credited as a block",
            "covered_us": pd.array([pd.NA] * len(credits), dtype="Int64"),
            "uncovered_us": pd.array([pd.NA] * len(credits), dtype="Int64")}))
    frame = pd.concat([o for o in out if len(o)], ignore_index=True) if any(len(o) for o in out) else \
        pd.DataFrame({c: pd.Series(dtype=object) for c in LATE_COLUMNS})
    return frame.sort_values(["posted_on", "customer_id", "late_for"], kind="stable")[LATE_COLUMNS] \
        .reset_index(drop=True)


def block_names(purchase_ids, kinds=None) -> list[str]:
    """Each block id of a column as people name it (billing.display.block_text)."""
    ids = list(purchase_ids)
    kinds = list(kinds) if kinds is not None else [None] * len(ids)
    return [block_text(p, k) for p, k in zip(ids, kinds)]


__all__ = ["closed_banner", "closings_table", "late_changes", "block_names", "LATE_COLUMNS"]
