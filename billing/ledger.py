"""R7–R9: prepaid blocks, drawing oldest expiry first, uncovered minutes, forfeiture.

Every minute that enters (a purchase) leaves exactly one way: used, forfeited or still
remaining; every billed minute is covered by a named block or uncovered. ``draws`` says
which block paid for which day, so each figure can be explained to a customer.

How the drawing is vectorised (R8). Where a customer's blocks, ordered by (expires_on,
purchased instant, purchase_id), are also ordered by first usable day (always so when every
block has the same validity; an extension (R10), a validity change (R11) or a credit can break
it), the blocks valid on day d form a contiguous run of that order: from the first block not
yet expired (``lo``) to the last one already bought (``hi``). Lay every
block end to end on one line of capacity; the greedy draw is then a position ``U`` on that
line that moves forward: on day d with demand x,

    U_d = min(max(U_{d-1}, A_d) + x, B_d)      A_d = capacity before lo, B_d = capacity through hi

(jumping over expired blocks forfeits what they had left; what does not fit below B_d is
uncovered and never drawn from a later purchase). Each step is a clamp function
u -> min(max(u + c, l), h), clamps compose into clamps, so all U_d come from one
associative prefix scan in numpy (no Python loop over days). ``draw_reference`` is the
plain day-by-day greedy that the property tests compare it with.

The customers for whom that does not hold, and those whom rollover (R13) or carried overage
(R14) reach, are drawn by ``_draw_in_order``: the same greedy, one customer's days in order
in plain Python, with the blocks that R13 adds as it goes. Only they pay for it: the others
keep the scan's figures.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from billing.policy import Policy

STATUS_USED_UP, STATUS_FORFEITED, STATUS_ACTIVE = "used_up", "forfeited", "active"
STATUS_ROLLED_OVER = "rolled_over"
# What a block is (the blocks report's ids, FORMATS.md "Over time").
KIND_PURCHASE, KIND_CREDIT, KIND_ROLLOVER = "purchase", "credit", "rollover"
ROLLOVER_SUFFIX = "~rollover"


def _ordinal(days: pd.Series) -> np.ndarray:
    return pd.to_datetime(days).to_numpy(dtype="datetime64[D]").astype("int64")


def expires_on(purchase_day, policy: Policy):
    """R7: the last day a block bought on ``purchase_day`` can pay for: purchase day +
    ``hours_valid_days`` (the one in force that day, R11). Takes a date (gives a date) or a
    datetime64 Series (gives one; make_blocks applies R11 to a Series)."""
    if isinstance(purchase_day, date):
        return purchase_day + timedelta(days=policy.on(purchase_day).hours_valid_days)
    return purchase_day + timedelta(days=policy.hours_valid_days)


def make_blocks(purchases: pd.DataFrame, policy: Policy, extended_to: pd.Series | None = None) -> pd.DataFrame:
    """R7: one block per purchase: purchased_us minutes, usable purchase day … expires_on.

    ``purchases`` has purchase_id, customer_id, purchase_day (date), purchased_utc (instant;
    a plain date counts as local midnight), minutes_us, and optionally kind (purchase or
    credit, R10; default purchase). The validity is the one in force on the purchase day
    (R11); ``extended_to`` (purchase_id → date, R10 ``extend``) replaces the last day of the
    blocks it names. Returned sorted in drawing order (R8), with purchased_on, expires_on
    (dates), purchased_us (int64 µs), kind and base_expires_on (the last day before any
    extension).
    """
    b = purchases.copy()
    first = pd.to_datetime(b["purchase_day"]).astype("datetime64[us]")
    if policy.varies("hours_valid_days"):
        last = first + pd.to_timedelta(policy.by_day("hours_valid_days", first.to_numpy()).astype("int64"), unit="D")
    else:
        last = expires_on(first, policy)
    b["_base"] = last
    if extended_to is not None and len(extended_to):
        new = b["purchase_id"].map(extended_to)
        last = last.where(new.isna(), pd.to_datetime(new).astype("datetime64[us]"))
    if "kind" not in b:
        b["kind"] = KIND_PURCHASE
    b["purchased_us"] = b["minutes_us"].astype("int64")
    # R8 order: earliest expiry, then earlier purchase instant, then purchase_id in plain
    # character order (Python str order = code point order). Sorted on datetime64, then the
    # days become dates.
    b["_expires"] = last
    b = b.sort_values(["customer_id", "_expires", "purchased_utc", "purchase_id"], kind="stable")
    b["purchased_on"] = first.loc[b.index].dt.date.to_numpy()
    b["expires_on"] = b.pop("_expires").dt.date.to_numpy()
    b["base_expires_on"] = b.pop("_base").dt.date.to_numpy()
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

    ``days``: customer_id, day, billable_us (any order). ``blocks``: from make_blocks
    (purchased_on optional: without it a block counts from expires_on − hours_valid_days).
    Returns (per-day covered/uncovered frame in the input's row order, draws frame
    [customer_id, day, purchase_id, drawn_us, block (position in ``blocks``)]).
    """
    days, draws, _ = draw_books(days, blocks, policy)
    return days, draws


