"""billing.pages.common: filters, periods, hours text."""
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
from billing.pages import common as page


# --------------------------------------------------------------------------- filters
@pytest.mark.parametrize("preset,start,end", [
    ("last_30_days", "2026-04-01", "2026-04-30"),
    ("this_month", "2026-04-01", "2026-04-30"),
    ("last_month", "2026-03-01", "2026-03-31"),
    ("this_year", "2026-01-01", "2026-04-30"),
    ("last_90_days", "2026-01-31", "2026-04-30"),
])
def test_period_presets_are_relative_to_t(preset, start, end):
    assert page.period_bounds(preset, T) == (date.fromisoformat(start), date.fromisoformat(end))


def test_custom_period_is_ordered_and_never_after_t():
    got = page.period_bounds("custom", T, (date(2026, 6, 1), date(2026, 2, 1)))
    assert got == (date(2026, 2, 1), T)
    with pytest.raises(ValueError, match="unknown period"):
        page.period_bounds("fortnight", T)


def test_previous_period_has_the_same_length_just_before():
    p = F("2026-04-01", "2026-04-30").previous()
    assert (p.start, p.end) == (date(2026, 3, 2), date(2026, 3, 31))


def test_hours_text_is_the_one_people_style():
    assert page.hours_text(90 * MIN) == "1 h 30 min"
    assert page.hours_text([45 * MIN, 120 * MIN]) == ["45 min", "2 h"]
