"""The Alerts page through AppTest, as the dashboard runs it: the alerts due with their figures,
what was sent, and the test-message button against a real SMTP server on 127.0.0.1."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from billing.__main__ import main
from tests.alert_fixture import MANAGERS, T, build, policy_file
from tests.alert_servers import smtp_server
from tests.apptest_live import as_on_a_live_server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def on_a_live_server(monkeypatch):
    as_on_a_live_server(monkeypatch)


def open_page(monkeypatch, db, policy) -> AppTest:
    monkeypatch.setenv("HOURBANK_DB", str(db))
    monkeypatch.setenv("HOURBANK_POLICY", str(policy))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    at.date_input(key="asof").set_value(T)
    at.run()
    at.switch_page("pages/alerts.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Alerts"]
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_page_shows_what_is_due_and_sends_a_test_message(tmp_path, monkeypatch):
    led = build(tmp_path)
    with smtp_server() as (mail, port):
        policy = policy_file(tmp_path, port, None, notify_customers=True)
        at = open_page(monkeypatch, led.db, policy)
        assert metrics(at)["Alerts due"] == "3"
        assert metrics(at)["Messages the next run sends"] == "9"    # 3 × 2 managers + 3 to customers
        due = at.dataframe[0].value
        assert due["customer"].tolist() == ["acme", "beta", "gamma"]
        assert due["time"].tolist() == ["5 h", "30 min", "1 h"]
        assert due["to forfeit"].tolist() == ["4 h", "—", "—"]
        assert due["last day"].tolist() == ["2026-05-06", "—", "—"]
        assert due["reached"].tolist() == ["0 of 3", "0 of 4", "0 of 2"]

        assert main(["alerts", "--send", "--db", str(led.db), "--policy", str(policy), "--as-of", "2026-04-30"]) == 0
        at.run()
        assert metrics(at)["Messages the next run sends"] == "0"
        due = at.dataframe[0].value
        assert due["reached"].tolist() == ["3 of 3", "4 of 4", "2 of 2"]
        assert set(due["status"]) == {"sent"}
        history = at.dataframe[1].value
        assert len(history) == 9 and set(history["outcome"]) == {"sent"}

        before = len(mail.mails)
        at.button(key="alerts_test").click().run()
        assert not at.exception
        assert [m.recipients for m in mail.mails[before:]] == [[m] for m in MANAGERS]
        assert [s.value for s in at.success][-2:] == [f"Sent: e-mail to {m} (manager; test)" for m in MANAGERS]
        assert "Test message" in at.dataframe[1].value["kind"].tolist()


def test_a_bad_alerts_table_is_one_sentence_and_no_channel_a_warning(tmp_path, monkeypatch):
    led = build(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('timezone = "UTC"\n[alerts]\ndigest = "hourly"\n')
    at = open_page(monkeypatch, led.db, bad)
    assert len(at.error) == 1 and "'digest'" in at.error[0].value
    plain = tmp_path / "plain.toml"
    plain.write_text('timezone = "UTC"\n')
    at = open_page(monkeypatch, led.db, plain)
    assert any("No channel is set up" in w.value for w in at.warning)
    assert metrics(at)["Alerts due"] == "3" and at.button(key="alerts_test").disabled
