"""billing.pages.alerts: the alerts due with whom they reached, the next run's messages, the history."""
from __future__ import annotations

from datetime import date

from billing.alerts.run import run_alerts
from billing.alerts.settings import load_alert_settings
from billing.pages import alerts as page
from billing.pages.common import Filters
from billing.policy import US_PER_MINUTE as MIN, load_policy
from tests.alert_fixture import ACME_MANAGER, T, build, policy_file
from tests.alert_servers import SmtpHandler, smtp_server, webhook_server
from tests.builders import entry


def F(customers=()):
    return Filters(T, date(2026, 4, 1), T, tuple(customers))


def test_due_sent_and_history(tmp_path):
    led = build(tmp_path)
    names = {"acme": "Acme Ltd", "beta": "Beta GmbH", "gamma": "Gamma Inc"}
    handler = SmtpHandler(refuse={"boss@beta.example": "550 5.1.1 no such mailbox"})
    with smtp_server(handler) as (mail, port), webhook_server() as hook:
        path = policy_file(tmp_path, port, hook.url, digest="off")
        s = page.settings(path)
        books = led.books(T)
        alerts = page.alerts_due(books, F(), s, names)
        state = page.read_journal(led.db)
        due = page.due_table(alerts, s, state, T).set_index("customer_id")
        # each alert: 2 managers and the webhook, plus the customer's own contacts
        assert due["sent"].to_dict() == {"acme": "0 of 4", "beta": "0 of 5", "gamma": "0 of 3"}
        assert set(due["status"]) == {"the next run sends it"}
        assert due.loc["acme", "time_us"] == 300 * MIN and due.loc["acme", "projected_forfeited_us"] == 240 * MIN
        assert due.loc["acme", "expires_on"] == date(2026, 5, 6) and due.loc["acme", "message"] == ACME_MANAGER
        assert due.loc["gamma", "time_us"] == 60 * MIN and due.loc["gamma", "kind"] == "Overage"
        assert len(page.next_run(alerts, s, state, T)) == 12
        assert [a.customer_id for a in page.alerts_due(books, F(["beta"]), s, names)] == ["beta"]

        run_alerts(led.db, load_policy(path), load_alert_settings(path), T)
        state = page.read_journal(led.db)
        due = page.due_table(alerts, s, state, T).set_index("customer_id")
        assert due["sent"].to_dict() == {"acme": "4 of 4", "beta": "4 of 5", "gamma": "3 of 3"}
        assert due.loc["beta", "status"].startswith("failed ") and "550 5.1.1 no such mailbox" in due.loc["beta", "status"]
        assert due.loc["acme", "status"] == "sent"
        (retry,) = page.next_run(alerts, s, state, T)
        assert retry.recipient == "boss@beta.example" and retry.retry.startswith("failed ")
        ((title, text),) = page.preview([retry], s)
        assert title.startswith("To the customer: e-mail to boss@beta.example") and "Hello Beta GmbH," in text

        history = page.history_table(state)
        assert len(history) == 12 and set(history["outcome"]) == {"sent", "failed"}
        assert set(history["kind"]) == {"Expiring hours", "Low balance", "Overage"}
        assert set(history["channel"]) == {"e-mail", "webhook"}


def test_a_digest_in_the_history_counts_its_alerts_and_waits(tmp_path):
    led = build(tmp_path)
    with smtp_server() as (mail, port):
        path = policy_file(tmp_path, port, None, digest="daily", notify_customers=False)
        run_alerts(led.db, load_policy(path), load_alert_settings(path), T)
        led.load(entries=[entry("d1", "2026-04-30T12:00:00", 20, customer="delta")])
        s = page.settings(path)
        state = page.read_journal(led.db)
        history = page.history_table(state)
        assert history["kind"].tolist() == ["Digest", "Digest"]
        assert history["threshold"].tolist() == ["3 alerts (2026-04-30)"] * 2
        alerts = page.alerts_due(led.books(T), F(), s)
        due = page.due_table(alerts, s, state, T).set_index("customer_id")
        assert due.loc["delta", "status"] == "waiting for the next daily digest"


def test_settings_in_words(tmp_path):
    s = page.settings(policy_file(tmp_path, 2525, "http://127.0.0.1:9/hooks/secret"))
    table = dict(zip(*page.settings_table(s).T.values))
    assert table["expiring: alert this many days before a block's last day"] == "30, 7"
    assert table["low balance: below"] == "2 h"
    assert table["mail server"] == "127.0.0.1:2525, none, from hourbank@example.com"
    assert table["webhook"] == "http://127.0.0.1:9/…"     # never the path: a hook's secret
