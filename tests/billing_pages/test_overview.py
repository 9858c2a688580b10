"""billing.pages.overview against the engine's reports."""
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
from billing.pages import overview as page


# --------------------------------------------------------------------------- overview
def test_overview_billable_equals_the_daily_report_for_the_period(led, books):
    f = F("2026-01-01", "2026-04-30")
    ov = page.overview(books, f)
    assert minutes(ov.billable.value_us) == daily_sum(led, "billable_minutes", f.start, f.end)
    assert minutes(ov.uncovered.value_us) == daily_sum(led, "uncovered_minutes", f.start, f.end) == 15  # R8
    assert minutes(ov.fees.value_us) == daily_sum(led, "fee_minutes", f.start, f.end) == 60  # C1 + A4 (R6)
    assert minutes(ov.general.value_us) == Decimal("40.5")  # R2: e4 + b3, unrounded
    assert ov.fee_count == 2


def test_overview_filters_change_the_figures(led, books):
    everyone = page.overview(books, F())
    beta = page.overview(books, F(customers=["beta"]))
    assert everyone.billable.value_us != beta.billable.value_us
    # beta: 60 + 30 ad-hoc (R5: already multiples of 30) + 30 no-show fee
    assert minutes(beta.billable.value_us) == daily_sum(led, "billable_minutes", date(2026, 1, 1), T, "beta") == 120
    april = page.overview(books, F("2026-04-01", "2026-04-30"))
    assert minutes(april.billable.value_us) == 120
    assert minutes(april.billable.previous_us) == 0   # March: nothing
    assert april.billable.delta_text == "+2 h vs previous period"


def test_overview_lists_uncovered_customers_and_the_most_urgent_blocks(books):
    ov = page.overview(books, F())
    assert ov.uncovered_customers["customer_id"].tolist() == ["acme"]
    assert minutes(ov.uncovered_customers.loc[0, "uncovered_us"]) == 15
    # P2 (acme, 30 min left, last day 2026-05-02) is more urgent than P3 (beta, 2026-06-30).
    assert ov.urgent_blocks["purchase_id"].tolist() == ["P2", "P3"]
    assert ov.urgent_blocks["days_left"].tolist() == [2, 61]
    assert minutes(ov.expiring.value_us) == 30  # only P2 is within 30 days (R9)


def test_forfeited_in_the_last_90_days_counts_blocks_expired_since_t_minus_90(tmp_path):
    led = Ledger(tmp_path, POLICY)
    led.load(entries=[entry("x", "2026-01-05T09:00:00", 30)],
             purchases=[purchase("old", "2025-10-01", 1), purchase("recent", "2026-01-02", 1)])
    b = led.books(T)
    ov = page.overview(b, F())
    # 'old' expired 2025-12-30 (more than 90 days before T), 'recent' 2026-04-02: 30 min left lost.
    blocks = led.report("blocks", T).set_index("purchase_id")
    assert blocks.loc["recent", "forfeited_minutes"] == "30.00"
    assert blocks.loc["old", "forfeited_minutes"] == "60.00"
    assert minutes(ov.forfeited_90d.value_us) == 30


def test_overview_of_an_empty_database_is_empty(tmp_path):
    led = Ledger(tmp_path, POLICY)
    led.load(customers=[{"customer_id": "z", "customer_name": "Zed"}])
    ov = page.overview(led.books(T), F())
    assert ov.empty and ov.billable.value_us == 0 and ov.urgent_blocks.empty
