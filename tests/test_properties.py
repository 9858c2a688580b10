"""Property tests (hypothesis): the books balance on random data (R5, R8, R9)."""
from datetime import date, datetime, timedelta

import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from billing import ledger
from billing.policy import Policy
from billing.rules import round_daily
from tests.builders import Ledger, entry, purchase

MIN = 60_000_000
START = date(2026, 1, 1)

minutes_us = st.integers(min_value=1, max_value=600).map(lambda m: m * MIN // 4)  # quarter minutes
policy_st = st.builds(Policy, timezone=st.just("UTC"),
                      hours_valid_days=st.integers(1, 40), expiring_window_days=st.integers(0, 20))


@st.composite
def books_input(draw):
    customers = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True))
    days = draw(st.lists(st.tuples(st.sampled_from(customers), st.integers(0, 120), minutes_us),
                         max_size=40, unique_by=lambda t: (t[0], t[1])))
    blocks = draw(st.lists(st.tuples(st.sampled_from(customers), st.integers(0, 120),
                                     st.integers(1, 12).map(lambda q: q * 15 * MIN), st.integers(0, 23)),
                           max_size=8))
    return days, blocks


def _frames(days, blocks, policy):
    d = pd.DataFrame({"customer_id": [c for c, _, _ in days], "day": [START + timedelta(days=n) for _, n, _ in days],
                      "billable_us": pd.Series([x for _, _, x in days], dtype="int64")})
    p = pd.DataFrame({
        "purchase_id": [f"P{i:02d}" for i in range(len(blocks))],
        "customer_id": [c for c, _, _, _ in blocks],
        "purchase_day": [START + timedelta(days=n) for _, n, _, _ in blocks],
        "purchased_utc": pd.Series([datetime.combine(START + timedelta(days=n), datetime.min.time()) + timedelta(hours=h)
                                    for _, n, _, h in blocks], dtype="datetime64[us]"),
        "minutes_us": pd.Series([m for _, _, m, _ in blocks], dtype="int64"),
    })
    return d, ledger.make_blocks(p, policy)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books_input(), policy_st, st.integers(0, 200))
def test_books_balance_and_match_the_plain_greedy(data, policy, t):
    days, blocks = data
    as_of = START + timedelta(days=t)
    d, b = _frames([x for x in days if x[1] <= t], [x for x in blocks if x[1] <= t], policy)
    per_day, draws = ledger.draw_from_blocks(d, b, policy)
    status = ledger.block_status(b, draws, as_of, policy)
    # The sum by block position equals the sum grouped by purchase_id (the path for draws
    # that do not name positions).
    assert status.equals(ledger.block_status(b, draws.drop(columns="block"), as_of, policy))

    # R8: every billed minute is covered or uncovered.
    assert (per_day["covered_us"] + per_day["uncovered_us"] == per_day["billable_us"]).all()
    assert (per_day["covered_us"] >= 0).all() and (per_day["uncovered_us"] >= 0).all()
    # R9: every purchased minute is used, forfeited or remaining.
    assert (status["purchased_us"] == status["used_us"] + status["forfeited_us"] + status["remaining_us"]).all()
    assert (status[["used_us", "forfeited_us", "remaining_us"]] >= 0).all().all()
    # The draws explain the covered minutes, day by day and block by block.
    by_day = draws.groupby(["customer_id", "day"])["drawn_us"].sum()
    for row in per_day.itertuples():
        assert by_day.get((row.customer_id, row.day), 0) == row.covered_us
    # A draw is always from the customer's own block, valid on that day (R7).
    merged = draws.merge(b[["purchase_id", "customer_id", "purchased_on", "expires_on"]], on="purchase_id",
                         suffixes=("", "_b"))
    assert (merged["customer_id"] == merged["customer_id_b"]).all()
    assert ((merged["purchased_on"] <= merged["day"]) & (merged["day"] <= merged["expires_on"])).all()

    # The vectorised scan gives exactly the plain greedy's figures.
    covered, used = ledger.draw_reference(
        list(zip(d["customer_id"], d["day"], d["billable_us"])), b.to_dict("records"), policy)
    for row in per_day.itertuples():
        assert covered[(row.customer_id, row.day)] == row.covered_us
    for row in status.itertuples():
        assert used[row.purchase_id] == row.used_us