def draw_books(days: pd.DataFrame, blocks: pd.DataFrame, policy: Policy, as_of: date | None = None):
    """R8, with R13 rollover and R14 carried overage where the policy has them (``as_of``
    needed for those: a rollover block exists once its first day is ≤ T).

    ``days``: customer_id, day, billable_us (any order); ``blocks``: from make_blocks.
    Returns (days with covered_us and uncovered_us in the input's row order; draws
    [customer_id, day, purchase_id, drawn_us, block, paid_on] — ``day`` the day the minutes
    belong to, ``paid_on`` the day they were drawn (later than ``day`` only for carried
    overage, R14); the blocks, in drawing order, with the rollover blocks added and
    rolled_over_us (int64) and source columns).
    """
    days = days.reset_index(drop=True)
    blocks = blocks.reset_index(drop=True)
    if "purchased_on" not in blocks:
        blocks = blocks.assign(purchased_on=(pd.to_datetime(blocks["expires_on"])
                                             - pd.Timedelta(days=policy.hours_valid_days)).dt.date)
    if "rolled_over_us" not in blocks:
        blocks = blocks.assign(rolled_over_us=np.zeros(len(blocks), dtype="int64"))
    if "source" not in blocks:  # a rollover block's source (R13); blocks from a close keep theirs
        blocks = blocks.assign(source=pd.Series([None] * len(blocks), dtype=object))
    per_day, draws, out_of_order = _scan(days, blocks, policy)
    draws["paid_on"] = draws["day"]
    again = dict(out_of_order)  # customer → first day to draw again (None: all)
    if as_of is not None:
        for c in _reached_by_rollover(blocks, draws, as_of, policy) | _reached_by_carry(per_day, blocks, policy):
            again[c] = None
    if not again:
        return per_day, draws, blocks
    return _redraw_in_order(per_day, draws, blocks, policy, as_of, sorted(again), again)


def _scan(days: pd.DataFrame, blocks: pd.DataFrame, policy: Policy):
    """The vectorised R8 (see the module's doc) for every customer; returns (days with
    covered/uncovered, draws, {customer: first day} for the customers whose blocks are not
    ordered by first usable day: their figures from that day on are not R8's and must be
    drawn again in order)."""
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

    start_key = b_cust * shift + (_ordinal(blocks["purchased_on"]) if len(blocks) else np.zeros(0, "int64"))
    # A block in drawing order whose first usable day is earlier than an earlier block's (an
    # extension, a validity change) makes its customer's valid blocks non-contiguous on the
    # days it is usable while such an earlier block is not bought yet. The run up to the first
    # block not bought yet (hi, on the running maximum of first days) is right on every other
    # day, so the scan is right for that customer up to the first day of its first such block;
    # the caller draws the rest again in order.
    ceiling = np.maximum.accumulate(start_key) if len(start_key) else start_key
    back = np.flatnonzero(start_key < np.concatenate([[np.iinfo("int64").min], ceiling[:-1]]))
    lo = np.searchsorted(exp_key, d_key, side="left")  # first block with expires_on ≥ d
    hi = np.searchsorted(ceiling, d_key, side="right")  # the run of blocks bought by d
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
    out_of_order = _first_wrong_days(d, sorted_codes, d_key, covered < x, back, start_key, exp_key, ceiling, caps)
    if in_order:
        return d, draws, out_of_order
    inverse = np.empty(n, dtype="int64")
    inverse[order] = np.arange(n)
    return d.iloc[inverse].reset_index(drop=True), draws, out_of_order


