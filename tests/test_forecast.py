"""billing.forecast: a customer's pace and each block's projected forfeiture (R8, R9)."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from billing import forecast
from billing.policy import US_PER_MINUTE as MIN

T = date(2026, 4, 30)


def blocks(*rows):
    return pd.DataFrame([{"customer_id": c, "purchase_id": p, "expires_on": T + timedelta(days=d),
                          "remaining_us": m * MIN} for c, p, d, m in rows])


def test_each_block_gets_its_own_share_of_the_projected_forfeiture():
    # 5 min a day from May 1. A (30 min, last day in 10 days) is drawn first and used up on
    # day 6; B (100 min, last day in 20 days) then gives 5 min on days 7..20 = 70, keeps 30.
    per_block, _ = forecast.project_blocks(blocks(("acme", "A", 10, 30), ("acme", "B", 20, 100)),
                                           pd.Series({"acme": 5 * MIN}), T)
    assert per_block["projected_lost_us"].tolist() == [0, 30 * MIN]
    # A with 100 min: days 1..10 draw 50 of it (50 lost); B gives days 11..20, 50 (50 lost).
    per_block, _ = forecast.project_blocks(blocks(("acme", "A", 10, 100), ("acme", "B", 20, 100)),
                                           pd.Series({"acme": 5 * MIN}), T)
    assert per_block["projected_lost_us"].tolist() == [50 * MIN, 50 * MIN]
    summary = forecast.project(blocks(("acme", "A", 10, 100), ("acme", "B", 20, 100)),
                               pd.Series({"acme": 5 * MIN}), T)
    assert summary.iloc[0]["projected_lost_us"] == 100 * MIN
    assert summary.iloc[0]["run_out"] == T + timedelta(days=21)


def test_customers_do_not_share_blocks_and_no_pace_loses_everything():
    per_block, _ = forecast.project_blocks(blocks(("acme", "A", 3, 10), ("beta", "B", 3, 10)),
                                           pd.Series({"acme": 4 * MIN}), T)
    # acme draws 12 of 10 by day 3 (nothing lost); beta has no pace: all 10 are lost.
    assert per_block.set_index("purchase_id")["projected_lost_us"].to_dict() == {"A": 0, "B": 10 * MIN}
