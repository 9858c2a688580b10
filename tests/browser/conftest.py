"""Browser-test harness: the real dashboard, served by Streamlit, driven in headless Chromium.

Every test under tests/browser is marked ``browser``. The browser is Debian's Chromium at
/usr/bin/chromium (or $HOURBANK_CHROMIUM), driven by the ``playwright`` package; Playwright's
own browser download is never used. Where Chromium is missing, browser tests are skipped and
a WARNING line at the end of the run says so; with CI=true they fail instead. This lives in
pytest hooks, so plain ``pytest`` and ``python3 tasks.py test`` behave the same.

Fixtures:
- ``streamlit_server(db_path, policy_path=None)``: starts ``python -m streamlit run
  dashboard.py`` on a free port of 127.0.0.1 with HOURBANK_DB / HOURBANK_POLICY set, waits for
  /_stcore/health, returns the base URL. One server per (db, policy) for the whole session;
  all are stopped (process group) at the end. Logs: test-artifacts/logs/.
- ``opened(url, settle_ms=800, before=None)``: a context manager giving a 1,400 px wide page
  at ``url`` once its script has run and settled, with no exception box shown.
- ``browser`` (session) and ``page`` (a fresh context per test; a failing test leaves a
  screenshot named FAILED-<test>.png).
- ``wait_idle``, ``assert_no_exception``, ``screenshot``: the helpers below, as fixtures so a
  test does not have to import a conftest.
"""
from __future__ import annotations

import contextlib

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
LOGS = ARTIFACTS / "logs"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
DEFAULT_POLICY = ROOT / "billing.toml"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'
SERVER_START_SECONDS = 60


# ---------------------------------------------------------------- Chromium: skip or fail

def chromium_path() -> str:
    return os.environ.get("HOURBANK_CHROMIUM") or DEFAULT_CHROMIUM


def chromium_missing_reason() -> str | None:
    """Why browser tests cannot run here, or None when Chromium is there."""
    path = chromium_path()
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return None
    return (f"Chromium not found at {path} (install it with 'apt-get install chromium', "
            f"or set HOURBANK_CHROMIUM to its path)")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


_not_run: list[str] = []


def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_TESTS in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker("browser") is None:
        return
    reason = chromium_missing_reason()
    if reason is None:
        return
    _not_run.append(item.nodeid)
    if in_ci():
        pytest.fail(f"{reason}; CI=true requires the browser tests to run.", pytrace=False)
    pytest.skip(f"browser test skipped: {reason}")


def pytest_terminal_summary(terminalreporter):
    if not _not_run:
        return
    reason = chromium_missing_reason() or "Chromium was missing"
    if in_ci():
        terminalreporter.write_line(
            f"ERROR: {len(_not_run)} browser test(s) FAILED because {reason}; "
            f"with CI=true they must run.", red=True, bold=True)
    else:
        terminalreporter.write_line(
            f"WARNING: {len(_not_run)} browser test(s) skipped because {reason}.",
            yellow=True, bold=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item, so `page` can screenshot a failed test.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# ---------------------------------------------------------------- the Streamlit server

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def start_streamlit(db_path, policy_path=None, script: str = "dashboard.py"):
    """Start one dashboard server; returns (process, base URL, log path)."""
    policy = Path(policy_path) if policy_path is not None else DEFAULT_POLICY
    env = {**os.environ, "HOURBANK_DB": str(db_path), "HOURBANK_POLICY": str(policy),
           "PYTHONUNBUFFERED": "1"}
    LOGS.mkdir(parents=True, exist_ok=True)
    for _attempt in range(3):  # a free port can be taken between probe and bind
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = LOGS / f"streamlit-{port}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", script,
                 "--server.headless", "true", "--server.port", str(port),
                 "--server.address", "127.0.0.1",
                 # Other people edit files while tests run: never rerun on a file change.
                 "--server.fileWatcherType", "none",
                 "--browser.gatherUsageStats", "false"],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if _healthy(url):
                return process, url, log
            if process.poll() is not None:
                break
            time.sleep(0.2)
        _stop(process)
        if "already in use" in _tail(log):
            continue
        pytest.fail(f"the dashboard server ({script}) did not answer {url}/_stcore/health within "
                    f"{SERVER_START_SECONDS} s; last lines of {log}:\n{_tail(log)}", pytrace=False)
    pytest.fail(f"no free port for the dashboard server after 3 tries; see {LOGS}", pytrace=False)


