"""Issue 11: at 1,400 px wide, with the sidebar open, every table of every page shows all its
columns without a sideways scroll: long explanations wrap in their column (Data quality's
"what to do"), names and kinds wrap, times say their zone in the column's help (Import
history's "undone" sits beside "imported"). On the demo with the books over time, so the
Adjustments, Alerts and Cancellation tables are full.

A table's cells are drawn on a canvas: a column is on screen when the grid needs no
horizontal scroll (its scroller's content is no wider than the scroller) and the grid's
accessible header row names it."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.builders import demo_over_time  # noqa: E402

pytestmark = pytest.mark.browser

TODAY = date(2026, 11, 29)
# Every page, and the columns that must be on screen in one of its tables.
PAGES = {"": ["uncovered", "adjust"], "usage": ["rounding adds"], "expiring": ["projected forfeited", "adjust"],
         "alerts": ["to forfeit", "reached", "status"], "cancellations": ["waived", "cancelled at", "adjust"],
         "adjustments": ["reason", "recorded (UTC)", "voided"], "statement": ["paid by"],
         "customer_links": [], "data_quality": ["what to do", "adjust", "undone"],
         "import": ["imported", "undone", "rejected"], "policy": ["in words", "key", "reason"]}
TABLES = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
  .filter(df => df.offsetParent !== null)       // a table in a tab not shown has no size
  .map(df => {
    const s = df.querySelector('.dvn-scroller');
    return {scroll: s ? s.scrollWidth : null, width: s ? s.clientWidth : null,
            heads: [...df.querySelectorAll('[role="columnheader"]')].map(h => h.innerText.trim())};
  })"""


@pytest.fixture(scope="module")
def over_time(tmp_path_factory):
    db, policy, _ = demo_over_time(tmp_path_factory.mktemp("table_widths"), TODAY)
    return db, policy


@pytest.mark.parametrize("path", list(PAGES))
def test_every_table_shows_all_its_columns_at_1400_px(streamlit_server, over_time, opened, screenshot, path):
    base = streamlit_server(*over_time)
    # settle: the grids size their columns after the script has finished
    with opened(f"{base}/{path}?asof={TODAY}&period=This+year&customer=C1014", settle_ms=1000) as page:
        closed = page.locator('[data-testid="stExpander"] details:not([open]) > summary')
        for _ in range(closed.count()):
            closed.first.click()     # the tables in an expander too
        page.wait_for_timeout(1000)
        tables = page.evaluate(TABLES)
        assert tables or not PAGES[path], "no table on the page"
        for t in tables:
            assert t["scroll"] is not None, t
            assert t["scroll"] <= t["width"] + 1, f"{t['scroll']} px of columns in {t['width']} px: {t['heads']}"
        heads = {h for t in tables for h in t["heads"]}
        for wanted in PAGES[path]:
            assert wanted in heads, (wanted, sorted(heads))
        screenshot(page, f"tables-1400-{path or 'overview'}")
