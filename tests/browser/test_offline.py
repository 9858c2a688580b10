"""Nothing the dashboard shows is fetched from the internet (issue 11).

The dashboard runs on a machine that may have no way out, and a request to a third party tells
it who is looking at the billing figures. Every page is opened in Chromium with every request
recorded: all of them go to the dashboard's own server on 127.0.0.1 (or are data:/blob: URLs,
which never leave the browser). The favicon was the one exception (a ":material/...:" page icon
is fetched from fonts.gstatic.com); it is now static/favicon.svg, inlined by Streamlit.
"""
from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # tests/browser is not a package: run alone, it needs the project root
    sys.path.insert(0, str(ROOT))

from billing.policy import Policy
from tests.billing_pages.fixture import load_fixture
from tests.builders import Ledger

pytestmark = pytest.mark.browser

VIEW = "asof=2026-04-30&period=This+year"
# Every page of dashboard.py's navigation, by its URL path.
PAGE_PATHS = ["", "usage", "expiring", "cancellations", "statement", "data_quality", "import", "policy"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
IN_BROWSER_SCHEMES = {"data", "blob"}


@pytest.fixture(scope="module")
def offline_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser_offline")
    led = load_fixture(Ledger(folder, Policy(timezone="UTC")))
    policy = folder / "policy.toml"
    policy.write_text('timezone = "UTC"\n')
    return led.db, policy


def leaves_the_machine(url: str) -> bool:
    parts = urlparse(url)
    if parts.scheme in IN_BROWSER_SCHEMES:
        return False
    return parts.hostname not in LOCAL_HOSTS


def test_every_page_makes_only_local_requests(streamlit_server, offline_db, page, wait_idle,
                                              assert_no_exception):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    base = streamlit_server(*offline_db)

    for path in PAGE_PATHS:
        response = page.goto(f"{base}/{path}?{VIEW}")
        assert response is not None and response.ok, f"GET /{path} answered {response and response.status}"
        wait_idle(page)
        assert_no_exception(page)
        # The favicon is set by script after the first render, and fetched after that.
        page.wait_for_timeout(300)

    favicon = page.evaluate("document.querySelector(\"link[rel='shortcut icon']\")?.href ?? ''")
    assert favicon and not leaves_the_machine(favicon), f"the favicon is {favicon[:120]!r}"
    assert len(requested) > len(PAGE_PATHS), "no requests were recorded at all"
    outside = sorted({url for url in requested if leaves_the_machine(url)})
    assert outside == [], f"the dashboard fetched from outside this machine: {outside}"
