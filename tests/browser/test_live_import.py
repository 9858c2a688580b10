"""The real dashboard browsed in Chromium while `python -m billing import` runs, several times.

Pages are reloaded over and over while each import runs: never an exception box, every
figure shown is the one of the version before or the version after the import (never
something else), and after each import the next rerun shows the new data version and its
figures.
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

from tests.test_concurrency import write_export  # noqa: E402

pytestmark = pytest.mark.browser

VIEW = "asof=2026-06-30&period=This+year"
PAGES = ["", "usage", "expiring"]
IMPORTS = 3


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{re.escape(label)}$")))
    return box.locator('[data-testid="stMetricValue"]').first.inner_text().strip()


def shown_version(page) -> int:
    """Which import the sidebar says the data comes from ("Data from the import of 30 Nov 2026
    05:12 UTC (4 files from export1)"): import k is the one of folder export{k-1}."""
    text = page.locator('[data-testid="stSidebar"]').inner_text()
    found = re.search(r"Data from the import of .*? \(\d+ files from export(\d+)\)", text)
    assert found, f"no import named in the sidebar: {text[:300]}"
    assert "data version" not in text
    return int(found.group(1)) + 1


def cli_import(folder: Path, db: Path, policy: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "billing", "import", str(folder), "--db", str(db),
                             "--policy", str(policy)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_pages_reloaded_while_the_command_line_imports_show_no_error_and_then_the_new_data(
        streamlit_server, tmp_path, page, wait_idle, assert_no_exception, screenshot):
    exports = [write_export(tmp_path / f"export{k}", seed=k + 1, entries=40_000) for k in range(IMPORTS + 1)]
    db = tmp_path / "live.duckdb"
    policy = tmp_path / "policy.toml"
    policy.write_text('timezone = "UTC"\n')
    first = cli_import(exports[0], db, policy)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    base = streamlit_server(db, policy)
    page.goto(f"{base}/?{VIEW}")
    wait_idle(page)
    assert_no_exception(page)
    billable = {shown_version(page): metric(page, "Billable")}
    assert list(billable) == [1]

    reloads_during = 0
    for k, folder in enumerate(exports[1:], start=2):
        before = billable[k - 1]
        proc = cli_import(folder, db, policy)
        n = 0
        while proc.poll() is None:
            path = PAGES[n % len(PAGES)]
            n += 1
            page.goto(f"{base}/{path}?{VIEW}")
            wait_idle(page, timeout=60_000)
            assert_no_exception(page)
            if path == "" and page.locator('[data-testid="stMetric"]').count():
                version = shown_version(page)
                assert version in (k - 1, k), version
                if version == k - 1:
                    assert metric(page, "Billable") == before
        reloads_during += n          # page loads started while the import ran
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        page.goto(f"{base}/?{VIEW}")
        wait_idle(page)
        assert_no_exception(page)
        assert shown_version(page) == k
        billable[k] = metric(page, "Billable")
        assert billable[k] != before, billable
    screenshot(page, "live-import-after")
    assert reloads_during >= IMPORTS, "the pages were not reloaded while the imports ran"
