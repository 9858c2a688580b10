"""The real dashboard in headless Chromium: every page, shared filters in the URL, a live import.

The database is tests/billing_pages/fixture.py's (T = 2026-04-30, timezone UTC), opened through links
that carry the filters (?asof=...&period=...), the way a manager shares a view.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # tests/browser is not a package: run alone, it needs the project root
    sys.path.insert(0, str(ROOT))

from billing.policy import Policy
from tests.builders import Ledger, entry, write_export
from tests.billing_pages.fixture import load_fixture

pytestmark = pytest.mark.browser

# Bound widgets write their shown labels into the URL (the period's name, "id · name").
VIEW = "asof=2026-04-30&period=This+year"
PAGES = [  # (url path, title, draws a plotly chart)
    ("", "Overview", True),
    ("usage", "Usage", True),
    ("expiring", "Expiring hours", True),
    ("alerts", "Alerts", False),
    ("cancellations", "Cancellation fees", True),
    ("data_quality", "Data quality", False),
    ("policy", "Policy", False),
]
CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot'


def build(folder: Path) -> tuple[Path, Path]:
    led = load_fixture(Ledger(folder, Policy(timezone="UTC")))
    policy = folder / "policy.toml"
    policy.write_text('timezone = "UTC"\n')
    return led.db, policy


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory):
    return build(tmp_path_factory.mktemp("browser_pages"))


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{re.escape(label)}$")))
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def open_view(page, url: str, wait_idle, query: str = VIEW) -> None:
    response = page.goto(f"{url}?{query}")
    assert response is not None and response.ok
    wait_idle(page)


@pytest.mark.parametrize("path,title,charted", PAGES)
def test_every_page_loads_and_draws(streamlit_server, shared_db, page, wait_idle, assert_no_exception,
                                    screenshot, path, title, charted):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = streamlit_server(*shared_db)
    open_view(page, f"{base}/{path}", wait_idle)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text().strip() == title
    if charted:
        page.locator(CHART).first.wait_for(state="visible")
        assert page.locator(CHART).count() >= 1
    assert errors == [], errors
    screenshot(page, f"page-{path or 'overview'}")


def test_a_filter_survives_a_page_change_and_a_reload(streamlit_server, shared_db, page, wait_idle,
                                                      assert_no_exception):
    base = streamlit_server(*shared_db)
    open_view(page, base, wait_idle)
    everyone = metric(page, "Billable")
    sidebar = page.locator('[data-testid="stSidebar"]')
    customers = sidebar.locator('[data-testid="stMultiSelect"]').first
    customers.click()
    page.get_by_role("option", name="beta · Beta GmbH").click()
    page.keyboard.press("Escape")
    wait_idle(page)
    assert "customers=beta" in page.url, page.url
    assert metric(page, "Billable") == "2 h" != everyone

    sidebar.locator('[data-testid="stSidebarNav"] a', has_text="Usage").click()
    wait_idle(page)
    page.wait_for_url(re.compile(r"/usage"))
    assert_no_exception(page)
    assert "customers=beta" in page.url and "asof=2026-04-30" in page.url, page.url
    assert metric(page, "Billable") == "2 h"

    page.reload()
    wait_idle(page)
    assert_no_exception(page)
    assert "customers=beta" in page.url, page.url
    assert metric(page, "Billable") == "2 h"
    assert "beta" in sidebar.locator('[data-testid="stMultiSelect"]').first.inner_text()


def test_an_import_from_the_command_line_shows_up_without_a_restart(
        streamlit_server, tmp_path, page, wait_idle, assert_no_exception, screenshot):
    db, policy = build(tmp_path)
    base = streamlit_server(db, policy)
    open_view(page, base, wait_idle, VIEW + "&customers=beta+%C2%B7+Beta+GmbH")
    assert metric(page, "Billable") == "2 h"

    export = write_export(tmp_path / "more", entries=[
        entry("late", "2026-04-29T09:00:00", 60, customer="beta", staff="Cy")])
    done = subprocess.run([sys.executable, "-m", "billing", "import", str(export), "--db", str(db),
                           "--policy", str(policy)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr   # no lock error: the app holds the file only while reading
    report = subprocess.run([sys.executable, "-m", "billing", "report", "summary", "--db", str(db),
                             "--policy", str(policy), "--as-of", "2026-04-30", "--format", "csv"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr

    page.reload()  # the next rerun
    wait_idle(page)
    assert_no_exception(page)
    assert metric(page, "Billable") == "3 h"
    screenshot(page, "after-cli-import")


def test_a_shared_link_to_a_page_works_as_the_first_request_of_a_fresh_server(
        streamlit_server, tmp_path, page, wait_idle, assert_no_exception):
    # Streamlit's old pages/-folder mode is on until the first st.navigation call; the first
    # request of a new server for a page's URL must still get the shell, the filters and the page.
    db, policy = build(tmp_path)
    base = streamlit_server(db, policy)
    open_view(page, f"{base}/usage", wait_idle, VIEW + "&customers=beta+%C2%B7+Beta+GmbH")
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text().strip() == "Usage"
    assert page.locator('[data-testid="stSidebar"] [data-testid="stDateInput"]').count() == 1
    assert metric(page, "Billable") == "2 h"
