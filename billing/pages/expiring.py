"""Expiring hours page: active blocks by last day (R9), each customer's pace, the run-out
date and the hours projected to be forfeited, and forfeitures by month."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from billing import forecast
from billing.customers import SEPARATOR, customer_label
from billing.display import durations_text
from billing.pages.common import Filters, bucket_start, csv_bytes, of_customers
from billing.pages.over_time import block_names
from billing.reports import Books, report_minutes_text

PACE_WINDOW_DAYS = forecast.PACE_WINDOW_DAYS
# The forecast is the engine's (billing.forecast: the alerts tell the same figures).
project, project_customer = forecast.project, forecast.project_customer


def active_blocks(books: Books, f: Filters) -> pd.DataFrame:
    """Active blocks with time left, by expiry date (R9): purchase_id, block (in words: a credit,
    a rollover block or a late credit named as people read it), customer_id, purchased_on,
    expires_on, days_left, purchased_us, remaining_us, expiring_soon."""
    b = forecast.active_with_time_left(books, f.customers)
    b = b.assign(block=block_names(b["purchase_id"], b["kind"] if "kind" in b else None))
    return b.sort_values(["expires_on", "customer_id", "purchase_id"], kind="stable")[
        ["purchase_id", "block", "customer_id", "purchased_on", "expires_on", "days_left", "purchased_us",
         "remaining_us", "expiring_soon"]].reset_index(drop=True)


def pace(books: Books, f: Filters, window: int = PACE_WINDOW_DAYS) -> pd.Series:
    """billing.forecast.pace of the filters' customers: billable µs per day over the last
    ``window`` days up to T."""
    return forecast.pace(books, f.customers, window)


def expiry_projection(books: Books, f: Filters, names: dict | None = None) -> pd.DataFrame:
    """Per customer with active time left: customer_id, remaining_us, next_expiry,
    pace_per_day_us, run_out, projected_lost_us (``project``), customer_name; most projected
    loss first."""
    order = forecast.active_with_time_left(books, f.customers)  # the engine's drawing order (R8)
    paces = pace(books, f)
    cols = ["customer_id", "remaining_us", "next_expiry", "pace_per_day_us", "run_out", "projected_lost_us"]
    if order.empty:
        out = pd.DataFrame(columns=cols)
    else:
        proj = project(order, paces, f.as_of).set_index("customer_id")
        g = order.groupby("customer_id", sort=True)
        out = pd.DataFrame({"customer_id": list(g.groups)})
        out["remaining_us"] = g["remaining_us"].sum().astype("int64").to_numpy()
        out["next_expiry"] = g["expires_on"].min().to_numpy()
        out["pace_per_day_us"] = paces.reindex(out["customer_id"], fill_value=0).astype("int64").to_numpy()
        out["run_out"] = proj["run_out"].reindex(out["customer_id"]).to_numpy()
        out["projected_lost_us"] = proj["projected_lost_us"].reindex(out["customer_id"]).astype("int64").to_numpy()
        out = out.sort_values(["projected_lost_us", "next_expiry", "customer_id"],
                              ascending=[False, True, True], kind="stable").reset_index(drop=True)
    names = names or {}
    out["customer_name"] = [names.get(c, "") for c in out["customer_id"]]
    return out


def expiring_by_customer(blocks: pd.DataFrame, names: dict | None = None) -> pd.DataFrame:
    """What expires soon (R9: the blocks ``expiring_soon``, within expiring_window_days of their
    last day) per customer and last day, from ``active_blocks``' frame: customer_id,
    customer_name, expires_on (the last day the time can be used, R7), expiring_us (the time
    left in those blocks), blocks (how many); soonest first, then the most time."""
    soon = blocks[blocks["expiring_soon"].astype(bool)]
    g = soon.groupby(["customer_id", "expires_on"], as_index=False).agg(
        expiring_us=("remaining_us", "sum"), blocks=("purchase_id", "size"))
    g["expiring_us"] = g["expiring_us"].astype("int64")
    g = g.sort_values(["expires_on", "expiring_us", "customer_id"], ascending=[True, False, True], kind="stable")
    names = names or {}
    g.insert(1, "customer_name", [names.get(c, "") for c in g["customer_id"]])
    return g.reset_index(drop=True)[["customer_id", "customer_name", "expires_on", "expiring_us", "blocks"]]


def expiring_figures(expiring: pd.DataFrame) -> dict:
    """The headline of what expires soon, from ``expiring_by_customer``: expiring_us (total),
    customers (how many have time expiring), first_day (the soonest last day, None if none)."""
    return {"expiring_us": int(expiring["expiring_us"].sum()),
            "customers": int(expiring["customer_id"].nunique()),
            "first_day": expiring["expires_on"].min() if len(expiring) else None}


def run_out_text(run_out) -> list[str]:
    """Run-out dates as ISO text, "no recent use" where there is none."""
    return [d.isoformat() if isinstance(d, date) else "no recent use" for d in run_out]


def at_risk(projection: pd.DataFrame) -> pd.DataFrame:
    """The customers of ``expiry_projection`` projected to forfeit minutes."""
    return projection[projection["projected_lost_us"] > 0].reset_index(drop=True)


def at_risk_csv(projection: pd.DataFrame) -> bytes:
    """The at-risk customers as a CSV download for a spreadsheet (UTF-8 with a BOM, so Excel
    reads accents and CJK names): each time as people read it, hours and whole minutes
    ("12 h 5 min", billing.display), beside the exact minutes (2 decimals, FORMATS.md style);
    dates YYYY-MM-DD, an empty run-out where there is no recent use."""
    r = at_risk(projection)

    def both(col: str, name: str) -> dict:
        return {name: durations_text(r[col]) if len(r) else [],
                f"{name} (minutes)": report_minutes_text(r[col]) if len(r) else []}

    # Columns in words (a manager's spreadsheet): "not covered from" is the first day the blocks
    # no longer cover the pace, whether used up or past their last day.
    out = pd.DataFrame({
        "customer": r["customer_id"], "name": r["customer_name"],
        **both("remaining_us", "time left"), **both("pace_per_day_us", "use per day"),
        "next last day": [d.isoformat() for d in r["next_expiry"]],
        "not covered from": [d.isoformat() if d is not None and not pd.isna(d) else "" for d in r["run_out"]],
        **both("projected_lost_us", "projected to be forfeited"),
    })
    return csv_bytes(out)


def forfeited_by_month(books: Books, f: Filters) -> pd.DataFrame:
    """Minutes forfeited (R9), by the month of the block's expiry day."""
    b = of_customers(books.blocks, f.customers)
    b = b[b["forfeited_us"] > 0]
    g = b.assign(month=bucket_start(b["expires_on"], "month")).groupby("month", as_index=False)["forfeited_us"].sum()
    return g.sort_values("month").reset_index(drop=True)