def _first_wrong_days(d, codes, d_key, short, back, start_key, exp_key, ceiling, caps) -> dict:
    """{customer: first day the scan is not R8's} for the customers with a block out of order.

    A block ``back`` whose first usable day comes before an earlier block's (in drawing order)
    lies beyond the scan's run ``hi`` from its first day until every earlier block is bought:
    its window [first day, min(earlier blocks' latest first day − 1, its last day)]. On a day
    in that window the scan draws only from blocks earlier in drawing order than it, which is
    what R8 does too as long as they cover the whole day; the scan first differs from R8 on
    the first window day it leaves minutes uncovered (``short``), and is R8's everywhere
    before that day (the same draws, so the same balances). Only those customers, from that
    day, are drawn again; rows are in key order (customer code, day)."""
    back = back[caps[back] > 0] if len(back) else back
    if not len(back) or not short.any():
        return {}
    w_start = start_key[back]
    w_end = np.minimum(ceiling[back - 1] - 1, exp_key[back])  # back > 0: the first block is never back
    order = np.argsort(w_start, kind="stable")
    w_start, reach = w_start[order], np.maximum.accumulate(w_end[order])
    rows = np.flatnonzero(short)
    k = d_key[rows]
    j = np.searchsorted(w_start, k, side="right") - 1
    risk = rows[(j >= 0) & (reach[np.maximum(j, 0)] >= k)]
    if not len(risk):
        return {}
    c = codes[risk]
    firsts = risk[np.concatenate([[True], c[1:] != c[:-1]])]  # key order: each customer's first such day
    return dict(zip(d["customer_id"].iloc[firsts].tolist(), pd.to_datetime(d["day"].iloc[firsts]).dt.date.tolist()))


def _reached_by_rollover(blocks: pd.DataFrame, draws: pd.DataFrame, as_of: date, policy: Policy) -> set:
    """Customers with a block that ended before T with minutes left where R13 rolls over
    (``rollover_days`` > 0 on its last day): without rollover they are the same, so only
    these need drawing again."""
    if not (policy.rollover_days > 0 or policy.varies("rollover_days")) or not len(blocks):
        return set()
    left = left_after(blocks, draws)
    expires = blocks["expires_on"].to_numpy(dtype="datetime64[D]")
    rolls = policy.by_day("rollover_days", expires).astype("int64") > 0
    ended = expires < np.datetime64(as_of, "D")
    return set(blocks.loc[rolls & ended & (left > 0), "customer_id"])


def _reached_by_carry(per_day: pd.DataFrame, blocks: pd.DataFrame, policy: Policy) -> set:
    """Customers with uncovered minutes on a day where R14 carries them (``overage`` =
    carry) and a block bought after that day: only their figures change."""
    if not (policy.overage == "carry" or policy.varies("overage")) or not len(blocks):
        return set()
    short = per_day[per_day["uncovered_us"].to_numpy() > 0]
    short = short[policy.by_day("overage", short["day"].to_numpy()) == "carry"]
    if not len(short):
        return set()
    first_short = short.groupby("customer_id")["day"].min()
    last_bought = pd.to_datetime(blocks.groupby("customer_id")["purchased_on"].max())
    both = first_short.index.intersection(last_bought.index)
    return set(both[(last_bought[both] > pd.to_datetime(first_short[both])).to_numpy()])


_EPOCH = date(1970, 1, 1)  # numpy's day 0: ``_draw_in_order`` counts days from it (ints compare fast)


def _each_row(names: pd.Series, value_of: pd.Series) -> np.ndarray:
    """``value_of[name]`` for each row's name (every name in ``value_of``'s index): one
    dictionary encoding of the text, then the few distinct names are looked up."""
    local, uniques = pd.factorize(names)
    return value_of.to_numpy()[value_of.index.get_indexer(uniques)][local]


