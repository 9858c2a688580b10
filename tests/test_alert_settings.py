"""The policy file's [alerts] table (billing.alerts.settings): defaults, the documented example, and
an error naming the key for every bad value."""
from __future__ import annotations

import textwrap

import pytest

from billing.alerts import settings
from billing.alerts.settings import AlertSettings, load_alert_settings, validate_alerts
from billing.policy import PolicyError, US_PER_HOUR, US_PER_MINUTE, load_policy


def documented_example() -> str:
    """The example in billing.alerts.settings' docstring (its indented lines), read from there
    so that the test follows the documentation rather than a copy of it."""
    lines = settings.__doc__.splitlines()
    first = lines.index("    [alerts]")
    block = []
    for line in lines[first:]:
        if not line.startswith("    "):
            break
        block.append(line)
    return textwrap.dedent("\n".join(block)) + "\n"


def write(tmp_path, text):
    path = tmp_path / "billing.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_example_reads_as_written(tmp_path):
    path = write(tmp_path, 'timezone = "UTC"\n' + documented_example())
    s = load_alert_settings(path)
    assert s.present and s.expiring_days == (30, 7) and s.low_balance_hours == 2 and s.low_balance_percent is None
    assert s.overage is True
    assert s.digest == "daily" and s.managers == ("lead@example.com",) and s.notify_customers is False
    assert (s.smtp.host, s.smtp.port, s.smtp.security, s.smtp.user, s.smtp.sender) == \
        ("localhost", 25, "none", "", "hourbank@example.com")
    assert s.webhook.url == "https://hooks.example.com/T000/B000"
    assert s.webhook.label == "https://hooks.example.com"   # the path, a hook's secret, is never shown
    assert s.channels == ["email", "webhook"]
    assert load_policy(path).timezone == "UTC"   # the billing settings still read the same file


def test_without_a_table_the_defaults_and_no_channel(tmp_path):
    s = load_alert_settings(write(tmp_path, 'timezone = "UTC"\n'))
    assert s == AlertSettings() and not s.present and s.channels == []
    assert s.expiring_days == (30, 7) and s.low_balance_us == 2 * US_PER_HOUR and s.digest == "daily"


def test_thresholds_are_exact():
    s = validate_alerts({"low_balance_hours": 1.5, "low_balance_percent": 12.5, "expiring_days": [7, 30, 0]})
    assert s.low_balance_us == 90 * US_PER_MINUTE
    assert s.percent_of_us(10 * US_PER_HOUR) == 75 * US_PER_MINUTE   # 12.5 % of 10 h
    assert s.expiring_days == (30, 7, 0)
    only_percent = validate_alerts({"low_balance_percent": 10})
    assert only_percent.low_balance_hours is None and only_percent.low_balance_us is None
    assert validate_alerts({"expiring_days": []}).expiring_days == ()


def test_ports_follow_the_security_unless_given():
    smtp = {"host": "mail.example.com", "sender": "hb@example.com"}
    assert validate_alerts({"smtp": smtp}).smtp.port == 587
    assert validate_alerts({"smtp": {**smtp, "security": "tls"}}).smtp.port == 465
    assert validate_alerts({"smtp": {**smtp, "security": "none"}}).smtp.port == 25
    assert validate_alerts({"smtp": {**smtp, "security": "tls", "port": 2465}}).smtp.port == 2465


SMTP = '[alerts.smtp]\nhost = "localhost"\nsender = "hb@example.com"\n'


