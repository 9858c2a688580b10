"""The forecast: each customer's pace, when its prepaid time runs out at that pace, and how
much of each block is projected to be forfeited (R8 drawing, R9 forfeiture, carried forward).

The Expiring hours page and the alerts (billing.alerts) both tell people this; it lives here,
on the engine's side, so that both say the same figures. Minutes stay integer µs.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from billing import ledger
from billing.policy import Policy
from billing.reports import Books

PACE_WINDOW_DAYS = 30


def pace(books: Books, customers: tuple[str, ...] = (), window: int = PACE_WINDOW_DAYS) -> pd.Series:
    """Average billable µs per day over the last ``window`` days up to T (``books.as_of``),
    per customer (of ``customers``; all when empty): customer_id → integer µs, rounded half
    up (exact enough for a projection). Customers with no billable day in the window are
    missing (a pace of 0)."""
    d = books.days
    if customers:
        d = d[d["customer_id"].isin(list(customers))]
    days = pd.to_datetime(pd.Series(d["day"]))
    first = pd.Timestamp(books.as_of - timedelta(days=window - 1))
    d = d[((days >= first) & (days <= pd.Timestamp(books.as_of))).to_numpy()]
    total = d.groupby("customer_id")["billable_us"].sum().astype("int64")
    return (total * 2 + window) // (2 * window)


def project_blocks(blocks: pd.DataFrame, paces: pd.Series, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each customer draws its pace every day from T + 1 on, from its blocks as the engine
    draws (ledger.draw_from_blocks, R8: earliest expiry first); what a block still has after
    its last day is projected lost (R9).

    ``blocks``: customer_id, purchase_id, expires_on (date), remaining_us, in drawing order
    (as in ``Books.blocks``); ``paces``: customer_id → µs per day (missing = 0).
    Returns (per block: customer_id, purchase_id, projected_lost_us, in ``blocks``' order;
    the projected days: customer_id, day, uncovered_us)."""
    first = as_of + timedelta(days=1)
    customers = pd.unique(blocks["customer_id"])
    pace_of = paces.reindex(customers, fill_value=0).astype("int64")
    last = pd.to_datetime(blocks.groupby("customer_id", sort=False)["expires_on"].max()).reindex(customers)
    n_days = np.maximum((last - pd.Timestamp(first)).dt.days.to_numpy() + 1, 0)
    days = pd.DataFrame({
        "customer_id": np.repeat(customers, n_days),
        "day": pd.Timestamp(first) + pd.to_timedelta(
            np.arange(n_days.sum()) - np.repeat(np.cumsum(n_days) - n_days, n_days), unit="D"),
        "billable_us": np.repeat(pace_of.to_numpy(), n_days)})
    future = blocks[["customer_id", "purchase_id", "expires_on"]].assign(
        purchased_us=blocks["remaining_us"].astype("int64")).reset_index(drop=True)
    # Every block is bought by T: let validity reach back that far, so each counts from T + 1.
    reach = max(1, int((pd.to_datetime(blocks["expires_on"]) - pd.Timestamp(as_of)).dt.days.max()) if len(blocks) else 1)
    covered, draws = ledger.draw_from_blocks(days, future, Policy(hours_valid_days=reach))
    left = ledger.left_after(future, draws)
    out = pd.DataFrame({"customer_id": future["customer_id"], "purchase_id": future["purchase_id"],
                        "projected_lost_us": left.astype("int64")})
    return out, covered[["customer_id", "day", "uncovered_us"]]


def project(blocks: pd.DataFrame, paces: pd.Series, as_of: date) -> pd.DataFrame:
    """``project_blocks`` per customer: one row per customer of ``blocks``: customer_id,
    run_out (the first day the blocks no longer cover the pace in full; None when the pace
    is 0), projected_lost_us (the sum of its blocks')."""
    customers = pd.unique(blocks["customer_id"])
    pace_of = paces.reindex(customers, fill_value=0).astype("int64")
    per_block, covered = project_blocks(blocks, paces, as_of)
    last = pd.to_datetime(blocks.groupby("customer_id", sort=False)["expires_on"].max()).reindex(customers)
    short = covered[covered["uncovered_us"] > 0].groupby("customer_id")["day"].min()
    out = pd.DataFrame({"customer_id": customers})
    out["projected_lost_us"] = per_block.groupby("customer_id", sort=False)["projected_lost_us"].sum() \
        .reindex(customers).to_numpy().astype("int64")
    run_out = [(short[c].date() if c in short.index else (last[c] + timedelta(days=1)).date()) for c in customers]
    out["run_out"] = [d if p > 0 else None for d, p in zip(run_out, pace_of.to_numpy())]
    return out


def project_customer(blocks: list[tuple[date, int]], pace_us: int, as_of: date) -> tuple[date | None, int]:
    """``project`` for one customer: ``blocks`` (expires_on, remaining_us) in drawing order,
    ``pace_us`` µs a day. Returns (run-out date or None, projected lost µs)."""
    frame = pd.DataFrame({"customer_id": "c", "purchase_id": [f"{i:09d}" for i in range(len(blocks))],
                          "expires_on": [e for e, _ in blocks], "remaining_us": [int(r) for _, r in blocks]})
    row = project(frame, pd.Series({"c": pace_us}), as_of).iloc[0]
    return row["run_out"], int(row["projected_lost_us"])


def active_with_time_left(books: Books, customers: tuple[str, ...] = ()) -> pd.DataFrame:
    """The blocks of ``books`` that are active as of T and still have time (R9), in the
    engine's drawing order (R8), of ``customers`` (all when empty)."""
    b = books.blocks
    if customers:
        b = b[b["customer_id"].isin(list(customers))]
    return b[(b["status"] == ledger.STATUS_ACTIVE) & (b["remaining_us"] > 0)]


def block_projection(books: Books, customers: tuple[str, ...] = (), window: int = PACE_WINDOW_DAYS) -> pd.DataFrame:
    """Per active block with time left: purchase_id, customer_id, purchased_on, purchased_us,
    expires_on, days_left, remaining_us, pace_per_day_us (the customer's), projected_lost_us
    (this block's share of the customer's projected forfeiture), in drawing order."""
    order = active_with_time_left(books, customers)
    cols = ["purchase_id", "customer_id", "purchased_on", "purchased_us", "expires_on", "days_left", "remaining_us",
            "pace_per_day_us", "projected_lost_us"]
    if order.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    paces = pace(books, customers, window)
    per_block, _ = project_blocks(order, paces, books.as_of)
    out = order[cols[:-2]].reset_index(drop=True)
    out["pace_per_day_us"] = paces.reindex(out["customer_id"], fill_value=0).astype("int64").to_numpy()
    out["projected_lost_us"] = per_block["projected_lost_us"].to_numpy()
    return out