@given(st.lists(st.integers(0, 1440 * MIN), max_size=50), st.integers(1, 120))
def test_rounded_ad_hoc_minus_raw_is_below_one_increment_and_a_multiple_of_it(raws, increment):
    inc = increment * MIN
    rounded = round_daily(raws, inc)
    for raw, r in zip(raws, rounded):
        assert 0 <= r - raw < inc and r % inc == 0  # R5


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(entries=st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["0.6", "5", "12.5", "0.016667", "31", "59.999999"]),
                                  st.sampled_from(["one_on_one", "general"])), min_size=1, max_size=30),
       purchases=st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["0.5", "1", "2"])), max_size=4))
def test_books_balance_through_the_whole_engine(tmp_path_factory, entries, purchases):
    led = Ledger(tmp_path_factory.mktemp("prop"), Policy(timezone="UTC", hours_valid_days=10))
    led.load(entries=[entry(f"e{i}", f"{START + timedelta(days=d)}T10:00", m, tier=t) for i, (d, m, t) in enumerate(entries)],
             purchases=[purchase(f"P{i}", str(START + timedelta(days=d)), h) for i, (d, h) in enumerate(purchases)] or None)
    books = led.books(START + timedelta(days=25))
    days = books.days
    assert (days["covered_us"] + days["uncovered_us"] == days["billable_us"]).all()
    assert ((days["adhoc_billed_us"] - days["adhoc_raw_us"] >= 0)
            & (days["adhoc_billed_us"] - days["adhoc_raw_us"] < 30 * MIN)
            & (days["adhoc_billed_us"] % (30 * MIN) == 0)).all()
    blocks = books.blocks
    assert (blocks["purchased_us"] == blocks["used_us"] + blocks["forfeited_us"] + blocks["remaining_us"]).all()
    # Exact sums: the engine's raw minutes equal the exact decimal sum of what was written.
    from decimal import Decimal
    for (cust, day), group in days.groupby(["customer_id", "day"]):
        day = pd.Timestamp(day).date()
        exact = sum(Decimal(m) for d, m, t in entries if START + timedelta(days=d) == day and t == "one_on_one")
        assert Decimal(int(group["adhoc_raw_us"].iloc[0])) / MIN == exact


# --------------------------------------------------------------------------- over time (R10–R14)
over_time_policy = st.builds(
    Policy, timezone=st.just("UTC"), hours_valid_days=st.integers(1, 40), expiring_window_days=st.integers(0, 20),
    rollover_days=st.sampled_from([0, 0, 5, 30]), rollover_max_minutes=st.sampled_from([None, 0, 20, 100]),
    overage=st.sampled_from(["report", "carry"]))


@st.composite
def dated_changes(draw, policy):
    """The policy with 0–2 random dated changes (R11) of validity, rollover and overage."""
    n = draw(st.integers(0, 2))
    starts = sorted(draw(st.lists(st.integers(1, 150), min_size=n, max_size=n, unique=True)))
    table = [{"from": (START + timedelta(days=s)).isoformat(),
              **draw(st.fixed_dictionaries({}, optional={"hours_valid_days": st.integers(1, 60),
                                                         "rollover_days": st.sampled_from([0, 10]),
                                                         "overage": st.sampled_from(["report", "carry"])}))}
             for s in starts]
    table = [c for c in table if len(c) > 1]
    return policy.with_changes(change=table) if table else policy


