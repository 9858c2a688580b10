"""A customer's link in a real browser (issue 13): the right customer's figures; every way of
reaching another customer or a page of the dashboard refused (a changed token, ?customers=, a
page's address), with sign-in off and on; expired and revoked links refused; the downloads are
the customer copy (the PDF's text and the CSV name no staff, notes or rule ids).

The books are tests/share_fixture.py's as of today (the page's T), figures worked out there.
Sign-in on: a server of its own whose secrets file has an [auth] section (no identity provider
is reached: nobody signs in here, which is the point).
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from billing import share  # noqa: E402
from billing.calendar import today_in  # noqa: E402
from billing.store import open_db  # noqa: E402
from tests.browser.conftest import LOGS, _free_port, _healthy, _stop, _tail  # noqa: E402
from tests.share_fixture import NOTE, SECRET, STAFF, build_today  # noqa: E402

pytestmark = pytest.mark.browser

PAGE_PATHS = ["overview", "usage", "expiring", "alerts", "cancellations", "statement", "customer_links",
              "data_quality", "import", "policy"]
SECRETS_ON = """[auth]
redirect_uri = "http://127.0.0.1:8501/oauth2callback"
cookie_secret = "cookie-secret-for-the-browser-test"
client_id = "hourbank-test"
client_secret = "not-a-real-secret"
server_metadata_url = "https://idp.example.com/.well-known/openid-configuration"
[hourbank]
managers = ["ana@example.com"]
"""


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    folder = tmp_path_factory.mktemp("share_browser")
    led, policy = build_today(folder)
    return folder, led.db, policy


def _serve(folder: Path, db: Path, policy: Path, secrets_file: Path):
    """A dashboard server with the share secret in its environment and its own secrets file."""
    env = {**os.environ, "HOURBANK_DB": str(db), "HOURBANK_POLICY": str(policy), share.SECRET_ENV: SECRET,
           "PYTHONUNBUFFERED": "1"}
    LOGS.mkdir(parents=True, exist_ok=True)
    for _attempt in range(3):
        port = _free_port()
        url, log = f"http://127.0.0.1:{port}", LOGS / f"streamlit-share-{port}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
                 "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
                 "--browser.gatherUsageStats", "false", "--secrets.files", str(secrets_file)],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if _healthy(url):
                return process, url
            time.sleep(0.2)
        _stop(process)
        if "already in use" not in _tail(log):
            pytest.fail(f"the dashboard server did not start; last lines of {log}:\n{_tail(log)}", pytrace=False)
    pytest.fail("no free port for the dashboard server after 3 tries", pytrace=False)


@pytest.fixture(scope="module")
def servers(books):
    """{"off": URL, "on": URL}: sign-in off (no [auth]) and on."""
    folder, db, policy = books
    off, on = folder / "secrets-off.toml", folder / "secrets-on.toml"
    off.write_text('[hourbank]\nmanagers = ["ana@example.com"]\n')
    on.write_text(SECRETS_ON)
    started = {name: _serve(folder, db, policy, path) for name, path in (("off", off), ("on", on))}
    yield {name: url for name, (_, url) in started.items()}
    for process, _ in started.values():
        _stop(process)


@pytest.fixture(scope="module")
def links(books):
    """Tokens: acme's good one, a revoked one, one expired (by its record), beta's good one."""
    _, db, _ = books

    def token(customer="acme", days=30):
        return parse_qs(urlsplit(share.create_link(db, SECRET, customer, days).url).query)["share"][0]
    good, revoked, expired, beta = token(), token(), token(), token("beta")
    share.revoke_link(db, share.read_token(SECRET, revoked).link_id)
    with open_db(db) as con:
        con.execute("UPDATE share_links SET expires_at = ? WHERE link_id = ?",
                    [share.now_utc() - timedelta(minutes=1), share.read_token(SECRET, expired).link_id])
    return {"good": good, "revoked": revoked, "expired": expired, "beta": beta}


def open_page(page, url, wait_idle, assert_no_exception) -> str:
    page.goto(url)
    wait_idle(page)
    page.wait_for_timeout(300)
    wait_idle(page)
    assert_no_exception(page)
    return page.locator('[data-testid="stApp"]').inner_text()


def assert_acme_only(page, text: str) -> None:
    t = today_in("UTC")
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Acme Ltd" in main
    last_day = t + timedelta(days=85)
    for figure in ("3 h 30 min", "40 min", f"{last_day.day} {last_day:%b %Y}", "P2", "about 2 min a day"):
        assert figure in main, figure
    for word in ("Beta GmbH", "B2", "10 h", NOTE, "Overview", "Customer links", "Sign in"):
        assert word not in text, word
    for name in STAFF:
        assert not re.search(rf"\b{name}\b", text), name
    assert not re.search(r"\bR\d\b", text)
    assert page.locator('[data-testid="stSidebar"]').count() == 0
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if not h.startswith("#") and any(p in h for p in PAGE_PATHS)], hrefs


def assert_refused(page, text: str) -> None:
    assert share.REFUSAL in text
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator('[data-testid="stTable"], [data-testid="stDataFrame"]').count() == 0
    assert page.locator('[data-testid="stDownloadButton"]').count() == 0
    assert page.locator('[data-testid="stSidebar"]').count() == 0
    for word in ("Acme Ltd", "Beta GmbH", "3 h 30 min"):
        assert word not in text


@pytest.mark.parametrize("signin", ["off", "on"])
def test_the_link_shows_its_customers_figures_and_nothing_else(servers, links, page, wait_idle,
                                                               assert_no_exception, screenshot, signin):
    base = servers[signin]
    text = open_page(page, f"{base}/?share={links['good']}", wait_idle, assert_no_exception)
    assert_acme_only(page, text)
    screenshot(page, f"share-customer-page-signin-{signin}")
    # Another customer asked for in the URL, or a dashboard page's address: still only acme's page.
    for url in (f"{base}/?share={links['good']}&customers=beta",
                f"{base}/?customers=beta&share={links['good']}&stmt_customer=beta",
                *(f"{base}/{p}?share={links['good']}" for p in PAGE_PATHS)):
        assert_acme_only(page, open_page(page, url, wait_idle, assert_no_exception))


@pytest.mark.parametrize("signin", ["off", "on"])
def test_changed_expired_revoked_and_others_tokens_are_refused(servers, links, page, wait_idle,
                                                               assert_no_exception, screenshot, signin):
    base, good = servers[signin], links["good"]
    head, *rest = good.split(".")
    beta_claims = share.read_token(SECRET, links["beta"])
    forged_head = share.make_token("another secret, long enough to be used 0123", beta_claims.link_id, "acme",
                                   beta_claims.expires_at)
    for token in (good[:-1] + ("A" if good[-1] != "A" else "B"),           # signature changed
                  ".".join([links["beta"].split(".")[0], *rest]),           # beta's payload, acme's signature
                  forged_head,                                              # signed with another secret
                  links["revoked"], links["expired"], "", "nonsense"):
        text = open_page(page, f"{base}/?share={token}", wait_idle, assert_no_exception)
        assert_refused(page, text)
    screenshot(page, f"share-refused-signin-{signin}")
    # beta's own link opens beta's page, not acme's.
    text = open_page(page, f"{base}/?share={links['beta']}&customers=acme", wait_idle, assert_no_exception)
    assert "Beta GmbH" in text and "Acme Ltd" not in text


def test_with_sign_in_on_every_page_without_the_link_asks_for_sign_in(servers, links, page, wait_idle,
                                                                      assert_no_exception):
    base = servers["on"]
    # The customer page first, in this browser, then every other address without the token.
    assert_acme_only(page, open_page(page, f"{base}/?share={links['good']}", wait_idle, assert_no_exception))
    for path in ["", *PAGE_PATHS, "?customers=acme", "statement?stmt_customer=acme"]:
        text = open_page(page, f"{base}/{path}", wait_idle, assert_no_exception)
        assert "Sign in" in text, path
        for word in ("Acme Ltd", "3 h 30 min", "Filters", "Customer links"):
            assert word not in text, (path, word)
        assert page.locator('[data-testid="stMetric"]').count() == 0


def test_with_sign_in_off_a_page_address_with_the_link_is_still_only_the_customer_page(servers, links, page,
                                                                                      wait_idle, assert_no_exception):
    """Without sign-in the dashboard listens on 127.0.0.1 only and is open to whoever reaches
    it there (README, Deploying); a link's URL still opens only its customer's page."""
    base = servers["off"]
    for path in PAGE_PATHS:
        assert_acme_only(page, open_page(page, f"{base}/{path}?share={links['good']}", wait_idle,
                                         assert_no_exception))


def test_the_downloads_are_the_customer_copy(servers, links, page, wait_idle, assert_no_exception, tmp_path):
    from pypdf import PdfReader

    open_page(page, f"{servers['on']}/?share={links['good']}", wait_idle, assert_no_exception)
    first = today_in("UTC") - timedelta(days=100)   # acme's first purchase: a statement from its month on
    page.get_by_test_id("stSelectbox").first.locator("input").click()
    page.keyboard.type(f"{first:%B %Y}")
    page.keyboard.press("Enter")
    wait_idle(page)
    assert f"Your statement of 1 {first:%b %Y}" in page.locator('[data-testid="stMain"]').inner_text()
    got = {}
    for ext in ("PDF", "CSV", "XLSX"):
        with page.expect_download() as info:
            page.get_by_role("button", name=f"Download {ext}").click()
        download = info.value
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        got[ext] = path
    assert not any("internal" in p.name for p in got.values())
    assert got["PDF"].name.startswith("statement-acme-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(got["PDF"].read_bytes())).pages)
    csv_text = got["CSV"].read_text(encoding="utf-8-sig")
    for body in (text, csv_text):
        assert "Acme Ltd" in body and "P1" in body and "P2" in body
        for word in (NOTE, "Beta GmbH", "INTERNAL"):
            assert word not in body, word
        for name in STAFF:
            assert not re.search(rf"\b{name}\b", body), name
        assert not re.search(r"\bR\d{1,2}\b", body), re.search(r"\bR\d{1,2}\b", body)
