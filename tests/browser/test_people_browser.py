"""Issue 11 in a real browser at 1,400 px, on the demo data over a whole year (the largest
figures): no headline metric is cut off, and neither the page's text nor a chart's axis shows
fractional minutes, None/NaN, clock times of seconds or raw codes. (Table cells are drawn on
a canvas: tests/test_pages_for_people.py checks them through AppTest.)"""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.builders import demo_database
from tests.test_pages_for_people import FORBIDDEN, RAW

pytestmark = pytest.mark.browser

TODAY = date(2026, 11, 29)
PATHS = ["", "usage", "expiring", "alerts", "cancellations", "statement", "customer_links", "data_quality", "import", "policy"]
CUT_OFF = """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
  .filter(m => [m, ...m.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1))
  .map(m => m.innerText)"""


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("people_browser")
    db = demo_database(folder, TODAY)
    policy = folder / "policy.toml"
    policy.write_text('timezone = "UTC"\n')
    return db, policy


@pytest.mark.parametrize("path", PATHS)
def test_a_page_at_1400_px_shows_whole_figures_and_words(streamlit_server, demo_db, browser, wait_idle,
                                                         assert_no_exception, screenshot, path):
    base = streamlit_server(*demo_db)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{base}/{path}?asof={TODAY}&period=This+year")
        wait_idle(page)
        page.wait_for_timeout(800)   # charts draw after the script has finished
        assert_no_exception(page)
        assert page.evaluate(CUT_OFF) == []
        text = page.locator('[data-testid="stMain"]').inner_text()
        ticks = page.evaluate("() => [...document.querySelectorAll('.xtick text, .ytick text')]"
                              ".map(e => e.textContent || '')")
        for piece in [text, *ticks]:
            assert not FORBIDDEN.search(piece), FORBIDDEN.search(piece)
            assert not RAW.search(piece), RAW.search(piece)
        screenshot(page, f"people-{path or 'overview'}")
    finally:
        context.close()