@pytest.mark.parametrize("text, named", [
    ("[alerts]\nexpiring = [30]\n", "'expiring'"),
    ("[alerts]\nexpiring_days = 30\n", "'expiring_days'"),
    ("[alerts]\nexpiring_days = [30, -1]\n", "'expiring_days'"),
    ("[alerts]\nexpiring_days = [7, 7]\n", "'expiring_days'"),
    ("[alerts]\nexpiring_days = [true]\n", "'expiring_days'"),
    ('[alerts]\nlow_balance_hours = "2"\n', "'low_balance_hours'"),
    ("[alerts]\nlow_balance_hours = -1\n", "'low_balance_hours'"),
    ("[alerts]\nlow_balance_hours = nan\n", "'low_balance_hours'"),
    ("[alerts]\nlow_balance_percent = 101\n", "'low_balance_percent'"),
    ('[alerts]\ndigest = "hourly"\n', "'digest'"),
    ('[alerts]\nmanagers = "lead@example.com"\n' + SMTP, "'managers'"),
    ('[alerts]\nmanagers = ["lead@example.com", "Lead"]\n' + SMTP, "'managers' entry 2"),
    ('[alerts]\nnotify_customers = "yes"\n' + SMTP, "'notify_customers'"),
    ("[alerts]\noverage = 1\n", "'overage'"),
    ('[alerts]\nmanagers = ["lead@example.com"]\n', r"\[alerts.smtp\]"),
    ("[alerts]\nnotify_customers = true\n", r"\[alerts.smtp\]"),
    ('[alerts.smtp]\nsender = "hb@example.com"\n', "'host'"),
    ('[alerts.smtp]\nhost = "localhost"\n', "'sender'"),
    ('[alerts.smtp]\nhost = "localhost"\nsender = "hourbank"\n', "'sender'"),
    (SMTP + "port = 0\n", "'port'"),
    (SMTP + 'port = "25"\n', "'port'"),
    (SMTP + 'security = "ssl"\n', "'security'"),
    (SMTP + "user = 5\n", "'user'"),
    (SMTP + 'password = "hunter2"\n', "HOURBANK_SMTP_PASSWORD"),
    (SMTP + 'helo = "x"\n', "'helo'"),
    (SMTP + "timeout_seconds = 0\n", "'timeout_seconds'"),
    (SMTP + "timeout_seconds = 601\n", "'timeout_seconds'"),
    (SMTP + "timeout_seconds = true\n", "'timeout_seconds'"),
    (SMTP + "timeout_seconds = inf\n", "'timeout_seconds'"),
    ('[alerts]\nsmtp = "localhost"\n', r"\[alerts.smtp\] must be a table"),
    ('[alerts]\nwebhook = "https://hooks.example.com/x"\n', r"\[alerts.webhook\] must be a table"),
    ('[alerts.webhook]\nurl = "https://hooks.example.com/x"\ntimeout_seconds = -1\n', "'timeout_seconds'"),
    ('[alerts.smtp]\nhost = "mail.example.com"\nsecurity = "none"\nuser = "hb"\nsender = "hb@example.com"\n',
     "unencrypted"),
    ('[alerts.webhook]\nurl = "ftp://hooks.example.com/x"\n', "'url'"),
    ("[alerts.webhook]\nurl = 5\n", "'url'"),
    ('[alerts.webhook]\nurl = "https://hooks.example.com/x"\nchannel = "#ops"\n', "'channel'"),
    ('alerts = "on"\n', r"\[alerts\] must be a table"),
])
def test_a_bad_key_or_value_names_itself_and_the_file(tmp_path, text, named):
    path = write(tmp_path, text)
    with pytest.raises(PolicyError, match=named) as err:
        load_alert_settings(path)
    assert str(path) in str(err.value)


def test_a_password_in_the_file_is_refused_without_repeating_it(tmp_path):
    with pytest.raises(PolicyError) as err:
        load_alert_settings(write(tmp_path, SMTP + 'password = "hunter2"\n'))
    assert "hunter2" not in str(err.value)


def test_a_login_in_the_clear_is_fine_on_the_machine_itself():
    s = validate_alerts({"smtp": {"host": "127.0.0.1", "security": "none", "user": "hb", "sender": "hb@example.com"}})
    assert s.smtp.user == "hb"
