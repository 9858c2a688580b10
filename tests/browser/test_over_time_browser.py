"""The books over time (R10–R14) in a real browser: the pages that show them, loaded on the demo
data with a close through October, a late entry, adjustments of each kind, rollover and a dated
change of rounding (tests.builders.demo_over_time). Each page runs without an exception, says
what it should in words (the close in force, a late change, a reason), and shows no raw code or
engine-made block id."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.builders import demo_over_time
from tests.test_pages_for_people import FORBIDDEN, RAW

pytestmark = pytest.mark.browser

TODAY = date(2026, 11, 29)
CLOSED = "Books closed through 2026-10-31 (closing 1, by lead@example.com"
CUSTOMER = "C1014"  # links carry ids (issue 11)
PAGES = [  # (path, extra query, title, texts the page must show)
    ("", "", "Overview", [CLOSED, "Late changes to closed days", "credited as a block"]),
    ("usage", "", "Usage", [CLOSED, "Late changes to closed days, posted in the period"]),
    ("expiring", "", "Expiring hours", [CLOSED]),
    ("cancellations", "", "Cancellation fees", [CLOSED, "Fees waived"]),
    ("statement", f"&customer={CUSTOMER}", "Customer statement",
     [CLOSED, "Corrections (adjustments)", "Each reason is printed on the customer's statement"]),
    ("policy", "", "Policy", [CLOSED, "Dated changes", "Closings"]),
    ("adjustments", "", "Adjustments", ["The reason is printed on the customer's statement"]),
]


@pytest.fixture(scope="module")
def over_time(tmp_path_factory):
    db, policy, _ = demo_over_time(tmp_path_factory.mktemp("over_time_browser"), TODAY)
    return db, policy


@pytest.mark.parametrize("path,query,title,texts", PAGES)
def test_a_page_shows_the_books_over_time_in_words(streamlit_server, over_time, opened, screenshot,
                                                   path, query, title, texts):
    base = streamlit_server(*over_time)
    errors: list[str] = []
    with opened(f"{base}/{path}?asof={TODAY}&period=This+year{query}",   # charts draw after the script
                before=lambda page: page.on("pageerror", lambda exc: errors.append(str(exc)))) as page:
        assert page.locator("h1").first.inner_text().strip() == title
        text = page.locator('[data-testid="stMain"]').inner_text()
        for wanted in texts:
            assert wanted in text, wanted
        assert not FORBIDDEN.search(text), FORBIDDEN.search(text)
        assert not RAW.search(text), RAW.search(text)
        assert errors == [], errors
        screenshot(page, f"over-time-{path or 'overview'}")
