"""`python -m billing alerts` against a real SMTP server (aiosmtpd) and a real webhook (http.server),
both on 127.0.0.1: what arrives, to whom, with which figures; once only; retried after a refusal;
nothing with --dry-run. The books and their figures by hand: tests/alert_fixture.py."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from billing.__main__ import main
from billing.alerts import journal
from billing.alerts.run import make_plan, plan_text
from billing.alerts.settings import load_alert_settings
from billing.policy import load_policy
from billing.store import open_db
from tests.alert_servers import (SmtpHandler, password_check, self_signed, server_tls_context, smtp_server,
                                 webhook_server)
from tests.alert_fixture import (ACME_MANAGER, BETA_MANAGER, GAMMA_MANAGER, MANAGERS, ROOT, T, build,
                                 policy_file)
from tests.builders import Ledger, entry


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """A dry run is fitted to the terminal (COLUMNS); these tests read its sentences whole
    (test_the_dry_run_fits_the_terminal sets its own widths)."""
    monkeypatch.setenv("COLUMNS", "100000")


def alerts(led: Ledger, policy: Path, *flags: str, as_of: date = T) -> int:
    return main(["alerts", "--db", str(led.db), "--policy", str(policy), "--as-of", as_of.isoformat(), *flags])


def recorded(led: Ledger) -> list[tuple]:
    with open_db(led.db, read_only=True) as con:
        if not journal.has_table(con):
            return []
        return con.execute("SELECT kind, customer_id, purchase_id, threshold, channel, recipient, outcome "
                           "FROM alerts_sent ORDER BY message_id, kind").fetchall()


def test_each_alert_reaches_managers_webhook_and_customers_with_the_figures_once(tmp_path, capsys):
    led = build(tmp_path)
    with smtp_server() as (mail, port), webhook_server() as hook:
        policy = policy_file(tmp_path, port, hook.url)
        assert alerts(led, policy, "--send") == 0
        # 3 alerts × 2 managers, acme's contact, beta's two contacts (gamma has none): 9 e-mails;
        # 3 webhook posts.
        assert len(mail.mails) == 9 and len(hook.posts) == 3
        for manager in MANAGERS:
            got = {m.subject: m.text for m in mail.to(manager)}
            assert len(got) == 3
            assert [m.recipients for m in mail.to(manager)] == [[manager]] * 3
            texts = "\n".join(got.values())
            for line in (ACME_MANAGER, BETA_MANAGER, GAMMA_MANAGER):
                assert line in texts
        assert all(m.sender == "hourbank@example.com" and m.message["From"] == "hourbank@example.com"
                   for m in mail.mails)

        (acme,) = mail.to("ops@acme.example")
        assert acme.subject == "Your prepaid support hours: 5 h expire on 2026-05-06"
        assert acme.text.startswith("Hello Acme Ltd,\n\nof the 10 h of support you bought on 2026-02-05, 5 h are "
                                    "still unused. They can be used until 2026-05-06 (in 6 days)")
        assert "about 10 min a day over the last 30 days), about 4 h of them would not be used by then" in acme.text
        beta = mail.to("it@beta.example") + mail.to("boss@beta.example")
        assert [m.subject for m in beta] == ["Your prepaid support hours are running low: 30 min left"] * 2
        assert "At your recent pace it lasts until about 2026-05-11." in beta[0].text
        for m in [acme, *beta]:   # nothing internal in a customer's words
            for internal in ("acme", "beta", "A1", "B1", "R8", "R9", "Ann", "Cy", "internal", "VPN", "customer's pace"):
                assert internal not in m.text and internal not in m.subject, (internal, m.text)
        assert not mail.to("gamma")

        assert all(p["path"] == "/hooks/T000/B000/secret" and p["content_type"].startswith("application/json")
                   for p in hook.posts)
        assert sorted(t.splitlines()[2] for t in hook.texts) == sorted([ACME_MANAGER, BETA_MANAGER, GAMMA_MANAGER])

        rows = recorded(led)
        assert len(rows) == 12 and {r[-1] for r in rows} == {"sent"}
        assert ("expiring", "acme", "A1", "7 days", "email", "ops@acme.example", "sent") in rows
        assert ("low_balance", "beta", "B1", "2 h", "webhook", hook.url.split("/hooks")[0], "sent") in rows
        assert ("overage", "gamma", None, "", "email", "lead@example.com", "sent") in rows
        assert not any("secret" in str(r) for r in rows)   # the hook's path is its secret

        capsys.readouterr()
        assert alerts(led, policy, "--send") == 0          # the same day: nothing new
        assert alerts(led, policy, "--send", as_of=date(2026, 5, 1)) == 0   # the next: nothing new either
        out = capsys.readouterr().out
        assert "every one already sent" in out and "sent:" not in out
        assert len(mail.mails) == 9 and len(hook.posts) == 3

        # 2026-05-01 is five days before A1's last day... still the 7-day alert; on 2026-05-06 (its last
        # day, 0 days left) the thresholds are [30, 7]: nothing nearer, nothing new.
        assert alerts(led, policy, "--send", as_of=date(2026, 5, 6)) == 0
        assert len(mail.mails) == 9


def test_a_nearer_threshold_is_a_new_alert(tmp_path):
    led = build(tmp_path)
    with smtp_server() as (mail, port):
        policy = policy_file(tmp_path, port, None, notify_customers=False)
        # 2026-04-06: A1 is 30 days from its last day (2026-05-06) with 600 - 6 × 30 = 420 min left;
        # beta has used nothing yet (2 h left: not below 2 h); gamma has no time yet.
        assert alerts(led, policy, "--send", as_of=date(2026, 4, 6)) == 0
        assert [m.subject for m in mail.to("lead@example.com")] == [
            "Hourbank: Acme Ltd (acme): 7 h of block A1 expire 2026-05-06 (in 30 days)"]
        assert alerts(led, policy, "--send", as_of=date(2026, 4, 29)) == 0   # A1 at 7 days, beta low
        subjects = [m.subject for m in mail.to("lead@example.com")][1:]
        assert subjects == ["Hourbank: Acme Ltd (acme): 5 h of block A1 expire 2026-05-06 (in 7 days)",
                            "Hourbank: Beta GmbH (beta): 30 min of prepaid time left",
                            "Hourbank: Gamma Inc (gamma): 1 h not covered by a block"]


def test_a_digest_lists_each_new_alert_once_a_day_or_week(tmp_path, capsys):
    led = build(tmp_path)
    with smtp_server() as (mail, port), webhook_server() as hook:
        policy = policy_file(tmp_path, port, hook.url, digest="weekly")
        assert alerts(led, policy, "--send") == 0       # Thursday 2026-04-30, ISO week 18
        for manager in MANAGERS:
            (digest,) = mail.to(manager)
            assert digest.subject == "Hourbank alerts 2026-W18: 1 expiring, 1 low balance, 1 overage"
            for line in (ACME_MANAGER, BETA_MANAGER, GAMMA_MANAGER):
                assert f"- {line}" in digest.text
        assert len(hook.posts) == 1 and hook.texts[0].startswith("Hourbank alerts 2026-W18")
        assert len(mail.mails) == 2 + 3        # customers still get their own, at once

        led.load(entries=[entry("d1", "2026-05-01T09:00:00", 20, customer="delta", staff="Ann")])
        assert alerts(led, policy, "--send", as_of=date(2026, 5, 1)) == 0   # Friday: the same week
        assert len(mail.mails) == 5 and len(hook.posts) == 1
        assert "waiting for the next digest" in capsys.readouterr().out
        assert alerts(led, policy, "--send", as_of=date(2026, 5, 4)) == 0   # Monday: week 19
        (new,) = mail.to("lead@example.com")[1:]
        assert new.subject == "Hourbank alerts 2026-W19: 1 overage"
        assert "- delta: 30 min of billable time (it has bought no block)" in new.text
        assert "acme" not in new.text and len(hook.posts) == 2

        daily = policy_file(tmp_path, port, hook.url, digest="daily")
        led.load(entries=[entry("e1", "2026-05-04T09:00:00", 20, customer="epsilon", staff="Ann")])
        assert alerts(led, daily, "--send", as_of=date(2026, 5, 4)) == 0    # no daily digest yet on the 4th
        assert [m.subject for m in mail.to("lead@example.com")][2:] == ["Hourbank alerts 2026-05-04: 1 overage"]


def test_a_refused_message_is_reported_and_sent_by_the_next_run(tmp_path, capsys):
    led = build(tmp_path)
    handler = SmtpHandler(refuse={"boss@beta.example": "550 5.1.1 mailbox unavailable"})
    with smtp_server(handler) as (mail, port), webhook_server() as hook:
        hook.status = 500
        policy = policy_file(tmp_path, port, hook.url)
        assert alerts(led, policy, "--send") == 3
        err = capsys.readouterr().err
        assert "refused the recipient boss@beta.example (550 5.1.1 mailbox unavailable)" in err
        assert err.count("answered HTTP 500") == 3 and "secret" not in err
        assert len(mail.mails) == 8 and not mail.to("boss@beta.example")
        failed = [r for r in recorded(led) if r[-1] == "failed"]
        assert len(failed) == 4 and ("low_balance", "beta", "B1", "2 h", "email", "boss@beta.example", "failed") in failed

        handler.refuse.clear()
        hook.status = 200
        assert alerts(led, policy, "--send") == 0
        out = capsys.readouterr().out
        assert out.count("[retry: failed") == 4
        assert len(mail.to("boss@beta.example")) == 1 and len(mail.mails) == 9
        assert len([p for p in hook.posts if p["status"] == 200]) == 3
        assert alerts(led, policy, "--send") == 0
        assert len(mail.mails) == 9 and len(hook.posts) == 6


def test_a_mail_server_that_is_down_fails_every_e_mail_and_loses_none(tmp_path, capsys):
    led = build(tmp_path)
    with smtp_server() as (_unused, port):
        pass  # the port is free again: nothing listens there
    policy = policy_file(tmp_path, port, None)
    assert alerts(led, policy, "--send") == 3
    assert capsys.readouterr().err.count("cannot reach the mail server 127.0.0.1") == 9
    with smtp_server() as (mail, port2):
        assert alerts(led, policy_file(tmp_path, port2, None), "--send") == 0
        assert len(mail.mails) == 9


def test_dry_run_prints_exactly_what_send_sends_and_sends_nothing(tmp_path, capsys, monkeypatch):
    led = build(tmp_path)
    with smtp_server() as (mail, port), webhook_server() as hook:
        policy = policy_file(tmp_path, port, hook.url)
        assert alerts(led, policy, "--dry-run") == 0
        dry = capsys.readouterr().out
        exact = plan_text(make_plan(led.db, load_policy(policy), load_alert_settings(policy), T))
        assert alerts(led, policy) == 0                      # without a flag: a dry run too
        assert capsys.readouterr().out == dry
        assert mail.mails == [] and hook.posts == [] and recorded(led) == []
        assert "12 messages to send" in dry and dry.rstrip().endswith("--send sends these messages.")

        assert alerts(led, policy, "--send") == 0
        assert len(mail.mails) == 9
        for m in mail.mails:
            assert f"To: {m.recipients[0]}\nSubject: {m.subject}\n\n{m.text}" in dry
        for text in hook.texts:   # at a terminal, the webhook's text as the chat shows it (not its JSON)
            assert text.rstrip("\n") in dry and json.dumps({"text": text}, ensure_ascii=False, indent=1) not in dry
            assert json.dumps({"text": text}, ensure_ascii=False, indent=1) in exact   # no width: the JSON body


def test_the_dry_run_fits_the_terminal(tmp_path, capsys, monkeypatch):
    """Every line of the dry run fits COLUMNS; a line is broken between words, not cut."""
    led = build(tmp_path)
    with smtp_server() as (mail, port), webhook_server() as hook:
        policy = policy_file(tmp_path, port, hook.url)
        for width in (80, 120):
            monkeypatch.setenv("COLUMNS", str(width))
            assert alerts(led, policy, "--dry-run") == 0
            out = capsys.readouterr().out
            assert max(len(line) for line in out.splitlines()) <= width
            assert "12 messages to send" in " ".join(out.split())


def test_a_database_made_before_the_alerts_table(tmp_path):
    led = build(tmp_path)
    con = duckdb.connect(str(led.db))
    con.execute("DROP TABLE alerts_sent")
    con.close()
    with smtp_server() as (mail, port):
        policy = policy_file(tmp_path, port, None)
        assert alerts(led, policy, "--dry-run") == 0          # read-only: cannot create it, need not
        assert recorded(led) == []
        assert alerts(led, policy, "--send") == 0
        assert len(mail.mails) == 9 and len(recorded(led)) == 9


def test_starttls_with_a_login_and_the_password_from_the_environment(tmp_path, monkeypatch, capsys):
    led = build(tmp_path)
    cert, key = self_signed(tmp_path)
    handler = SmtpHandler()
    with smtp_server(handler, tls_context=server_tls_context(cert, key), require_starttls=True,
                     authenticator=password_check("hourbank", "s3cret", handler.logins),
                     auth_require_tls=True) as (mail, port):
        policy = policy_file(tmp_path, port, None, notify_customers=False,
                             smtp_extra='security = "starttls"\nuser = "hourbank"\n')
        monkeypatch.delenv("HOURBANK_SMTP_PASSWORD", raising=False)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))        # trust the test's own certificate
        assert alerts(led, policy, "--send") == 3
        assert "set HOURBANK_SMTP_PASSWORD" in capsys.readouterr().err and mail.mails == []

        monkeypatch.setenv("HOURBANK_SMTP_PASSWORD", "wrong")
        assert alerts(led, policy, "--send") == 3
        err = capsys.readouterr().err
        assert "refused the login of hourbank (535" in err and "wrong" not in err

        monkeypatch.delenv("SSL_CERT_FILE")
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))   # no CA trusts it
        monkeypatch.setenv("HOURBANK_SMTP_PASSWORD", "s3cret")
        assert alerts(led, policy, "--send") == 3
        assert "TLS certificate is not trusted" in capsys.readouterr().err

        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert alerts(led, policy, "--send") == 0
        assert handler.logins == ["hourbank"] and len(mail.mails) == 6


def test_starttls_is_required_when_asked_for(tmp_path, capsys):
    led = build(tmp_path)
    with smtp_server() as (mail, port):   # offers no STARTTLS
        policy = policy_file(tmp_path, port, None, notify_customers=False, smtp_extra='security = "starttls"\n')
        assert alerts(led, policy, "--send") == 3
        assert "does not offer STARTTLS" in capsys.readouterr().err and mail.mails == []


def test_implicit_tls(tmp_path, monkeypatch):
    led = build(tmp_path)
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with smtp_server(ssl_context=server_tls_context(cert, key)) as (mail, port):
        policy = policy_file(tmp_path, port, None, notify_customers=False, smtp_extra='security = "tls"\n')
        assert alerts(led, policy, "--send") == 0
        assert len(mail.mails) == 6


def test_the_test_message_goes_to_each_manager_and_the_webhook(tmp_path, capsys):
    led = build(tmp_path)
    with smtp_server() as (mail, port), webhook_server() as hook:
        assert alerts(led, policy_file(tmp_path, port, hook.url), "--test") == 0
        assert sorted(r for m in mail.mails for r in m.recipients) == sorted(MANAGERS)
        assert [m.subject for m in mail.mails] == ["Hourbank: test message"] * 2 and len(hook.posts) == 1
        assert {r[0] for r in recorded(led)} == {"test"}
        # a test does not count as any alert sent
        capsys.readouterr()
        assert alerts(led, policy_file(tmp_path, port, hook.url), "--dry-run") == 0
        assert "12 messages to send" in capsys.readouterr().out


def test_no_channel_is_one_sentence(tmp_path, capsys):
    led = build(tmp_path)
    policy = tmp_path / "plain.toml"
    policy.write_text('timezone = "UTC"\n')
    assert alerts(led, policy, "--send") == 1
    assert capsys.readouterr().err.startswith("error: no channel to send alerts over")
    assert alerts(led, policy, "--dry-run") == 0          # what is due can still be listed
    out = capsys.readouterr().out
    assert "3 due (1 expiring, 1 low balance, 1 overage); no channel to send them over" in out
    # ... and which customers: each alert as the managers' message says it, one item each.
    items = [line for line in out.splitlines() if line.startswith("- ")]
    assert len(items) == 3
    assert [i.split(":")[0] for i in items] == ["- Acme Ltd (acme)", "- Beta GmbH (beta)", "- Gamma Inc (gamma)"]
    assert "1 h of billable time" in items[2] and "not covered by any block" in items[2]


def test_the_command_exits_3_when_a_message_failed(tmp_path):
    led = build(tmp_path)
    with webhook_server() as hook:
        hook.status = 500
        policy = policy_file(tmp_path, None, hook.url, notify_customers=False)
        done = subprocess.run([sys.executable, "-m", "billing", "alerts", "--send", "--db", str(led.db),
                               "--policy", str(policy), "--as-of", "2026-04-30"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "0 sent, 3 failed (recorded; the next run sends them again)." in done.stdout
    assert done.stderr.count("FAILED: webhook") == 3


def test_two_runs_at_once_cannot_both_send(tmp_path, capsys):
    import fcntl
    import os

    led = build(tmp_path)
    with smtp_server() as (mail, port):
        policy = policy_file(tmp_path, port, None)
        fd = os.open(str(led.db) + ".alerts.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)          # as a run that is sending right now
            assert alerts(led, policy, "--send") == 1
            assert "another alerts run is sending right now" in capsys.readouterr().err
            assert mail.mails == [] and recorded(led) == []
        finally:
            os.close(fd)
        assert alerts(led, policy, "--send") == 0 and len(mail.mails) == 9


def test_the_readmes_example_is_valid_settings():
    import re
    import tomllib

    from billing.alerts.settings import validate_alerts

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Alerts"):]
    example = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    s = validate_alerts(tomllib.loads(example)["alerts"], source="README")
    assert s.smtp.security == "starttls" and s.managers == ("lead@example.com",) and s.digest == "daily"