@pytest.fixture(scope="session")
def streamlit_server():
    """Factory: ``url = streamlit_server(db_path, policy_path=None)``.

    A server is started once per (db, policy, script) and shared by the tests that ask for
    the same one; a test that changes its database should pass a database of its own.
    """
    servers: dict[tuple[str, str, str], tuple[subprocess.Popen, str]] = {}

    def start(db_path, policy_path=None, script: str = "dashboard.py") -> str:
        key = (str(db_path), str(policy_path), script)
        if key in servers and servers[key][0].poll() is None:
            return servers[key][1]
        process, url, _log = start_streamlit(db_path, policy_path, script)
        servers[key] = (process, url)
        return url

    yield start
    for process, _url in servers.values():
        _stop(process)


# ---------------------------------------------------------------- browser and page

@pytest.fixture(scope="session")
def browser():
    reason = chromium_missing_reason()
    if reason is not None:  # reached only by a test that is not under tests/browser
        if in_ci():
            pytest.fail(f"{reason}; CI=true requires the browser tests to run.", pytrace=False)
        pytest.skip(f"browser test skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    new_page = context.new_page()
    new_page.set_default_timeout(30_000)
    yield new_page
    failed = any(getattr(request.node, f"rep_{when}", None) is not None
                 and getattr(request.node, f"rep_{when}").failed for when in ("setup", "call"))
    if failed:
        try:
            save_screenshot(new_page, f"FAILED-{request.node.name}")
        except Exception:  # the page may be gone; the failure itself is what matters
            pass
    context.close()


# ---------------------------------------------------------------- helpers

def wait_idle(page, timeout: float = 30_000, settle_ms: int = 150) -> None:
    """Wait until Streamlit has finished running the script.

    Looked for twice, ``settle_ms`` apart, so that a rerun which a click has just asked
    for has started before we take "not running" as "done".
    """
    page.wait_for_selector(IDLE, state="attached", timeout=timeout)
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector(IDLE, state="attached", timeout=timeout)


def assert_no_exception(page) -> None:
    """No Streamlit exception box (a traceback shown to the user) on the page."""
    boxes = page.locator(EXCEPTION)
    count = boxes.count()
    if count:
        text = boxes.first.inner_text()[:2000]
        raise AssertionError(f"the page shows {count} exception box(es); the first says:\n{text}")


def save_screenshot(page, name: str) -> Path:
    """A full-page PNG in test-artifacts/screenshots/<name>.png; returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


@contextlib.contextmanager
def opened(browser, url: str, settle_ms: int = 800, before=None, width: int = 1400, height: int = 1000):
    """A page of its own context, ``width`` px wide, at ``url``: answered, its script run,
    ``settle_ms`` more for what draws after it (charts, grids), and no exception box. ``before``
    (page) runs first (listeners). The context is closed afterwards."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        if before is not None:
            before(page)
        response = page.goto(url)
        assert response is not None and response.ok, (url, response and response.status)
        wait_idle(page)
        page.wait_for_timeout(settle_ms)
        assert_no_exception(page)
        yield page
    finally:
        context.close()


@pytest.fixture(name="opened")
def opened_fixture(browser):
    return lambda url, **kw: opened(browser, url, **kw)


@pytest.fixture(name="wait_idle")
def wait_idle_fixture():
    return wait_idle


@pytest.fixture(name="assert_no_exception")
def assert_no_exception_fixture():
    return assert_no_exception


@pytest.fixture(name="screenshot")
def screenshot_fixture():
    return save_screenshot
