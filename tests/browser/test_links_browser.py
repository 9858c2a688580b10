"""Issue 11 in Chromium on the demo data: a link by id (and the as-of date) survives a page
change; a link to a customer's statement selects it; a download right after typing dates holds
the statement the page shows (it held the previous period before); the at-risk CSV opens in
Excel with accents (BOM) and reads in hours and minutes; the undo selector follows an import."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.builders import demo_database, entry, write_export

pytestmark = pytest.mark.browser

TODAY = date(2026, 11, 29)
SIDEBAR = '[data-testid="stSidebar"]'


def build(folder: Path) -> tuple[Path, Path]:
    db = demo_database(folder, TODAY)
    policy = folder / "policy.toml"
    policy.write_text('timezone = "UTC"\n')
    return db, policy


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build(tmp_path_factory.mktemp("links_browser"))


def open_page(page, url: str, wait_idle) -> None:
    response = page.goto(url)
    assert response is not None and response.ok
    wait_idle(page)


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{re.escape(label)}$")))
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_a_link_by_id_keeps_its_customer_and_date_across_pages(streamlit_server, demo, page, wait_idle,
                                                               assert_no_exception, screenshot):
    base = streamlit_server(*demo)
    open_page(page, f"{base}/?customers=C1003&asof=2026-11-20", wait_idle)
    assert_no_exception(page)
    chosen = page.locator(SIDEBAR).locator('[data-testid="stMultiSelect"]').first.inner_text()
    assert "C1003 · Café Müller GmbH" in chosen
    assert "customers=C1003" in page.url and "asof=2026-11-20" in page.url and "period=last_30_days" in page.url
    billable = metric(page, "Billable")
    page.locator(SIDEBAR).locator('[data-testid="stSidebarNav"] a', has_text="Usage").click()
    page.wait_for_url(re.compile(r"/usage"))
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('customers=C1003')")
    assert "asof=2026-11-20" in page.url and "%C2%B7" not in page.url   # ids, never labels
    assert metric(page, "Billable") == billable
    screenshot(page, "link-by-id-usage")


def test_a_link_to_a_customers_statement_selects_it(streamlit_server, demo, page, wait_idle, assert_no_exception):
    base = streamlit_server(*demo)
    open_page(page, f"{base}/statement?customer=C1004&asof=2026-11-29", wait_idle)
    assert_no_exception(page)
    assert page.get_by_role("combobox", name="Customer", exact=True).input_value() == "C1004 · Łódź Design"
    assert "customer=C1004" in page.url


def downloaded_period(page, label: str) -> tuple[str, str, str]:
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = dict(line.split(",", 1) for line in text.splitlines() if line.startswith(("First day,", "Last day,")))
    return download.suggested_filename, rows["First day"], rows["Last day"]


def test_a_download_right_after_typing_dates_holds_the_statement_shown(streamlit_server, demo, page, wait_idle,
                                                                       assert_no_exception, screenshot):
    base = streamlit_server(*demo)
    open_page(page, f"{base}/statement?customer=C1001&asof=2026-11-29", wait_idle)
    shown = page.locator('[data-testid="stCaptionContainer"]', has_text="Downloads:").inner_text()
    assert "2026-10-31 – 2026-11-29" in shown
    # Type September and click the download at once (the field applies a date when it loses focus).
    page.get_by_role("spinbutton", name="month, Statement period start date").click()
    page.keyboard.type("0901")
    page.get_by_role("spinbutton", name="month, Statement period end date").click()
    page.keyboard.type("0930")
    name, first, last = downloaded_period(page, "Download CSV")
    wait_idle(page)
    assert (first, last) == ("2026-10-31", "2026-11-29") and name.endswith("-2026-10-31-to-2026-11-29.csv")
    # ... which is the statement the page still shows (before: the page moved to September, the file did not).
    assert "2026-10-31 – 2026-11-29" in page.locator('[data-testid="stCaptionContainer"]',
                                                     has_text="Downloads:").inner_text()
    page.get_by_role("spinbutton", name="month, Statement period start date").click()
    page.keyboard.type("0901")
    page.get_by_role("spinbutton", name="month, Statement period end date").click()
    page.keyboard.type("0930")
    page.get_by_role("button", name="Show statement").click()
    wait_idle(page)
    assert_no_exception(page)
    assert "2026-09-01 – 2026-09-30" in page.locator('[data-testid="stCaptionContainer"]',
                                                     has_text="Downloads:").inner_text()
    note = page.locator('[data-testid="stAlert"]', has_text="sidebar").inner_text()
    assert "2026-09-01 – 2026-09-30" in note and "2026-10-31 – 2026-11-29" in note
    name, first, last = downloaded_period(page, "Download CSV")
    assert (first, last) == ("2026-09-01", "2026-09-30") and name == "statement-C1001-2026-09.csv"
    assert "statement_period=2026-09-01..2026-09-30" in page.url
    screenshot(page, "statement-applied-period")


def test_the_at_risk_csv_has_a_bom_hours_and_minutes_and_names(streamlit_server, demo, page, wait_idle):
    base = streamlit_server(*demo)
    open_page(page, f"{base}/expiring?asof=2026-11-29", wait_idle)
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("Download the at-risk customers")).click()
    raw = Path(info.value.path()).read_bytes()
    assert raw.decode("utf-8").startswith("\ufeffcustomer,name,time left,time left (minutes),")
    lines = raw.decode("utf-8-sig").splitlines()
    assert len(lines) > 1
    for line in lines[1:]:
        cells = line.split(",")
        assert re.fullmatch(r"C\d{4}", cells[0]) and cells[1]
        assert re.fullmatch(r"(\d+ h)?( ?\d+ min)?", cells[2]) and re.fullmatch(r"\d+\.\d{2}", cells[3])


def test_the_undo_selector_offers_the_newest_import_after_one_from_the_command_line(
        streamlit_server, tmp_path, page, wait_idle, assert_no_exception):
    db, policy = build(tmp_path)
    base = streamlit_server(db, policy)
    open_page(page, f"{base}/import?asof=2026-11-29", wait_idle)
    selector = page.get_by_role("combobox", name="Undo import", exact=True)
    assert selector.input_value() == "1"
    export = write_export(tmp_path / "more", entries=[entry("late", "2026-11-28T09:00:00", 60, customer="C1001",
                                                            staff="Ana Souza")])
    done = subprocess.run([sys.executable, "-m", "billing", "import", str(export), "--db", str(db),
                           "--policy", str(policy)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    page.get_by_text(re.compile("^Yes, undo import 1")).click()   # a rerun, same session
    wait_idle(page)
    assert_no_exception(page)
    assert selector.input_value() == "2"
    assert page.get_by_role("checkbox", name=re.compile("Yes, undo import 2")).is_checked() is False
