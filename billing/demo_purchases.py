"""The demo's purchases: blocks a sensible customer would have bought, planned with the
engine's own rules (R5, R6: billing.rules; R7, R8: billing.ledger) under the default policy."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from billing import ledger, rules
from billing.canonical import MICRO, US_PER_MICROMINUTE
from billing.policy import Policy

POLICY = Policy()                      # the demo plans its purchases under the default settings
HOURS_VALID_DAYS = POLICY.hours_valid_days   # R7: how long a customer's bought block lasts


def day_of(seconds) -> np.ndarray:
    """Days (datetime64[D]) of wall times given as seconds since 1970-01-01T00:00."""
    return (np.asarray(seconds, dtype=np.int64) // 86_400).astype("datetime64[D]")


def planned_billable(entries: pd.DataFrame, appts: pd.DataFrame, today: dt.date) -> pd.Series:
    """An approximation of billable millionths of a minute per (customer, day), for planning the
    demo's purchases before anything is imported: R2, R5 and R6 with the engine's own rules
    (rules.round_daily, rules.fees) under the default policy, but every session entry taken as
    billed (no R4 hold: the demo's sessions are planned completed). The billed figures are
    rules.daily_billable's, after import."""
    e = entries[(entries["tier"] == "one_on_one")].copy()                 # R2
    e["day"] = day_of(e["start_s"])
    adhoc = e[e["appt"] < 0].groupby(["customer_id", "day"])["micro"].sum()
    adhoc = pd.Series(rules.round_daily(adhoc.to_numpy() * US_PER_MICROMINUTE, POLICY.increment_us)
                      // US_PER_MICROMINUTE, index=adhoc.index)          # R5
    session = e[e["appt"] >= 0].groupby(["customer_id", "day"])["micro"].sum()   # R4: as logged
    a = appts.copy()
    a["day"] = day_of(a["start_s"])
    _, fee_us = rules.fees(a["status"], a["cancelled_by"], a["notice_s"].to_numpy() * 1_000_000, POLICY)  # R6
    a["fee"] = fee_us // US_PER_MICROMINUTE
    fees = a[a["fee"] > 0].groupby(["customer_id", "day"])["fee"].sum()
    total = pd.concat([adhoc, session, fees]).groupby(level=[0, 1]).sum()
    days = total.index.get_level_values(1)
    return total[days <= np.datetime64(today)]


def _block(when: dt.date, micro: int, n: int) -> dict:
    """A planned block for ledger.draw_one_day (R7, R8); ``n`` keeps the order bought."""
    return {"purchased_on": when, "expires_on": ledger.expires_on(when, POLICY), "left": micro,
            "purchased_utc": when, "purchase_id": f"{n:06d}"}


def plan_purchases(rng, c, daily: pd.Series) -> list[tuple[dt.date, int]]:
    """Blocks a sensible customer would have bought: the forced ones, plus one whenever a day
    inside a buying window would otherwise go uncovered (drawn as the engine draws, R7, R8)."""
    bought = [(d, h) for d, h in c.forced]
    blocks = [_block(d, h * 60 * MICRO // 100, n) for n, (d, h) in enumerate(bought)]
    if daily.empty:
        return bought
    days = [pd.Timestamp(x).date() for x in daily.index]
    needs = daily.to_numpy(dtype=np.int64)
    last_covered = None
    for k, (day, need) in enumerate(zip(days, needs)):
        _, need = ledger.draw_one_day(blocks, day, int(need))
        window = next((w for w in c.windows if w[0] <= day <= w[1]), None)
        if need > 0 and window is not None:
            ahead = sum(int(n) for d, n in zip(days[k:], needs[k:]) if (d - day).days < HOURS_VALID_DAYS)
            if c.small_blocks:
                hours = 5 if ahead < 10 * 60 * MICRO else 10
            else:
                hours = 20 if ahead >= 18 * 60 * MICRO else 10 if ahead >= 8 * 60 * MICRO else 5
            earliest = max(window[0], last_covered + dt.timedelta(days=1)) if last_covered else window[0]
            when = max(earliest, day - dt.timedelta(days=int(rng.integers(0, 4))))
            blocks.append(_block(when, hours * 60 * MICRO - need, len(blocks)))
            bought.append((when, hours * 100))
            need = 0
        if need == 0:
            last_covered = day
    return sorted(bought)