def _redraw_in_order(per_day, draws, blocks, policy, as_of, customers, start_on=None):
    """Replace the figures of ``customers`` by those of ``_draw_in_order``; add the rollover
    blocks; renumber the draws' block positions to the new blocks' order. The other
    customers' rows keep their order and values (no sort or text lookup over them).
    ``start_on``: customer → the first day to draw again (the scan's figures and draws before
    it are kept, and each block starts from what it had left then); None or missing: all."""
    start_on = start_on or {}
    never = np.iinfo("int64").min
    first_of = pd.Series([never if start_on.get(c) is None else (start_on[c] - _EPOCH).days for c in customers],
                         index=pd.Index(customers, dtype=object), dtype="int64")
    per_day = per_day.copy(deep=False)  # copy-on-write: only the columns set below are new
    # These customers' days from their first day to draw again, grouped by customer, in day order.
    rows = np.flatnonzero(per_day["customer_id"].isin(customers).to_numpy())
    row_customer = per_day["customer_id"].iloc[rows]
    day_no = per_day["day"].to_numpy(dtype="datetime64[D]")[rows].astype("int64")
    again = day_no >= _each_row(row_customer, first_of)
    rows, day_no = rows[again], day_no[again]
    code, names = pd.factorize(row_customer.iloc[np.flatnonzero(again)].to_numpy(dtype=object))
    order = np.lexsort((day_no, code))
    rows, day_no, code = rows[order], day_no[order], code[order]
    need = per_day["billable_us"].to_numpy(dtype="int64")[rows]
    bounds = np.flatnonzero(np.diff(code, prepend=-1, append=-2))
    days_of = {names[code[s]]: (s, e) for s, e in zip(bounds[:-1], bounds[1:])}
    day_list, need_list = day_no.tolist(), need.tolist()

    # The scan's draws that stay: other customers', and these customers' before their day.
    mine_draw = np.flatnonzero(draws["customer_id"].isin(customers).to_numpy())
    keep = np.ones(len(draws), dtype=bool)
    keep[mine_draw] = False
    ours = draws.iloc[mine_draw]
    before = ours["day"].to_numpy(dtype="datetime64[D]").astype("int64") < _each_row(ours["customer_id"], first_of)
    keep[mine_draw[before]] = True
    kept = draws[keep]
    used_before = ours[before].groupby("purchase_id")["drawn_us"].sum().to_dict()

    mine_b = blocks["customer_id"].isin(customers).to_numpy()
    mb = blocks[mine_b]
    blocks_of = {}
    for pid, cust, bought, last, utc, minutes, kind in zip(
            mb["purchase_id"].tolist(), mb["customer_id"].tolist(), _ordinal(mb["purchased_on"]).tolist(),
            _ordinal(mb["expires_on"]).tolist(),
            mb["purchased_utc"].to_numpy(dtype="datetime64[us]").astype("int64").tolist(),
            mb["purchased_us"].to_numpy(dtype="int64").tolist(), mb["kind"].tolist()):
        blocks_of.setdefault(cust, []).append(
            {"purchase_id": pid, "expires_on": last, "purchased_on": bought, "purchased_utc": utc,
             "purchased_us": minutes, "kind": kind, "left": minutes - used_before.get(pid, 0)})
    covered = per_day["covered_us"].to_numpy(dtype="int64").copy()
    sink = ([], [], [], [])  # the new draws' day, purchase_id, µs and day paid on, customer by customer
    drawn_by, new_blocks, rolled = [], [], {}
    settings: dict = {}
    for cust in customers:
        s, e = days_of.get(cust, (0, 0))
        before_n = len(sink[0])
        result = _draw_in_order(cust, day_list[s:e], need_list[s:e], blocks_of.get(cust, []), policy, as_of,
                                sink, settings)
        drawn_by.append(len(sink[0]) - before_n)
        covered[rows[s:e]] = result["covered"]
        new_blocks.extend(result["rollovers"])
        rolled.update(result["rolled_over"])
    per_day["covered_us"] = covered
    per_day["uncovered_us"] = per_day["billable_us"].to_numpy(dtype="int64") - covered

    blocks = blocks.copy(deep=False)
    if rolled:
        ro = blocks["rolled_over_us"].to_numpy(dtype="int64").copy()
        ids = blocks["purchase_id"].to_numpy()
        for i in np.flatnonzero(mine_b):
            ro[i] = rolled.get(ids[i], ro[i])
        blocks["rolled_over_us"] = ro
    new_position = np.arange(len(blocks), dtype="int64")  # old block position → new one
    if new_blocks:
        extra = pd.DataFrame(new_blocks)
        blocks = pd.concat([blocks.assign(_old=np.arange(len(blocks))),
                            extra[[c for c in extra.columns if c in blocks.columns]].assign(_old=-1)],
                           ignore_index=True)
        blocks = blocks.sort_values(["customer_id", "expires_on", "purchased_utc", "purchase_id"], kind="stable") \
            .reset_index(drop=True)
        old = blocks.pop("_old").to_numpy()
        new_position = np.empty(int(old.max()) + 1 if len(old) else 0, dtype="int64")
        new_position[old[old >= 0]] = np.flatnonzero(old >= 0)
    if len(kept):
        kept = kept.assign(block=new_position[kept["block"].to_numpy(dtype="int64")])
    day_type = kept["day"].dtype if len(kept) else np.dtype("datetime64[us]")
    day_col, pid_col, drawn_col, paid_col = sink
    cust_col = np.repeat(np.array(customers, dtype=object), np.array(drawn_by, dtype="int64"))
    mine = pd.DataFrame({"customer_id": pd.Series(cust_col, dtype=draws["customer_id"].dtype),
                         "day": np.array(day_col, dtype="int64").astype("datetime64[D]").astype(day_type),
                         "purchase_id": pd.Series(pid_col, dtype=draws["purchase_id"].dtype),
                         "drawn_us": np.array(drawn_col, dtype="int64"),
                         "paid_on": np.array(paid_col, dtype="int64").astype("datetime64[D]").astype(day_type)})
    mine = mine.sort_values(["customer_id", "day", "paid_on"], kind="stable")
    sel = np.flatnonzero(blocks["customer_id"].isin(customers).to_numpy())
    lookup = dict(zip(blocks["purchase_id"].to_numpy()[sel], sel))
    mine["block"] = np.fromiter((lookup[p] for p in mine["purchase_id"].tolist()), dtype="int64", count=len(mine))
    out = pd.concat([kept, mine], ignore_index=True) if len(kept) else mine.reset_index(drop=True)
    return per_day, out, blocks