def over_time_reference(days, blocks: list[dict], policy: Policy, as_of: date):
    """R8, R13 and R14 the slow way, written from RULES.md alone: every calendar day from the
    first one to T, in plain Python, for checking the engine (whose R13/R14 path is its own).

    ``days``: [(customer, date, µs)]; ``blocks``: dicts with purchase_id, customer_id, kind,
    purchased_on, expires_on, purchased_utc, purchased_us. Each day t: blocks whose last day
    was t − 1 roll over what they have left (R13, the setting on their last day, capped,
    never a rollover block); then each block bought on t pays what its customer owes, oldest
    first, blocks in R8's order (R14; the docs' choice: any block that starts after); then
    each customer's total for t is drawn from the blocks valid on t in R8's order, and what
    is left uncovered is owed where t's setting carries. Returns (covered {(customer, day):
    µs}, used {purchase_id: µs}, rolled {purchase_id: µs}, rollover blocks {id: (purchased_us,
    expires_on)})."""
    from collections import defaultdict

    need = {(c, d): x for c, d, x in days}
    blocks = [dict(b, left=b["purchased_us"]) for b in blocks]
    order = lambda b: (b["expires_on"], b["purchased_utc"], b["purchase_id"])  # noqa: E731  R8
    covered, used, rolled, made = defaultdict(int), defaultdict(int), {}, {}
    owed = defaultdict(list)  # customer → [[day, µs]], oldest first
    customers = sorted({c for c, _, _ in days} | {b["customer_id"] for b in blocks})
    t = min([d for _, d, _ in days] + [b["purchased_on"] for b in blocks], default=as_of)
    while t <= as_of:
        for b in sorted((b for b in blocks if b["expires_on"] == t - timedelta(days=1) and b["kind"] != "rollover"),
                        key=order):
            rule = policy.on(b["expires_on"])
            moved = b["left"] if rule.rollover_max_us is None else min(b["left"], rule.rollover_max_us)
            if rule.rollover_days > 0 and moved > 0:
                b["left"] -= moved
                rolled[b["purchase_id"]] = moved
                rb = {"purchase_id": b["purchase_id"] + "~rollover", "customer_id": b["customer_id"],
                      "kind": "rollover", "purchased_on": t, "expires_on": b["expires_on"] + timedelta(days=rule.rollover_days),
                      "purchased_utc": datetime.combine(t, datetime.min.time()), "purchased_us": moved, "left": moved}
                blocks.append(rb)
                made[rb["purchase_id"]] = (moved, rb["expires_on"])
        for c in customers:
            for b in sorted((b for b in blocks if b["customer_id"] == c and b["purchased_on"] == t), key=order):
                while owed[c] and b["left"] > 0:
                    take = min(owed[c][0][1], b["left"])
                    b["left"] -= take
                    used[b["purchase_id"]] += take
                    covered[(c, owed[c][0][0])] += take
                    owed[c][0][1] -= take
                    if owed[c][0][1] == 0:
                        owed[c].pop(0)
            x = need.get((c, t), 0)
            for b in sorted((b for b in blocks if b["customer_id"] == c and b["purchased_on"] <= t <= b["expires_on"]),
                            key=order):
                take = min(x, b["left"])
                b["left"] -= take
                used[b["purchase_id"]] += take
                covered[(c, t)] += take
                x -= take
            if x > 0 and policy.on(t).overage == "carry":
                owed[c].append([t, x])
        t += timedelta(days=1)
    return covered, used, rolled, made


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books_input(), over_time_policy.flatmap(dated_changes), st.integers(0, 200),
       st.lists(st.tuples(st.integers(0, 7), st.integers(0, 60)), max_size=3))
