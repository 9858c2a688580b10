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


# --------------------------------------------------------------------------- the data in the sidebar
def test_the_sidebar_says_which_import_the_data_comes_from_not_a_version_number(tmp_path):
    """Issue 11: "Data from the import of 29 Nov 2026 23:45 EST (3 files from export)", and the
    newest change since it in words; the times in the policy's zone (the database keeps UTC)."""
    from datetime import datetime

    from billing import adjustments
    from billing.load import import_export, undo_import

    led = Ledger(tmp_path)
    db = led.db
    folder = tmp_path / "export"
    from tests.builders import write_export
    write_export(folder, entries=[entry("e1", "2026-04-01T10:00", 30)], purchases=[purchase("P1", "2026-03-01", 2)],
                 customers=[{"customer_id": "acme", "customer_name": "Acme"}])
    import_export(db, folder, policy=Policy(timezone="UTC"), now=datetime(2026, 11, 30, 4, 45))
    zone = "America/New_York"   # 04:45 UTC on 30 Nov is 23:45 EST on 29 Nov
    origin = appdata.data_origin(db, appdata.current_version(db).number)
    assert page.data_text(origin, zone) == "Data from the import of 29 Nov 2026 23:45 EST (3 files from export)"
    adjustments.record(db, "credit", "acme", on=date(2026, 4, 2), by="ann", reason="goodwill", minutes="30",
                       policy=Policy(timezone="UTC"), now=datetime(2026, 11, 30, 14, 5))
    origin = appdata.data_origin(db, appdata.current_version(db).number)
    assert page.data_text(origin, zone) == ("Data from the import of 29 Nov 2026 23:45 EST (3 files from export); "
                                            "since then, adjustment 1 recorded 30 Nov 2026 09:05 EST")
    write_export(tmp_path / "second", entries=[entry("e2", "2026-04-02T10:00", 30)])
    second = import_export(db, tmp_path / "second", policy=Policy(timezone="UTC"), now=datetime(2026, 12, 1, 12))
    undo_import(db, second.import_id, now=datetime(2026, 12, 1, 13))
    origin = appdata.data_origin(db, appdata.current_version(db).number)
    assert page.data_text(origin, zone) == ("Data from the import of 29 Nov 2026 23:45 EST (3 files from export); "
                                            "since then, import 2 undone 1 Dec 2026 08:00 EST")
    assert page.data_text((None, None), zone) == "No data imported yet"