def _local_midnight_utc(day: date, zone: str):
    """The instant a plain date counts as (R8 tie-break): local midnight, as naive UTC."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    moment = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return pd.Timestamp(moment).tz_convert("UTC").tz_localize(None)


def _draw_in_order(customer: str, days: list[int], needs: list[int], blocks: list[dict], policy: Policy,
                   as_of: date | None, draws: tuple, settings: dict | None = None) -> dict:
    """R8 with R13 and R14 for one customer, in plain Python, day by day.

    ``days``: the customer's days as int day numbers since 1970-01-01, increasing; ``needs``:
    each day's billable µs. ``blocks``: the customer's blocks as dicts with purchase_id,
    purchased_on and expires_on (day numbers), purchased_utc (int µs), purchased_us, left (µs
    it has at the first day), kind. On each day in order: first, blocks whose last day has
    passed roll over what they have left (R13: at most rollover_max_minutes, into
    ``<id>~rollover`` bought the next day and usable rollover_days); then the blocks bought
    that day pay the owed minutes, oldest first (R14); then the day's total is drawn, earliest
    expiry first (R8), and what is not covered is owed where overage is carried on that day.
    Each draw is appended to ``draws``, four lists: day number, purchase_id, µs, day number
    paid on. Returns {"covered": [µs per day of ``days``], "rollovers": [block records,
    dates as dates], "rolled_over": {purchase_id: µs}}.

    Only the blocks bought by the day with minutes left are held, in drawing order: R8 then
    always draws from the front, and a day costs its draws rather than a pass over every block.
    """
    import bisect
    import heapq
    from collections import deque

    settings = {} if settings is None else settings  # day number → Policy.on(day), shared by the caller

    def on(n: int) -> Policy:
        if n not in settings:
            settings[n] = policy.on(_EPOCH + timedelta(days=n))
        return settings[n]

    live = [b for b in blocks if b["left"] > 0]
    t_no = (as_of - _EPOCH).days if as_of is not None else None
    rolls = as_of is not None and (policy.rollover_days > 0 or policy.varies("rollover_days"))
    carry = as_of is not None and (policy.overage == "carry" or policy.varies("overage"))

    def may_roll(b) -> bool:  # R13: on its last day's setting, never a rollover block, and only by T
        return b["kind"] != KIND_ROLLOVER and b["expires_on"] + 1 <= t_no and on(b["expires_on"]).rollover_days > 0

    rollable = {b["purchase_id"]: b["expires_on"] + 1 for b in live if may_roll(b)} if rolls else {}
    roll_days = set(rollable.values())
    if not roll_days and not carry:
        return {"covered": _draw_plain(days, needs, live, draws), "rollovers": [], "rolled_over": {}}
    d_day, d_pid, d_us, d_paid = draws
    events = set(days) | roll_days
    if carry:
        events |= {b["purchased_on"] for b in live}
    # A held block: [expires_on, purchased_utc, purchase_id, left, kind] (list order: R8's order).
    coming = [(b["purchased_on"], n, [b["expires_on"], b["purchased_utc"], b["purchase_id"], b["left"], b["kind"]])
              for n, b in enumerate(live)]
    heapq.heapify(coming)
    held: list = []
    at = {d: i for i, d in enumerate(days)}
    covered = [0] * len(days)
    owed = deque()  # [day number the minutes belong to, µs still owed], oldest first
    rollovers, rolled = [], {}
    for t in sorted(events):
        today = []  # the blocks bought on t (R14)
        while coming and coming[0][0] <= t:
            bought, _, row = heapq.heappop(coming)
            bisect.insort(held, row)
            if bought == t:
                today.append(row)
        while held and held[0][0] < t:  # past its last day: R13 rolls over what is left, or never again
            row = held.pop(0)
            if row[3] <= 0 or rollable.get(row[2]) != t:   # R13 rolls on the day after the last (may_roll)
                continue
            rule = on(row[0])
            moved = row[3] if rule.rollover_max_us is None else min(row[3], rule.rollover_max_us)
            if moved <= 0:
                continue
            row[3] -= moved
            rolled[row[2]] = moved
            start_day, last_day = _EPOCH + timedelta(days=t), _EPOCH + timedelta(days=row[0] + rule.rollover_days)
            utc = _local_midnight_utc(start_day, policy.timezone)
            rb = [row[0] + rule.rollover_days, int(utc.to_datetime64().astype("datetime64[us]").astype("int64")),
                  row[2] + ROLLOVER_SUFFIX, moved, KIND_ROLLOVER]
            bisect.insort(held, rb)
            today.append(rb)
            rollovers.append({"purchase_id": rb[2], "customer_id": customer, "purchased_on": start_day,
                              "expires_on": last_day, "base_expires_on": last_day, "purchase_day": start_day,
                              "purchased_utc": utc, "purchased_us": moved, "minutes_us": moved,
                              "kind": KIND_ROLLOVER, "source": row[2], "rolled_over_us": 0})
        if carry and owed and today:  # R14: what is bought today pays the oldest owed minutes first
            for row in sorted(today):
                while owed and row[3] > 0:
                    day, amount = owed[0]
                    take = amount if amount < row[3] else row[3]
                    row[3] -= take
                    covered[at[day]] += take
                    d_day.append(day)
                    d_pid.append(row[2])
                    d_us.append(take)
                    d_paid.append(t)
                    if take == amount:
                        owed.popleft()
                    else:
                        owed[0][1] -= take
            held = [row for row in held if row[3] > 0]
        i = at.get(t)
        if i is not None:  # R8: from the front of what is held
            need = needs[i]
            uncovered = _draw_day(held, need, t, draws)
            if need > 0:
                covered[i] += need - uncovered
            if uncovered > 0 and carry and on(t).overage == "carry":
                owed.append([t, uncovered])
    return {"covered": covered, "rollovers": rollovers, "rolled_over": rolled}


def _draw_plain(days: list[int], needs: list[int], live: list[dict], draws: tuple) -> list[int]:
    """``_draw_in_order`` without rollover or carried overage: R8 on each day in order, from
    ``live`` (dicts as there), appending to ``draws`` (its four lists). Returns the µs covered
    on each day.

    Only blocks bought by the day and with minutes left are held, in drawing order: the
    greedy then always draws from the front, so a day costs its draws, not a pass over
    every block (this loop is most of a redraw's time)."""
    import bisect

    coming = sorted(([b["purchased_on"], b["expires_on"], b["purchased_utc"], b["purchase_id"], b["left"]]
                     for b in live if b["left"] > 0), key=lambda b: b[0])
    held = []  # [expires_on, purchased_utc, purchase_id, left]: list order is R8's drawing order
    j = 0
    covered = [0] * len(days)
    for i, t in enumerate(days):
        while j < len(coming) and coming[j][0] <= t:
            bisect.insort(held, coming[j][1:])
            j += 1
        while held and held[0][0] < t:  # past its last day: never again
            del held[0]
        need = needs[i]
        if need > 0:
            covered[i] = need - _draw_day(held, need, t, draws)
    return covered


def _draw_day(held: list, need: int, t: int, draws: tuple) -> int:
    """R8 for one day ``t``: ``need`` µs from the front of ``held`` (the valid blocks with
    minutes left, in drawing order; [.., .., purchase_id, left, ..] each), dropping a block once
    it is used up and appending each draw to ``draws``. Returns the µs left uncovered."""
    d_day, d_pid, d_us, d_paid = draws
    uncovered = need
    while uncovered > 0 and held:
        row = held[0]
        take = uncovered if uncovered < row[3] else row[3]
        row[3] -= take
        uncovered -= take
        d_day.append(t)
        d_pid.append(row[2])
        d_us.append(take)
        d_paid.append(t)
        if row[3] == 0:
            del held[0]
    return uncovered


def left_after(blocks: pd.DataFrame, draws: pd.DataFrame) -> np.ndarray:
    """What each block has left after ``draws`` (R8): purchased_us minus the drawn_us of the
    draws naming its purchase_id, as int64 µs in ``blocks``' row order (the balance of a
    block at the end of a day: pass the draws up to that day)."""
    used = draws.groupby("purchase_id")["drawn_us"].sum()
    return (blocks["purchased_us"] - blocks["purchase_id"].map(used).fillna(0).astype("int64")).to_numpy("int64")


def block_status(blocks: pd.DataFrame, draws: pd.DataFrame, as_of: date, policy: Policy) -> pd.DataFrame:
    """R9: used, forfeited, remaining and status of each block as of T.

    ``blocks`` as draw_books returns them (rolled_over_us optional, 0 without it). Adds
    used_us, forfeited_us, remaining_us (int64 µs), status (active, used_up, forfeited,
    rolled_over), days_left and expiring_soon."""
    out = blocks.copy()
    if "rolled_over_us" not in out:
        out["rolled_over_us"] = np.zeros(len(out), dtype="int64")
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
    if "used_before_us" in out:  # R12: what a closed period drew, recorded at the close
        out["used_us"] = out["used_us"] + out.pop("used_before_us").astype("int64")
    left = out["purchased_us"] - out["used_us"] - out["rolled_over_us"]
    expires = pd.to_datetime(out["expires_on"])
    expired = expires < pd.Timestamp(as_of)
    out["forfeited_us"] = np.where(expired & (left > 0), left, 0).astype("int64")
    out["remaining_us"] = np.where(expired, 0, left).astype("int64")
    out["status"] = np.where(left <= 0, np.where(out["rolled_over_us"] > 0, STATUS_ROLLED_OVER, STATUS_USED_UP),
                             np.where(expired, STATUS_FORFEITED, STATUS_ACTIVE))
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
