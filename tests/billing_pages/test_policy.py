"""billing.pages.policy: the rules in words, what-if."""
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
from billing.pages import policy as page


# --------------------------------------------------------------------------- policy
def test_rule_explanations_use_the_policy_numbers():
    text = dict(page.rule_explanations(Policy(rounding_increment_minutes=15, late_cancellation_minutes=45)))
    assert set(text) == {f"R{i}" for i in range(1, 15)}
    assert "Nothing rolls over" in text["R13"] and "invoiced separately" in text["R14"]
    over = dict(page.rule_explanations(Policy(rollover_days=30, rollover_max_minutes=90, overage="carry")))
    assert "stays usable 30 more days (at most 1 h 30 min)" in over["R13"]
    assert "the customer's next block pays it first" in over["R14"]
    assert "next 15 minutes" in text["R5"] and "billed 45 min" in text["R5"]
    assert "billed 45 min; a no-show is billed 30 min" in text["R6"]


def test_what_if_15_minute_increment_equals_the_engine_under_that_policy(led, books):
    changed_policy = POLICY.with_changes(rounding_increment_minutes=15)
    changed = led.books(T, changed_policy)
    table = page.what_if(books, changed, F()).set_index("figure")
    # acme Jan 12: 35 → 45 (not 60); Feb 3: 10 → 15 (not 30); beta's 60 and 30 stay.
    assert minutes(table.loc["Ad-hoc, rounded", "difference_us"]) == -30
    engine = daily_frame(changed)
    assert table.loc["Billable", "what_if_us"] == engine["billable_us"].sum()
    assert table.loc["Billable", "active_us"] == daily_frame(books)["billable_us"].sum()
    by_cust = page.what_if_by_customer(books, changed, F()).set_index("customer_id")
    assert minutes(by_cust.loc["acme", "difference_us"]) == -30 and by_cust.loc["beta", "difference_us"] == 0