def test_over_time_the_books_balance_and_match_the_day_by_day_greedy(data, policy, t, extends):
    days, blocks = data
    as_of = START + timedelta(days=t)
    d, _ = _frames([x for x in days if x[1] <= t], [], policy)
    d["day"] = pd.to_datetime(d["day"]).astype("datetime64[us]")  # as rules.daily_billable gives them
    p = _frames([], [x for x in blocks if x[1] <= t], policy)[1]
    # R10 extend: some blocks get a later last day (which can put them out of purchase order).
    ext = {f"P{i:02d}": e + timedelta(days=n + 1) for i, n in extends
           for e in p.loc[p["purchase_id"] == f"P{i:02d}", "expires_on"]}
    purchases = p[["purchase_id", "customer_id", "purchase_day", "purchased_utc", "minutes_us"]]
    b = ledger.make_blocks(purchases, policy, extended_to=pd.Series(ext, dtype=object))
    per_day, draws, all_blocks = ledger.draw_books(d, b, policy, as_of)
    status = ledger.block_status(all_blocks, draws, as_of, policy)

    event(f"rollover blocks: {int((status['kind'] == ledger.KIND_ROLLOVER).sum() > 0)}")
    event(f"carried draws: {int((draws['paid_on'] != draws['day']).sum() > 0)}")
    event(f"extended: {int(len(ext) > 0)}")
    # The books balance: per block (R9, R13), per day (R8).
    assert (status["purchased_us"] == status["used_us"] + status["forfeited_us"] + status["rolled_over_us"]
            + status["remaining_us"]).all()
    assert (status[["used_us", "forfeited_us", "remaining_us", "rolled_over_us"]] >= 0).all().all()
    assert (per_day["covered_us"] + per_day["uncovered_us"] == per_day["billable_us"]).all()
    assert (per_day["covered_us"] >= 0).all() and (per_day["uncovered_us"] >= 0).all()
    by_day = draws.groupby(["customer_id", "day"])["drawn_us"].sum()
    for row in per_day.itertuples():
        assert by_day.get((row.customer_id, row.day), 0) == row.covered_us
    # What rolled over is exactly its rollover block; a rollover block never rolls again.
    rolled = status.set_index("purchase_id")["rolled_over_us"]
    for row in status[status["kind"] == ledger.KIND_ROLLOVER].itertuples():
        assert rolled[row.source] == row.purchased_us and row.rolled_over_us == 0
    # A draw on its own day is from a block valid that day (R7); a carried one (R14) is paid
    # later, on the paying block's purchase day.
    merged = draws.merge(all_blocks[["purchase_id", "customer_id", "purchased_on", "expires_on"]], on="purchase_id",
                         suffixes=("", "_b"))
    assert (merged["customer_id"] == merged["customer_id_b"]).all()
    same = merged["paid_on"] == merged["day"]
    m = merged[same]
    assert ((m["purchased_on"] <= m["day"].dt.date) & (m["day"].dt.date <= m["expires_on"])).all()
    late = merged[~same]
    assert ((late["paid_on"] > late["day"]) & (late["paid_on"].dt.date == late["purchased_on"])).all()

    # The engine agrees with the slow reference: each day's covered minutes, each block's use
    # and rollover, the rollover blocks made.
    ref_days = [(r.customer_id, r.day.date(), int(r.billable_us)) for r in d.itertuples()]
    ref_blocks = b[["purchase_id", "customer_id", "kind", "purchased_on", "expires_on", "purchased_utc",
                    "purchased_us"]].to_dict("records")
    covered, used, rolled, made = over_time_reference(ref_days, ref_blocks, policy, as_of)
    assert {(r.customer_id, r.day.date()): int(r.covered_us) for r in per_day.itertuples()} == \
        {k: covered.get(k, 0) for k in ((c, day) for c, day, _ in ref_days)}
    by_block = status.set_index("purchase_id")
    assert {p: int(by_block.loc[p, "used_us"]) for p in by_block.index if by_block.loc[p, "used_us"]} == \
        {p: u for p, u in used.items() if u}
    assert {p: int(v) for p, v in by_block["rolled_over_us"].items() if v} == rolled
    assert {r.purchase_id: (int(r.purchased_us), r.expires_on) for r in status.itertuples()
            if r.kind == ledger.KIND_ROLLOVER} == made

    # The scan (for the customers it is right for) and the in-order greedy agree everywhere:
    # drawing every customer in order gives the same figures.
    all_in_order = ledger._redraw_in_order(*ledger._scan(d, b.assign(
        rolled_over_us=0, source=None), policy)[:2], b.assign(rolled_over_us=0, source=None), policy, as_of,
        sorted(set(d["customer_id"]) | set(b["customer_id"])))
    assert list(all_in_order[0]["covered_us"]) == list(per_day["covered_us"])
    again = ledger.block_status(all_in_order[2], all_in_order[1], as_of, policy)
    assert again[["purchase_id", "used_us", "forfeited_us", "remaining_us", "rolled_over_us"]].equals(
        status[["purchase_id", "used_us", "forfeited_us", "remaining_us", "rolled_over_us"]])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(entries=st.lists(st.tuples(st.integers(0, 50), st.integers(1, 90)), min_size=1, max_size=15),
       late=st.lists(st.tuples(st.integers(0, 50), st.integers(1, 90)), max_size=5),
       purchases=st.lists(st.tuples(st.integers(0, 50), st.sampled_from(["0.5", "1", "2"])), max_size=4),
       fees=st.lists(st.integers(0, 50), max_size=3),
       kinds=st.lists(st.sampled_from(["waive", "exclude", "credit", "charge", "extend"]), max_size=5),
       close_at=st.integers(5, 40), t=st.integers(0, 70), rounding_from=st.integers(0, 60),
       policy=st.builds(Policy, timezone=st.just("UTC"), hours_valid_days=st.integers(5, 40),
                        rollover_days=st.sampled_from([0, 10]), overage=st.sampled_from(["report", "carry"])))
