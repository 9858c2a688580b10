"""billing.pages.cancellations: R6 in the page's words."""
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
from billing.pages import cancellations as page


# --------------------------------------------------------------------------- cancellation fees
def test_cancellations_kinds_fees_and_notice(books):
    c = page.cancellations(books, F()).set_index("appointment_id")
    assert c.loc["C1", "kind"] == "late cancellation" and c.loc["C1", "fee_us"] == 30 * MIN
    assert c.loc["A3", "kind"] == "staff cancellation (free)" and c.loc["A3", "fee_us"] == 0
    assert c.loc["A4", "kind"] == "no-show" and c.loc["A4", "fee_us"] == 30 * MIN
    assert c.loc["A5", "kind"] == "cancelled in time (free)" and c.loc["A5", "fee_us"] == 0  # exactly 24 h
    assert page.notice_text(c.loc["C1", "notice_us"]) == "10 h"
    hist = page.notice_histogram(c.reset_index()).set_index(["notice", "who"])["count"]
    assert hist[("6-12 h", "by the customer")] == 1
    assert hist[("24-48 h", "by the customer")] == 1   # 24 h exactly is free: not in 12-24 h
    assert hist[("24-48 h", "by staff")] == 1
    by_cust = page.fees_by_customer(c.reset_index()).set_index("customer_id")
    assert by_cust.loc["acme", "late_cancellations"] == 1 and by_cust.loc["beta", "no_shows"] == 1
    month = page.fees_by_month(c.reset_index())
    assert month["fee_us"].sum() == 60 * MIN


def test_cancellations_follow_period_customer_and_staff_filters(books):
    assert page.cancellations(books, F("2026-04-01", "2026-04-30"))["appointment_id"].tolist() == ["A3", "A4", "A5"]
    assert page.cancellations(books, F(customers=["acme"]))["appointment_id"].tolist() == ["C1"]
    assert page.cancellations(books, F(staff=["Ann"]))["appointment_id"].tolist() == ["C1"]
