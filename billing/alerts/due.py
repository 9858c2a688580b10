"""Which alerts are due as of a day T, from the books (R7–R9) and the forecast.

Three kinds, each with a key (kind, customer, block, threshold) that says when it is "the
same alert": the journal sends each key once to each recipient, so a rerun sends nothing new
until a key appears that was not there before (a nearer threshold, a new purchase).

- **expiring**: an active block with time left whose last day is at most N days after T, for
  N in ``expiring_days``; the threshold is the smallest such N (a block first seen 5 days
  before its last day gets the 7-day alert, not the 30-day one too). Says what is left, the
  last day, and what is projected to be forfeited at the customer's pace (billing.forecast).
- **low_balance**: a customer with a block within its validity on T (bought by T, last day
  T or later; used up or not) whose prepaid time left (its active blocks' remaining) is
  below ``low_balance_hours``, or below ``low_balance_percent`` of its last purchase,
  whichever is higher. The block of the key is the last purchase: buying a new block starts
  a new episode. A customer whose every block has lapsed is not "low" (the expiring alerts
  came before; new work shows as overage).
- **overage**: a customer with uncovered minutes (R8: no valid block had time left) on a day
  in the last ``OVERAGE_WINDOW_DAYS`` up to T, after its last purchase (from that purchase's
  day on; all days when it never bought one). Says how much is uncovered since then. The
  block of the key is the last purchase (none: ""), so one episode alerts once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from billing import forecast, ledger
from billing.alerts.settings import AlertSettings
from billing.display import duration_text
from billing.reports import Books

KINDS = ("expiring", "low_balance", "overage")
OVERAGE_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Alert:
    """One alert due as of ``as_of``. ``figures`` are integer µs (``*_us``) and dates."""
    kind: str
    customer_id: str
    customer_name: str
    block: str              # the purchase_id of the key ("" when none)
    threshold: str          # the threshold of the key, as people read it ("7 days", "2 h", "")
    as_of: date
    figures: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.customer_id, self.block, self.threshold)

    @property
    def who(self) -> str:
        """The customer as managers read it: "Acme Ltd (acme)", or the id alone."""
        return f"{self.customer_name} ({self.customer_id})" if self.customer_name else self.customer_id


def _last_purchases(blocks: pd.DataFrame) -> pd.DataFrame:
    """Each customer's last purchase (latest instant, then purchase_id: R8's tie-break)."""
    if blocks.empty:
        return blocks
    order = blocks.sort_values(["customer_id", "purchased_utc", "purchase_id"], kind="stable")
    return order.groupby("customer_id", sort=True).tail(1).set_index("customer_id")


def expiring(books: Books, settings: AlertSettings, names: dict) -> list[Alert]:
    """The expiring alerts (see the module), by last day, customer and block."""
    if not settings.expiring_days:
        return []
    blocks = forecast.block_projection(books)
    if blocks.empty:
        return []
    widest = max(settings.expiring_days)
    near = blocks[blocks["days_left"].astype("int64") <= widest]
    out = []
    for b in near.sort_values(["expires_on", "customer_id", "purchase_id"], kind="stable").itertuples(index=False):
        threshold = min(n for n in settings.expiring_days if b.days_left <= n)
        out.append(Alert("expiring", b.customer_id, names.get(b.customer_id, ""), b.purchase_id,
                         f"{threshold} days", books.as_of, {
                             "expires_on": b.expires_on, "days_left": int(b.days_left),
                             "remaining_us": int(b.remaining_us), "projected_lost_us": int(b.projected_lost_us),
                             "pace_per_day_us": int(b.pace_per_day_us), "purchased_on": b.purchased_on,
                             "purchased_us": int(b.purchased_us),
                             "pace_window_days": forecast.PACE_WINDOW_DAYS}))
    return out


def low_balance(books: Books, settings: AlertSettings, names: dict) -> list[Alert]:
    """The low-balance alerts (see the module), by customer."""
    fixed = settings.low_balance_us
    if not fixed and not settings.low_balance_percent:
        return []
    b = books.blocks
    if b.empty:
        return []
    as_of = books.as_of
    current = b[(b["purchased_on"] <= as_of) & (pd.to_datetime(b["expires_on"]) >= pd.Timestamp(as_of))]
    if current.empty:
        return []
    active = b[b["status"] == ledger.STATUS_ACTIVE]
    left = active.groupby("customer_id")["remaining_us"].sum()
    last = _last_purchases(b)
    paces = forecast.pace(books)
    with_time = forecast.active_with_time_left(books)
    run_outs = forecast.project(with_time, paces, as_of).set_index("customer_id")["run_out"] \
        if len(with_time) else pd.Series(dtype="object")
    out = []
    for customer in sorted(pd.unique(current["customer_id"])):
        remaining = int(left.get(customer, 0))
        lp = last.loc[customer]
        limits = [v for v in (fixed, settings.percent_of_us(int(lp["purchased_us"]))) if v]
        if not limits or remaining >= max(limits):
            continue
        threshold_us = max(limits)
        run_out = run_outs.get(customer)
        out.append(Alert("low_balance", customer, names.get(customer, ""), lp["purchase_id"],
                         duration_text(threshold_us), as_of, {
                             "remaining_us": remaining, "threshold_us": threshold_us,
                             "last_purchase_on": lp["purchased_on"], "last_purchase_us": int(lp["purchased_us"]),
                             "pace_per_day_us": int(paces.get(customer, 0)),
                             "run_out": run_out if isinstance(run_out, date) else None}))
    return out


def overage(books: Books, settings: AlertSettings, names: dict) -> list[Alert]:
    """The overage alerts (see the module), by customer."""
    if not settings.overage:
        return []
    d = books.days
    d = d.loc[d["uncovered_us"].to_numpy() > 0, ["customer_id", "day", "uncovered_us"]]
    if d.empty:
        return []
    d = d.assign(_day=pd.to_datetime(pd.Series(d["day"])).to_numpy())
    last = _last_purchases(books.blocks)
    if len(last):
        since = pd.DataFrame({"customer_id": last.index, "_since": pd.to_datetime(pd.Series(last["purchased_on"]))
                              .to_numpy(), "_block": last["purchase_id"].astype(str).to_numpy(),
                              "_bought": last["purchased_on"].to_numpy()})
        d = d.merge(since, on="customer_id", how="left")
        d = d[d["_since"].isna() | (d["_day"] >= d["_since"])]   # from the last purchase day on
    else:
        d = d.assign(_block=None, _bought=None)
    g = d.groupby("customer_id", sort=True).agg(uncovered_us=("uncovered_us", "sum"), first_day=("_day", "min"),
                                                last_day=("_day", "max"), block=("_block", "first"),
                                                bought=("_bought", "first"))
    g = g[g["last_day"] >= pd.Timestamp(books.as_of - timedelta(days=OVERAGE_WINDOW_DAYS - 1))]
    out = []
    for customer, row in zip(g.index, g.itertuples(index=False)):
        block = row.block if isinstance(row.block, str) else ""
        out.append(Alert("overage", customer, names.get(customer, ""), block, "", books.as_of, {
            "uncovered_us": int(row.uncovered_us), "first_day": row.first_day.date(), "last_day": row.last_day.date(),
            "last_purchase_on": row.bought if block else None}))
    return out


def due_alerts(books: Books, settings: AlertSettings, names: dict | None = None) -> list[Alert]:
    """Every alert due as of ``books.as_of`` under ``settings``: expiring, then low balance,
    then overage. ``names``: customer_id → name (billing.customers.customer_names)."""
    names = names or {}
    return expiring(books, settings, names) + low_balance(books, settings, names) + overage(books, settings, names)
