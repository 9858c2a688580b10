"""billing.pages.expiring: active blocks, the forecast, forfeitures."""
from __future__ import annotations

import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as hs

from billing import appdata
from billing.policy import US_PER_MINUTE, Policy
from billing.reports import compute_books, daily_frame, report
from billing.store import open_db
from tests.billing_pages.fixture import MIN, POLICY, T, F, daily_sum, load_fixture, minutes
from tests.builders import Ledger, appointment, entry, purchase
from billing.pages import expiring as page


# --------------------------------------------------------------------------- expiring hours
def simulate(blocks, pace_us, as_of, horizon=4000):
    """Reference: day by day, the plain greedy of the brief (earliest expiry first)."""
    left = [[e, r] for e, r in blocks]
    day, run_out = as_of + timedelta(days=1), None
    for _ in range(horizon):
        need = pace_us
        for b in left:
            if b[0] >= day and b[1] > 0 and need > 0:
                take = min(b[1], need)
                b[1] -= take
                need -= take
        if need > 0 and run_out is None:
            run_out = day
        day += timedelta(days=1)
        if run_out is not None and all(b[0] < day for b in left):
            break
    return (run_out if pace_us > 0 else None), sum(r for _, r in left)


def test_projection_hand_computed():
    # 100 min left, last day in 10 days, 5 min a day: 50 drawn on days 1..10, 50 lost, runs out day 11.
    run_out, lost = page.project_customer([(T + timedelta(days=10), 100 * MIN)], 5 * MIN, T)
    assert (run_out, lost) == (T + timedelta(days=11), 50 * MIN)
    # Used up before its last day: runs out on the day the pace is no longer covered.
    run_out, lost = page.project_customer([(T + timedelta(days=10), 12 * MIN)], 5 * MIN, T)
    assert (run_out, lost) == (T + timedelta(days=3), 0)
    # No recent use: everything left is projected lost.
    assert page.project_customer([(T + timedelta(days=3), 7 * MIN)], 0, T) == (None, 7 * MIN)


@settings(max_examples=300, deadline=None)
@given(hs.lists(hs.tuples(hs.integers(0, 120), hs.integers(0, 3000)), min_size=1, max_size=5),
       hs.integers(0, 200))
def test_projection_matches_a_day_by_day_walk(raw_blocks, pace_min):
    blocks = sorted((T + timedelta(days=d), m * MIN // 10) for d, m in raw_blocks)
    pace_us = pace_min * MIN // 7
    assert page.project_customer(blocks, pace_us, T) == simulate(blocks, pace_us, T)


def test_expiry_projection_per_customer(books):
    proj = page.expiry_projection(books, F(), {"beta": "Beta GmbH"}).set_index("customer_id")
    # beta: 90 billable ad-hoc + 30 no-show fee in the 30 days to T = 4 min/day; P3 has 600-120 = 480
    # left through 2026-06-30 (61 days from May 1): 244 drawn, 236 lost, runs out 2026-07-01.
    assert proj.loc["beta", "pace_per_day_us"] == 4 * MIN
    assert proj.loc["beta", "remaining_us"] == 480 * MIN
    assert proj.loc["beta", "projected_lost_us"] == 236 * MIN
    assert proj.loc["beta", "run_out"] == date(2026, 7, 1)
    assert proj.loc["beta", "customer_name"] == "Beta GmbH"
    # acme: no billable time in April, so the 30 min left in P2 are projected lost.
    assert proj.loc["acme", "pace_per_day_us"] == 0 and proj.loc["acme", "run_out"] is None
    assert proj.loc["acme", "projected_lost_us"] == 30 * MIN
    raw = page.at_risk_csv(proj.reset_index())
    # Excel needs the BOM to read UTF-8; each time for people beside its exact minutes:
    # 480 min = 8 h, 4 min a day, 236 min = 3 h 56 min.
    assert raw.decode("utf-8").startswith(
        "\ufeffcustomer,name,time left,time left (minutes),use per day,use per day (minutes),next last day,"
        "not covered from,projected to be forfeited,projected to be forfeited (minutes)\n")
    lines = raw.decode("utf-8-sig").splitlines()
    assert "beta,Beta GmbH,8 h,480.00,4 min,4.00,2026-06-30,2026-07-01,3 h 56 min,236.00" in lines
    assert "acme,,30 min,30.00,0 min,0.00,2026-05-02,,30 min,30.00" in lines


def test_expiring_by_customer_says_how_much_and_by_when(books):
    """R9: what expires within expiring_window_days (30) of T = 2026-04-30, per customer and
    last day: acme's P2 (30 min left, last day 2026-05-02); beta's P3 (last day 2026-06-30) is
    not within the window."""
    blocks = page.active_blocks(books, F())
    soon = page.expiring_by_customer(blocks, {"acme": "Acme Ltd"})
    assert soon.to_dict("records") == [{"customer_id": "acme", "customer_name": "Acme Ltd",
                                        "expires_on": date(2026, 5, 2), "expiring_us": 30 * MIN, "blocks": 1}]
    head = page.expiring_figures(soon)
    assert head == {"expiring_us": 30 * MIN, "customers": 1, "first_day": date(2026, 5, 2)}
    empty = page.expiring_by_customer(blocks[blocks["customer_id"] == "beta"])
    assert empty.empty and page.expiring_figures(empty) == {"expiring_us": 0, "customers": 0, "first_day": None}


def test_active_blocks_and_forfeited_by_month(led, books):
    act = page.active_blocks(books, F())
    assert act["purchase_id"].tolist() == ["P2", "P3"]
    blocks = led.report("blocks", T).set_index("purchase_id")
    assert minutes(act.set_index("purchase_id").loc["P3", "remaining_us"]) == Decimal(blocks.loc["P3", "remaining_minutes"])
    assert page.forfeited_by_month(books, F()).empty   # P1 was used up, nothing forfeited


def test_run_out_text():
    assert page.run_out_text([date(2026, 7, 1), None]) == ["2026-07-01", "no recent use"]
