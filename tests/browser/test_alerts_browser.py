"""The Alerts page in a real browser: it loads without an exception, shows the alerts due, and its
button sends a test message that a real SMTP server on 127.0.0.1 receives."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # tests/browser is not a package: run alone, it needs the project root
    sys.path.insert(0, str(ROOT))

from tests.alert_fixture import MANAGERS, build, policy_file
from tests.alert_servers import smtp_server

pytestmark = pytest.mark.browser


def test_the_alerts_page_lists_what_is_due_and_sends_a_test_message(streamlit_server, tmp_path, page, wait_idle,
                                                                     assert_no_exception, screenshot):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    led = build(tmp_path)
    with smtp_server() as (mail, port):
        base = streamlit_server(led.db, policy_file(tmp_path, port, None))
        page.goto(f"{base}/alerts?asof=2026-04-30")
        wait_idle(page)
        assert_no_exception(page)
        assert page.locator("h1").first.inner_text().strip() == "Alerts"
        due = page.locator('[data-testid="stMetric"]').filter(has_text="Alerts due")
        assert due.locator('[data-testid="stMetricValue"]').inner_text().strip() == "3"
        page.get_by_text("What the next run sends (9 messages)").click()
        assert page.get_by_text("To: ops@acme.example").count() == 1
        screenshot(page, "page-alerts")

        page.get_by_role("button", name="Send a test message").click()
        wait_idle(page)
        assert_no_exception(page)
        for manager in MANAGERS:
            page.get_by_text(f"Sent: e-mail to {manager} (manager; test)").wait_for()
        assert sorted(r for m in mail.mails for r in m.recipients) == sorted(MANAGERS)
        screenshot(page, "page-alerts-test-sent")
    assert errors == [], errors
