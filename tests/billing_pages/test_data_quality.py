"""billing.pages.data_quality: review, rejects, unmapped clients."""
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
from billing.pages import data_quality as page


# --------------------------------------------------------------------------- data quality
def test_review_counts_and_filter(led, books):
    v = appdata.current_version(led.db).number
    rv = appdata.review(led.db, v, POLICY, T)
    with open_db(led.db, read_only=True) as con:
        assert len(rv) == len(report(con, "review", POLICY, T))
    counts = dict(page.review_counts(rv).itertuples(index=False))
    assert counts == {"entry under one minute": 1}   # b3, 0.5 min
    assert page.review_for(rv, F(customers=["acme"])).empty


def test_rejected_rows_are_listed_with_where_and_what_to_do(tmp_path):
    led = Ledger(tmp_path, POLICY)
    led.load(entries=[entry("ok", "2026-04-01T09:00:00", 30), entry("bad", "2026-04-01T09:00:00", "1e1")])
    v = appdata.current_version(led.db).number
    imports, rejects = appdata.recent_imports(led.db, v)
    assert imports["rejected"].tolist() == [1]
    shown = page.rejects_with_action(rejects)
    assert shown["what_to_do"].iloc[0].startswith("correct time_entries.csv, line 3, column 'minutes' in the export")
