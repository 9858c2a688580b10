"""R7–R9: prepaid blocks, drawing oldest expiry first, uncovered minutes, forfeiture.

Every minute that enters (a purchase) leaves exactly one way: used, forfeited or still
remaining; every billed minute is covered by a named block or uncovered. ``draws`` says
which block paid for which day, so each figure can be explained to a customer.

How the drawing is vectorised (R8). All blocks have the same validity length, so ordering
a customer's blocks by (expires_on, purchased instant, purchase_id) also orders them by
purchase day, and the blocks valid on day d form a contiguous run of that order: from the
first block not yet expired (``lo``) to the last one already bought (``hi``). Lay every
block end to end on one line of capacity; the greedy draw is then a position ``U`` on that
line that moves forward: on day d with demand x,

    U_d = min(max(U_{d-1}, A_d) + x, B_d)      A_d = capacity before lo, B_d = capacity through hi

(jumping over expired blocks forfeits what they had left; what does not fit below B_d is
uncovered and never drawn from a later purchase). Each step is a clamp function
u -> min(max(u + c, l), h), clamps compose into clamps, so all U_d come from one
associative prefix scan in numpy (no Python loop over days). ``draw_reference`` is the
plain day-by-day greedy that the property tests compare it with.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from billing.policy import Policy

STATUS_USED_UP, STATUS_FORFEITED, STATUS_ACTIVE = "used_up", "forfeited", "active"


def _ordinal(days: pd.Series) -> np.ndarray:
    return pd.to_datetime(days).to_numpy(dtype="datetime64[D]").astype("int64")


def expires_on(purchase_day, policy: Policy):
    """R7: the last day a block bought on ``purchase_day`` can pay for: purchase day +
    ``hours_valid_days``. Takes a date (gives a date) or a datetime64 Series (gives one)."""
    return purchase_day + timedelta(days=policy.hours_valid_days)


def make_blocks(purchases: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """R7: one block per purchase: purchased_us minutes, usable purchase day … expires_on.

    ``purchases`` has purchase_id, customer_id, purchase_day (date), purchased_utc (instant;
    a plain date counts as local midnight), minutes_us. Returned sorted in drawing order (R8).
    """
    b = purchases.copy()
    first = pd.to_datetime(b["purchase_day"]).astype("datetime64[us]")
    last = expires_on(first, policy)
    b["purchased_us"] = b["minutes_us"].astype("int64")
    # R8 order: earliest expiry, then earlier purchase instant, then purchase_id in plain
    # character order (Python str order = code point order). Sorted on datetime64, then the
    # days become dates.
    b["_expires"] = last
    b = b.sort_values(["customer_id", "_expires", "purchased_utc", "purchase_id"], kind="stable")
    b["purchased_on"] = first.loc[b.index].dt.date.to_numpy()
    b["expires_on"] = b.pop("_expires").dt.date.to_numpy()
    return b.reset_index(drop=True)


def _prefix_positions(x: np.ndarray, a: np.ndarray, b: np.ndarray, span: int) -> np.ndarray:
    """U_i for U_i = min(max(U_{i-1}, a_i) + x_i, b_i), U_{-1} = 0 (Hillis–Steele scan).

    ``span`` bounds how far back a step can matter (the longest run of one customer's days:
    before it, the function is constant), so ceil(log2(span)) rounds suffice. Each round
    composes f_{i-step} into f_i in place (two scratch arrays, no concatenation).
    """
    # f_i(u) = min(max(u, a) + x, B') = clamp(u + x, a + x, B'), with B' = max(a, b) so that a
    # day with no valid block covers nothing.
    hi = np.maximum(a, b)
    lo = np.minimum(a + x, hi)
    c = x.astype("int64", copy=True)
    n = len(c)
    new_lo, new_hi = np.empty(n, dtype="int64"), np.empty(n, dtype="int64")
    step = 1
    # A composed clamp that has become constant (lo == hi) stays so under further
    # composition: once all are, the scan is done (on the bench data, after 7 of 10 rounds).
    while step < max(span, 1) and step < n and bool((lo != hi).any()):
        # g ∘ f for f = clamp(u + c1, l1, h1) (position i - step), g = clamp(v + c2, l2, h2) (i).
        m = n - step
        c1, l1, h1 = c[:m], lo[:m], hi[:m]
        c2, l2, h2 = c[step:], lo[step:], hi[step:]
        t_lo, t_hi = new_lo[:m], new_hi[:m]
        np.add(l1, c2, out=t_lo)
        np.maximum(t_lo, l2, out=t_lo)
        np.minimum(t_lo, h2, out=t_lo)
        np.add(h1, c2, out=t_hi)
        np.maximum(t_hi, l2, out=t_hi)
        np.minimum(t_hi, h2, out=t_hi)
        lo[step:] = t_lo
        hi[step:] = t_hi
        c[step:] += c1  # numpy buffers the overlapping operand: reads the old c[:m]
        step *= 2
    return np.minimum(np.maximum(c, lo), hi)  # F_i(0); every U ≥ 0


def draw_from_blocks(days: pd.DataFrame, blocks: pd.DataFrame, policy: Policy):
    """R8: draw each day's billable total from the customer's valid blocks, oldest expiry first.

    ``days``: customer_id, day, billable_us (any order). ``blocks``: from make_blocks.
    Returns (per-day covered/uncovered frame in the input's row order, draws frame
    [customer_id, day, purchase_id, drawn_us]).
    """
    days = days.reset_index(drop=True)
    # Customer codes in the blocks' sort order, so that both lie on one increasing line.
    # One dictionary encoding per frame (Arrow: no Python per row); the few distinct names are
    # then ranked together.
    local, uniques = pd.factorize(days["customer_id"])
    b_local, b_uniques = pd.factorize(blocks["customer_id"])
    customers = pd.Index(uniques).union(pd.Index(b_uniques)).sort_values()
    codes = customers.get_indexer(uniques).astype("int64")[local] if len(days) else np.zeros(0, "int64")
    shift = np.int64(1 << 32)
    key = codes * shift + (_ordinal(days["day"]) if len(days) else np.zeros(0, "int64"))
    in_order = bool(np.all(key[1:] >= key[:-1]))  # rules.daily_billable sorts already: no sort then
    if in_order:
        d, sorted_codes, d_key = days, codes, key
    else:
        order = np.argsort(key, kind="stable")
        d, sorted_codes, d_key = days.iloc[order].reset_index(drop=True), codes[order], key[order]
    n = len(d)
    x = d["billable_us"].to_numpy(dtype="int64")

    b_cust = customers.get_indexer(b_uniques).astype("int64")[b_local] if len(blocks) else np.zeros(0, "int64")
    exp_key = b_cust * shift + (_ordinal(blocks["expires_on"]) if len(blocks) else np.zeros(0, "int64"))
    caps = blocks["purchased_us"].to_numpy(dtype="int64")
    before = np.concatenate([[0], np.cumsum(caps)])  # capacity before block i on the global line

    lo = np.searchsorted(exp_key, d_key, side="left")  # first block with expires_on ≥ d
    hi = np.searchsorted(exp_key, d_key + policy.hours_valid_days, side="right")  # bought by d
    a, b = before[lo], before[hi]
    starts = np.flatnonzero(np.diff(sorted_codes, prepend=-1, append=-2))  # each customer's first row, and n
    span = int(np.diff(starts).max()) if n else 1
    u = _prefix_positions(x, a, b, span)
    prev = np.concatenate([[0], u[:-1]])
    start = np.maximum(prev, a)
    covered = u - start

    # Which blocks each covered interval [start, u) overlaps.
    has = covered > 0
    first = np.searchsorted(before, start[has], side="right") - 1
    last = np.searchsorted(before, u[has], side="left") - 1
    counts = last - first + 1
    rows = np.repeat(np.flatnonzero(has), counts)
    blk = np.repeat(first, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    drawn = np.minimum(u[rows], before[blk + 1]) - np.maximum(start[rows], before[blk])
    draws = pd.DataFrame({  # positional takes keep Arrow strings Arrow (no Python objects)
        "customer_id": d["customer_id"].iloc[rows].reset_index(drop=True),
        "day": d["day"].iloc[rows].reset_index(drop=True),
        "purchase_id": blocks["purchase_id"].iloc[blk].reset_index(drop=True),
        "drawn_us": drawn.astype("int64"),
        "block": blk.astype("int64"),  # the block's position in ``blocks``
    })
    d = d.assign(covered_us=covered, uncovered_us=x - covered)
    if in_order:
        return d, draws
    inverse = np.empty(n, dtype="int64")
    inverse[order] = np.arange(n)
    return d.iloc[inverse].reset_index(drop=True), draws


def left_after(blocks: pd.DataFrame, draws: pd.DataFrame) -> np.ndarray:
    """What each block has left after ``draws`` (R8): purchased_us minus the drawn_us of the
    draws naming its purchase_id, as int64 µs in ``blocks``' row order (the balance of a
    block at the end of a day: pass the draws up to that day)."""
    used = draws.groupby("purchase_id")["drawn_us"].sum()
    return (blocks["purchased_us"] - blocks["purchase_id"].map(used).fillna(0).astype("int64")).to_numpy("int64")


def block_status(blocks: pd.DataFrame, draws: pd.DataFrame, as_of: date, policy: Policy) -> pd.DataFrame:
    """R9: used, forfeited, remaining and status of each block as of T."""
    out = blocks.copy()
    positions = draws["block"].to_numpy() if "block" in draws else None
    if positions is not None and len(draws) and len(out) > int(positions.max()) and \
            out["purchase_id"].iloc[positions].reset_index(drop=True).equals(draws["purchase_id"].reset_index(drop=True)):
        # The draws name their block's position in ``blocks`` (draw_from_blocks on these
        # blocks): an exact integer sum per position, no grouping by text.
        used = np.zeros(len(out), dtype="int64")
        np.add.at(used, draws["block"].to_numpy(), draws["drawn_us"].to_numpy(dtype="int64"))
        out["used_us"] = used
    else:
        used = draws.groupby("purchase_id")["drawn_us"].sum()
        out["used_us"] = out["purchase_id"].map(used).fillna(0).astype("int64")
    left = out["purchased_us"] - out["used_us"]
    expires = pd.to_datetime(out["expires_on"])
    expired = expires < pd.Timestamp(as_of)
    out["forfeited_us"] = np.where(expired & (left > 0), left, 0).astype("int64")
    out["remaining_us"] = np.where(expired, 0, left).astype("int64")
    out["status"] = np.where(left <= 0, STATUS_USED_UP, np.where(expired, STATUS_FORFEITED, STATUS_ACTIVE))
    out["days_left"] = (expires - pd.Timestamp(as_of)).dt.days.astype("int64")
    out["expiring_soon"] = (out["status"] == STATUS_ACTIVE) & expiring_soon(out["expires_on"], as_of, policy)
    return out


def expiring_soon(expires_on: pd.Series, day: date, policy: Policy) -> pd.Series:
    """R9: whether a block whose last day is ``expires_on`` (dates) counts as expiring soon on
    ``day``: its last day is at most ``expiring_window_days`` after it. Boolean, like the input."""
    days_left = (pd.to_datetime(expires_on) - pd.Timestamp(day)).dt.days
    return days_left <= policy.expiring_window_days


def usable_at_end_of(blocks: pd.DataFrame, left: pd.Series, day: date, as_of: date) -> pd.Series:
    """R7/R9 at the end of ``day``, as known at T = ``as_of``: the blocks purchased by then that
    still have minutes (``left``, µs, positionally like ``blocks``) and are not past their last
    day; a block whose last day is ``day`` itself still counts when that day is T or later (its
    forfeiture is not yet due). Boolean Series, positionally like ``blocks``."""
    expires = blocks["expires_on"]
    return ((blocks["purchased_on"] <= day) & (left > 0)
            & ((expires > day) | ((expires == day) & (day >= as_of))))


def drawing_key(block: dict) -> tuple:
    """R8's order of blocks: earliest expires_on, then earlier purchased_utc (an instant; a
    plain date counts as local midnight), then purchase_id in plain character order."""
    return block["expires_on"], block["purchased_utc"], block["purchase_id"]


def draw_one_day(blocks: list[dict], day: date, need: int) -> tuple[list[tuple[dict, int]], int]:
    """R8 in plain Python, one customer's day: draw ``need`` (integer minutes in any unit)
    from the blocks valid on ``day`` (purchased_on ≤ day ≤ expires_on) that have minutes
    ``left``, in ``drawing_key`` order, decreasing their ``left`` in place.

    ``blocks``: one customer's dicts with purchased_on, expires_on, left, purchased_utc,
    purchase_id. Returns ([(block, taken)], uncovered). The vectorised ``draw_from_blocks``
    computes the same for every customer and day at once.
    """
    taken = []
    for b in sorted((b for b in blocks if b["purchased_on"] <= day <= b["expires_on"] and b["left"] > 0),
                    key=drawing_key):
        if need <= 0:
            break
        take = min(need, b["left"])
        b["left"] -= take
        need -= take
        taken.append((b, take))
    return taken, need


def draw_reference(days: list[tuple[str, date, int]], blocks: list[dict], policy: Policy):
    """The plain greedy of R8 (``draw_one_day``), day by day: the oracle for the vectorised version.

    ``days``: (customer_id, day, billable_us); ``blocks``: dicts with purchase_id,
    customer_id, purchased_on, expires_on, purchased_us, purchased_utc.
    Returns ({(customer, day): covered_us}, {purchase_id: used_us}).
    """
    state = {}
    for b in blocks:
        state.setdefault(b["customer_id"], []).append(dict(b, left=b["purchased_us"]))
    covered, used = {}, {b["purchase_id"]: 0 for b in blocks}
    for cust, day, need in sorted(days, key=lambda t: (t[0], t[1])):
        taken, uncovered = draw_one_day(state.get(cust, []), day, need)
        for b, take in taken:
            used[b["purchase_id"]] += take
        covered[(cust, day)] = need - uncovered
    return covered, used
