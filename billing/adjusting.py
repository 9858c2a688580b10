"""R10 applied: what the adjustments in force as of T change in the engine's inputs.

The adjustments themselves are recorded and listed by ``billing.adjustments``; its
``in_force(con, as_of, customer)`` gives those that apply as of T (dated on or before T and
not voided by a void dated on or before T), one row each: adjustment_id (int), kind, target,
customer_id, on_day (date), to_day (date, extend), minutes_us (credit, charge), reason.
Nothing here is stored: each function turns that frame into one of the engine's inputs.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from billing.policy import Policy

ADJUSTMENT_COLUMNS = ["adjustment_id", "kind", "target", "customer_id", "on_day", "to_day", "minutes_us", "reason"]
CREDIT_PREFIX = "adj-"  # a credit's block is named adj-<adjustment id> (FORMATS.md "Over time")


def no_adjustments() -> pd.DataFrame:
    """An empty frame of the in_force columns."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "adjustment_id" else object)
                         for c in ADJUSTMENT_COLUMNS})


def adjustments_as_of(con, as_of: date, customer: str | None = None) -> pd.DataFrame:
    """The adjustments in force as of T (R10), of one customer or all; an empty frame for a
    database that has none (or was made before adjustments existed)."""
    try:
        from billing.adjustments import in_force
    except ImportError:  # pragma: no cover - the recording side is part of the same release
        return no_adjustments()
    found = in_force(con, as_of, customer)
    return found if len(found) else no_adjustments()


def _of(adj: pd.DataFrame, kind: str) -> pd.DataFrame:
    return adj[adj["kind"] == kind]


def waived(adj: pd.DataFrame) -> pd.Series:
    """appointment_id → the id of the ``waive`` adjustment that makes its fee 0 (R10, R6)."""
    w = _of(adj, "waive")
    return pd.Series(w["adjustment_id"].to_numpy(), index=w["target"].to_numpy()).groupby(level=0).last()


def apply_waivers(appts: pd.DataFrame, adj: pd.DataFrame) -> pd.DataFrame:
    """``appts`` (rules.appointments_as_of) with the fees of waived appointments set to 0 and
    waived_by (the adjustment id, <NA> otherwise) added; fee_kind keeps what the fee was."""
    by = waived(adj)
    out = appts.copy()
    out["waived_by"] = out["appointment_id"].map(by).astype("Int64") if len(by) else \
        pd.array([pd.NA] * len(out), dtype="Int64")
    out["fee_us"] = np.where(out["waived_by"].notna(), 0, out["fee_us"]).astype("int64")
    return out


def excluded_entries(adj: pd.DataFrame) -> list[str]:
    """The entry ids that ``exclude`` adjustments take out of every total (R10)."""
    return sorted(set(_of(adj, "exclude")["target"]))


def extended_to(adj: pd.DataFrame) -> pd.Series:
    """purchase_id → its last day after the latest ``extend`` in force (R10: a later date)."""
    e = _of(adj, "extend").sort_values(["on_day", "adjustment_id"], kind="stable")
    return pd.Series(e["to_day"].to_numpy(), index=e["target"].to_numpy()).groupby(level=0).last()


def credit_purchases(adj: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """``credit`` adjustments as purchases for ledger.make_blocks (R10: a block of N minutes
    bought on the adjustment's date, no amount): purchase_id adj-<id>, customer_id,
    purchase_day, purchased_utc (local midnight of that day), minutes_us, kind 'credit'."""
    from billing.calendar import to_utc

    c = _of(adj, "credit")
    wall = pd.Series(pd.to_datetime(pd.Series(c["on_day"].to_numpy(), dtype=object)), dtype="datetime64[us]")
    return pd.DataFrame({
        "purchase_id": CREDIT_PREFIX + c["adjustment_id"].astype("int64").astype(str).to_numpy(),
        "customer_id": c["customer_id"].to_numpy(),
        "purchase_day": c["on_day"].to_numpy(),
        "purchased_utc": to_utc(wall, pd.Series([pd.NA] * len(c), dtype="Int32"), policy.timezone).to_numpy(),
        "minutes_us": c["minutes_us"].astype("int64").to_numpy(),
        "kind": "credit",
    })


def charges(adj: pd.DataFrame) -> pd.DataFrame:
    """``charge`` adjustments summed per customer and day (R10: billable on the adjustment's
    date, never rounded or pooled): customer_id, day (datetime64), charged_us (int64)."""
    c = _of(adj, "charge")
    frame = pd.DataFrame({"customer_id": c["customer_id"].to_numpy(),
                          "day": pd.to_datetime(pd.Series(c["on_day"].to_numpy(), dtype=object)).astype("datetime64[us]"),
                          "charged_us": c["minutes_us"].astype("int64").to_numpy()})
    return frame.groupby(["customer_id", "day"], as_index=False, sort=True)["charged_us"].sum()


def add_charges(days: pd.DataFrame, adj: pd.DataFrame) -> pd.DataFrame:
    """``days`` (rules.daily_billable) with charged_us added to the days charged, in
    billable_us too; a charged day with no other minutes becomes a row of its own. Sorted by
    customer and day as before (code point order)."""
    c = charges(adj)
    days = days.assign(charged_us=np.zeros(len(days), dtype="int64"))
    if not len(c):
        return days
    # Find each charge's row among the (customer, day)-sorted days by binary search on an
    # integer key: no index over the million rows' text.
    names = pd.Index(pd.unique(pd.concat([pd.Series(days["customer_id"].unique()), c["customer_id"]]))).sort_values()
    shift = np.int64(1 << 32)

    def key(frame):  # one dictionary encoding of the text, then the few names are looked up
        local, uniques = pd.factorize(frame["customer_id"])
        code = names.get_indexer(uniques).astype("int64")[local] if len(frame) else np.zeros(0, "int64")
        return code * shift + frame["day"].to_numpy(dtype="datetime64[D]").astype("int64")

    day_key, charge_key = key(days), key(c)
    at = np.searchsorted(day_key, charge_key)
    found = (at < len(day_key)) & (day_key[np.minimum(at, len(day_key) - 1)] == charge_key) if len(day_key) \
        else np.zeros(len(charge_key), dtype=bool)
    charged = days["charged_us"].to_numpy().copy()
    billable = days["billable_us"].to_numpy(dtype="int64").copy()
    charged[at[found]] += c["charged_us"].to_numpy()[found]
    billable[at[found]] += c["charged_us"].to_numpy()[found]
    days["charged_us"], days["billable_us"] = charged, billable
    if found.all():
        return days
    # The charged days with no other row, inserted at their place in the (customer, day) order:
    # column by column (a memory move), not a concat and re-sort of every row.
    alone = np.flatnonzero(~found)
    alone = alone[np.argsort(charge_key[alone], kind="stable")]
    where = np.searchsorted(day_key, charge_key[alone])
    extra = c.iloc[alone]
    taken = np.insert(np.arange(len(days)), where, len(days) + np.arange(len(alone)))
    names_col = pd.concat([days["customer_id"], extra["customer_id"]], ignore_index=True).take(taken)
    out = {}
    for col in days.columns:
        if col == "customer_id":
            out[col] = names_col.reset_index(drop=True)
        elif col == "day":
            out[col] = np.insert(days[col].to_numpy(), where, extra["day"].to_numpy().astype(days[col].dtype))
        else:
            value = extra["charged_us"].to_numpy(dtype="int64") if col in ("charged_us", "billable_us") else 0
            out[col] = np.insert(days[col].to_numpy(), where, value)
    return pd.DataFrame(out, copy=False)