def expiring_totals(blocks: pd.DataFrame, projection: pd.DataFrame) -> dict[str, int]:
    """The headline of the page: remaining_us (left in ``active_blocks``), projected_lost_us
    (``expiry_projection``'s total), at_risk and customers (counts)."""
    return {"remaining_us": int(blocks["remaining_us"].sum()),
            "projected_lost_us": int(projection["projected_lost_us"].sum()),
            "at_risk": len(at_risk(projection)), "customers": len(projection)}


def timeline(blocks: pd.DataFrame, as_of: date, limit: int, names: dict | None = None) -> pd.DataFrame:
    """The first ``limit`` of ``active_blocks`` as bars from T to the end of their last day
    (R7: a block can be used all of its expires_on): label ("C1014 · Acme · PO-0195": the
    customer as billing.customers labels it, then the block), start and end (Timestamps),
    remaining_us, expires_on, expiring_soon."""
    shown = blocks.head(limit)
    return pd.DataFrame({
        "label": [f"{customer_label(c, names or {})}{SEPARATOR}{p}"
                  for c, p in zip(shown["customer_id"], shown["block"] if "block" in shown else shown["purchase_id"])],
        "start": pd.Timestamp(as_of),
        "end": pd.to_datetime(shown["expires_on"]) + timedelta(days=1),
        "remaining_us": shown["remaining_us"], "expires_on": shown["expires_on"],
        "expiring_soon": shown["expiring_soon"]}).reset_index(drop=True)