def test_books_balance_with_adjustments_closings_and_changes(tmp_path_factory, entries, late, purchases, fees, kinds,
                                                             close_at, t, rounding_from, policy):
    """Random data, a close, late entries after it, random adjustments and a dated rounding
    change: per block purchased + credited = used + forfeited + rolled over + remaining; per row
    billable = covered + uncovered; the closed days are as closed; and every billed minute is
    somewhere: the rows' billable less the late credits is the books' total computed open."""
    from billing import closing
    from billing.reports import compute_books
    from billing.store import open_db
    from tests.builders import appointment
    from tests.test_over_time import adjustments

    policy = policy.with_dated_change(START + timedelta(days=rounding_from), rounding_increment_minutes=15)
    led = Ledger(tmp_path_factory.mktemp("close"), policy)
    led.load(entries=[entry(f"e{i}", f"{START + timedelta(days=d)}T10:00", m) for i, (d, m) in enumerate(entries)],
             appointments=[appointment(f"A{i}", f"{START + timedelta(days=d)}T15:00", 60, "no_show")
                           for i, d in enumerate(fees)] or None,
             purchases=[purchase(f"P{i}", str(START + timedelta(days=d)), h) for i, (d, h) in enumerate(purchases)] or None)
    through = START + timedelta(days=close_at)
    as_of = START + timedelta(days=t)
    closing.close(led.db, through, policy, by="prop", today=date(2027, 1, 1))
    with open_db(led.db, read_only=True) as con:  # what the closed days showed at the close
        frozen = compute_books(con, policy, min(as_of, through), closed=None).days
    if late:
        led.load(entries=[entry(f"l{i}", f"{START + timedelta(days=d)}T11:00", m) for i, (d, m) in enumerate(late)])
    targets = {"waive": [f"A{i}" for i in range(len(fees))], "exclude": [f"e{i}" for i in range(len(entries))],
               "credit": ["acme"], "charge": ["acme"], "extend": [f"P{i}" for i in range(len(purchases))]}
    rows = []
    for n, kind in enumerate(kinds, start=1):
        if targets[kind]:
            target = targets[kind][n % len(targets[kind])]
            extra = {"extend": date(2026, 12, 31), "credit": 45, "charge": 12.5}.get(kind)
            rows.append((n, kind, target, str(START + timedelta(days=(n * 7) % 60)), extra))
    adj = adjustments(*rows)
    with open_db(led.db, read_only=True) as con:
        b = compute_books(con, policy, as_of, adjustments=adj)
        open_books = compute_books(con, policy, as_of, adjustments=adj, closed=None)
    k = b.blocks
    assert (k["purchased_us"] == k["used_us"] + k["forfeited_us"] + k["rolled_over_us"] + k["remaining_us"]).all()
    assert (k[["used_us", "forfeited_us", "remaining_us"]] >= 0).all().all()
    assert (b.days["billable_us"] == b.days["covered_us"] + b.days["uncovered_us"]).all()
    shown = b.days[b.days["day"] <= pd.Timestamp(min(as_of, through))].reset_index(drop=True)
    expect = frozen[frozen["day"] <= pd.Timestamp(min(as_of, through))].reset_index(drop=True)
    for c in ("customer_id", "day", "billable_us", "covered_us", "uncovered_us"):
        assert list(shown[c]) == list(expect[c])
    if as_of > through:
        credits = int(k.loc[k["kind"] == "late_credit", "purchased_us"].sum())
        assert int(b.days["billable_us"].sum()) - credits == int(open_books.days["billable_us"].sum())
