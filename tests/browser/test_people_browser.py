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
def test_a_page_at_1400_px_shows_whole_figures_and_words(streamlit_server, demo_db, opened, screenshot, path):
    base = streamlit_server(*demo_db)
    with opened(f"{base}/{path}?asof={TODAY}&period=This+year") as page:   # charts draw after the script
        assert page.evaluate(CUT_OFF) == []
        text = page.locator('[data-testid="stMain"]').inner_text()
        ticks = page.evaluate("() => [...document.querySelectorAll('.xtick text, .ytick text')]"
                              ".map(e => e.textContent || '')")
        for piece in [text, *ticks]:
            assert not FORBIDDEN.search(piece), FORBIDDEN.search(piece)
            assert not RAW.search(piece), RAW.search(piece)
        screenshot(page, f"people-{path or 'overview'}")


def test_a_cjk_customer_name_is_drawn_with_the_dashboards_own_font(streamlit_server, demo_db, opened, screenshot):
    """The demo's C1035 is "Nakamura Trading 中村商事". This machine has no CJK font (the
    boxes issue 11 saw): the dashboard serves its own (static/fonts, [[theme.fontFaces]]
    "hourbank-cjk"), the browser fetches it for a page with such characters, and the charts
    name it in their font stack (billing.pages.colours.FONT_FAMILY)."""
    from billing.pages.colours import FONT_FAMILY

    base = streamlit_server(*demo_db)
    fetched = []

    def listen(page):
        page.on("response", lambda r: fetched.append((r.url, r.status)) if "DroidSansFallback" in r.url else None)

    with opened(f"{base}/expiring?asof={TODAY}&period=This+year", settle_ms=1500, before=listen) as page:
        names = page.evaluate("() => [...document.querySelectorAll('.main-svg text')]"
                              ".filter(t => t.textContent.includes('中村商事'))"
                              ".map(t => getComputedStyle(t).fontFamily)")
        assert names and all("hourbank-cjk" in f for f in names), names
        assert FONT_FAMILY.replace('"', "") == names[0].replace('"', "")
        page.wait_for_function("() => [...document.fonts].some(f => f.family.includes('hourbank-cjk') "
                               "&& f.status === 'loaded')", timeout=15_000)
        assert fetched and all(url.startswith(base) and status == 200 for url, status in fetched), fetched
        screenshot(page, "cjk-name-in-a-chart")
