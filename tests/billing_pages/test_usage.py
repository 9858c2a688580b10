"""billing.pages.usage against the engine's reports."""
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
from billing.pages import usage as page
from billing.pages.common import csv_bytes


# --------------------------------------------------------------------------- usage
def test_usage_over_time_shows_raw_vs_rounded_ad_hoc(led, books):
    over = page.usage_over_time(books, F(customers=["acme"]), "day")
    row = over[over["bucket"] == pd.Timestamp("2026-01-12")].iloc[0]
    assert minutes(row["adhoc_raw_us"]) == 35 and minutes(row["adhoc_billed_us"]) == 60  # R5
    assert minutes(row["rounding_us"]) == 25
    totals = page.usage_totals(books, F())
    assert minutes(totals["adhoc_billed_us"]) == daily_sum(led, "adhoc_billed_minutes", date(2026, 1, 1), T)
    assert minutes(totals["rounding_us"]) == daily_sum(led, "adhoc_billed_minutes", date(2026, 1, 1), T) \
        - daily_sum(led, "adhoc_raw_minutes", date(2026, 1, 1), T)


def test_usage_buckets_by_week_and_month(books):
    month = page.usage_over_time(books, F(), "month")
    assert month["bucket"].dt.day.unique().tolist() == [1]
    assert month["billable_us"].sum() == page.usage_over_time(books, F(), "day")["billable_us"].sum()
    week = page.usage_over_time(books, F(), "week")
    assert set(week["bucket"].dt.day_of_week) == {0}


def test_usage_by_customer_keeps_top_n_and_sums_the_rest(books):
    top1 = page.usage_by_customer(books, F(), top_n=1, names={"acme": "Acme Ltd"})
    assert top1["customer"].tolist() == ["acme · Acme Ltd", "1 other customer"]
    total = page.usage_by_customer(books, F(), top_n=10)["billable_us"].sum()
    assert top1["billable_us"].sum() == total


def test_usage_by_staff_and_activity_from_the_entries(led):
    v = appdata.current_version(led.db).number
    e = appdata.entry_usage(led.db, v, POLICY, T, date(2026, 1, 1), T)
    by_staff = page.usage_by(e, "staff").set_index("staff")
    assert minutes(by_staff.loc["Ann", "adhoc_us"]) == 15      # e1 + e5
    assert minutes(by_staff.loc["Ann", "session_us"]) == 45    # e3 (R4)
    assert minutes(by_staff.loc["Ann", "general_us"]) == Decimal("0.5")
    assert minutes(by_staff.loc["Cy", "total_us"]) == 90       # b4 is after T
    by_activity = page.usage_by(e, "activity").set_index("activity")
    assert minutes(by_activity.loc["setup", "adhoc_us"]) == 75  # e1 + e5 + b1
    only_cy = appdata.entry_usage(led.db, v, POLICY, T, date(2026, 1, 1), T, (), ("Cy",))
    assert page.usage_by(only_cy, "staff")["staff"].tolist() == ["Cy"]
    only_acme = appdata.entry_usage(led.db, v, POLICY, T, date(2026, 1, 1), T, ("acme",))
    assert "Cy" not in page.usage_by(only_acme, "staff")["staff"].tolist()


def test_usage_table_is_exact_minutes_text(books):
    table = page.usage_table(page.usage_over_time(books, F(customers=["acme"]), "month"))
    jan = table[table["period starting"] == "2026-01-01"].iloc[0]
    assert jan["ad-hoc logged (minutes)"] == "35.00" and jan["ad-hoc billed (minutes)"] == "60.00"
    assert jan["ad-hoc logged"] == "35 min" and jan["ad-hoc billed"] == "1 h" and jan["billable"] == "2 h 15 min"
    # a spreadsheet's file: the BOM tells Excel it is UTF-8; people's text beside the exact minutes,
    # the columns in words (no engine names such as adhoc_raw)
    assert csv_bytes(table).decode("utf-8").startswith(
        "\ufeffperiod starting,billable,billable (minutes),free General Support,free General Support (minutes)")
    assert not any("_" in c for c in table.columns)


def test_an_excluded_entry_is_not_counted_as_logged_time(tmp_path):
    # R10: excluding e5 (Ann's 10 min of ad hoc on Feb 3) leaves Ann e1's 5 min of ad hoc.
    from billing import adjustments

    led = load_fixture(Ledger(tmp_path, POLICY))
    adjustments.record(led.db, "exclude", "e5", on=date(2026, 2, 5), by="Lead", reason="timer left on",
                       policy=POLICY)
    v = appdata.current_version(led.db).number
    e = appdata.entry_usage(led.db, v, POLICY, T, date(2026, 1, 1), T)
    assert minutes(page.usage_by(e, "staff").set_index("staff").loc["Ann", "adhoc_us"]) == 5
    before = appdata.entry_usage(led.db, v, POLICY, date(2026, 2, 4), date(2026, 1, 1), date(2026, 2, 4))
    assert minutes(page.usage_by(before, "staff").set_index("staff").loc["Ann", "adhoc_us"]) == 15  # not yet
