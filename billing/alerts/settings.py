"""The ``[alerts]`` table of the policy file: which alerts, when, to whom and over what.

``billing.policy`` leaves the table to this module (policy.SECTIONS); it is read with
``read_policy_file`` and validated here like the rest of the file: a missing key takes its
default, an unknown key or a bad value is a PolicyError that names the key and the file.

    [alerts]
    expiring_days = [30, 7]        # alert when a block's last day is this near
    low_balance_hours = 2          # or low_balance_percent = 10
    overage = true                 # alert on time no block covers
    digest = "daily"               # "daily", "weekly" or "off"
    managers = ["lead@example.com"]
    notify_customers = false
    [alerts.smtp]
    host = "localhost"
    port = 25
    security = "none"              # "none", "starttls" or "tls"
    user = ""
    sender = "hourbank@example.com"
    [alerts.webhook]
    url = "https://hooks.example.com/T000/B000"

The SMTP password is never in the file: it is ``HOURBANK_SMTP_PASSWORD`` in the environment.
"""
from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import urlsplit

from billing.addresses import is_address
from billing.policy import US_PER_HOUR, PolicyError, read_policy_file

PASSWORD_ENV = "HOURBANK_SMTP_PASSWORD"
DIGESTS = ("daily", "weekly", "off")
SECURITIES = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
DEFAULT_TIMEOUT_SECONDS = 30
DEFAULT_EXPIRING_DAYS = (30, 7)
DEFAULT_LOW_BALANCE_HOURS = 2


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str                    # "none", "starttls" (RFC 3207) or "tls" (implicit, port 465)
    user: str                        # "" = no login
    sender: str                      # the From address
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def label(self) -> str:
        """How the webhook is named in the records and on the page: its address without the
        path, which in Slack's and Teams' hooks is the secret."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class AlertSettings:
    expiring_days: tuple[int, ...] = DEFAULT_EXPIRING_DAYS   # largest first
    low_balance_hours: int | float | None = DEFAULT_LOW_BALANCE_HOURS
    low_balance_percent: int | float | None = None
    overage: bool = True
    digest: str = "daily"
    managers: tuple[str, ...] = ()
    notify_customers: bool = False
    smtp: SmtpSettings | None = None
    webhook: WebhookSettings | None = None
    present: bool = False            # the policy file has an [alerts] table

    @property
    def low_balance_us(self) -> int | None:
        """``low_balance_hours`` as exact integer µs (None: not set)."""
        if self.low_balance_hours is None:
            return None
        return int((Decimal(str(self.low_balance_hours)) * US_PER_HOUR).to_integral_value(ROUND_HALF_UP))

    def percent_of_us(self, purchased_us: int) -> int | None:
        """``low_balance_percent`` of a purchase of ``purchased_us``, exact integer µs (half up)."""
        if self.low_balance_percent is None:
            return None
        exact = Decimal(str(self.low_balance_percent)) * int(purchased_us) / 100
        return int(exact.to_integral_value(ROUND_HALF_UP))

    @property
    def channels(self) -> list[str]:
        """The channels that can carry a message: "email" (with [alerts.smtp]), "webhook"."""
        return [name for name, on in (("email", self.smtp is not None), ("webhook", self.webhook is not None)) if on]


_TOP = ("expiring_days", "low_balance_hours", "low_balance_percent", "overage", "digest", "managers",
        "notify_customers", "smtp", "webhook")
_SMTP = ("host", "port", "security", "user", "sender", "timeout_seconds")
_WEBHOOK = ("url", "timeout_seconds")


def _unknown(table: dict, known: tuple[str, ...], where: str, source: str) -> None:
    for key in table:
        if key == "password" and where == "[alerts.smtp]":
            raise PolicyError(f"{source}: {where} 'password' does not belong in the policy file: set the "
                              f"environment variable {PASSWORD_ENV} for the command (and the dashboard) instead.")
        if key not in known:
            raise PolicyError(f"{source}: unknown setting '{key}' in {where} (known: {', '.join(known)}).")


def _table(table, known: tuple[str, ...], where: str, source: str, wanted: str) -> None:
    """PolicyError unless ``table`` is a table of ``known`` keys only: saying that ``where``
    must be a table (``wanted``: of what), or naming the unknown key."""
    if not isinstance(table, dict):
        raise PolicyError(f"{source}: {where} must be a table {wanted}.")
    _unknown(table, known, where, source)


def _is_number(value) -> bool:
    """An int or a finite float (TOML's true and false are not numbers, nor nan and inf)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and not (
        isinstance(value, float) and not math.isfinite(value))


def _number(value, key: str, where: str, source: str, low: float = 0, high: float | None = None) -> int | float:
    if not (_is_number(value) and value >= low and (high is None or value <= high)):
        bound = f"between {low:g} and {high:g}" if high is not None else f"≥ {low:g}"
        raise PolicyError(f"{source}: {where} '{key}' must be a number {bound}, not {value!r}.")
    return value


def _bool(value, key: str, where: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"{source}: {where} '{key}' must be true or false, not {value!r}.")
    return value


def _timeout(table: dict, where: str, source: str) -> float:
    value = table.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    if not (_is_number(value) and 0 < value <= 600):
        raise PolicyError(f"{source}: {where} 'timeout_seconds' must be a number of seconds above 0 and "
                          f"at most 600, not {value!r}.")
    return value


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _smtp(table, source: str) -> SmtpSettings:
    where = "[alerts.smtp]"
    _table(table, _SMTP, where, source, "(host, port, security, user, sender)")
    host = table.get("host")
    if not isinstance(host, str) or not host.strip() or any(ch.isspace() for ch in host.strip()):
        raise PolicyError(f"{source}: {where} 'host' must be the mail server's name or address, not {host!r}.")
    host = host.strip()
    security = table.get("security", "starttls")
    if security not in SECURITIES:
        raise PolicyError(f"{source}: {where} 'security' must be \"none\", \"starttls\" or \"tls\", not {security!r}.")
    port = table.get("port", DEFAULT_PORTS[security])
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise PolicyError(f"{source}: {where} 'port' must be a whole number from 1 to 65535, not {port!r}.")
    user = table.get("user", "")
    if not isinstance(user, str):
        raise PolicyError(f"{source}: {where} 'user' must be text (\"\" for no login), not {user!r}.")
    if user.strip() and security == "none" and not _is_loopback(host):
        raise PolicyError(f"{source}: {where} 'user' with security = \"none\" would send the password "
                          f"unencrypted to {host}: use security = \"starttls\" or \"tls\".")
    sender = table.get("sender")
    if not isinstance(sender, str) or not is_address(sender):
        raise PolicyError(f"{source}: {where} 'sender' must be the e-mail address the alerts come from "
                          f"(like hourbank@example.com), not {sender!r}.")
    return SmtpSettings(host=host, port=port, security=security, user=user.strip(), sender=sender.strip(),
                        timeout_seconds=_timeout(table, where, source))


def _webhook(table, source: str) -> WebhookSettings:
    where = "[alerts.webhook]"
    _table(table, _WEBHOOK, where, source, "(url)")
    url = table.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or any(ch.isspace() for ch in url):
        # The value is not repeated: a webhook's address is its secret.
        raise PolicyError(f"{source}: {where} 'url' must be the webhook's http:// or https:// address.")
    return WebhookSettings(url=url, timeout_seconds=_timeout(table, where, source))


def validate_alerts(table, source: str = "policy") -> AlertSettings:
    """The ``[alerts]`` table (a dict read from TOML, or None when the file has none) as
    AlertSettings. Raises PolicyError naming the key (and ``source``, the file) for an unknown
    key or a bad value."""
    if table is None:
        return AlertSettings()
    where = "[alerts]"
    _table(table, _TOP, where, source, f"of settings, not {table!r}")

    days = table.get("expiring_days", list(DEFAULT_EXPIRING_DAYS))
    if not isinstance(days, list) or any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in days):
        raise PolicyError(f"{source}: {where} 'expiring_days' must be a list of whole numbers of days ≥ 0 "
                          f"(like [30, 7]; [] for no expiring alerts), not {days!r}.")
    if len(set(days)) != len(days):
        raise PolicyError(f"{source}: {where} 'expiring_days' names a day twice: {days!r}.")

    hours = table.get("low_balance_hours")
    percent = table.get("low_balance_percent")
    if hours is not None:
        hours = _number(hours, "low_balance_hours", where, source)
    if percent is not None:
        percent = _number(percent, "low_balance_percent", where, source, 0, 100)
    if hours is None and percent is None:
        hours = DEFAULT_LOW_BALANCE_HOURS

    digest = table.get("digest", "daily")
    if digest not in DIGESTS:
        raise PolicyError(f"{source}: {where} 'digest' must be \"daily\", \"weekly\" or \"off\", not {digest!r}.")
    managers = table.get("managers", [])
    if not isinstance(managers, list):
        raise PolicyError(f"{source}: {where} 'managers' must be a list of e-mail addresses, "
                          f"like [\"lead@example.com\"], not {managers!r}.")
    seen: list[str] = []
    for n, address in enumerate(managers, start=1):
        if not isinstance(address, str) or not is_address(address):
            raise PolicyError(f"{source}: {where} 'managers' entry {n} is not an e-mail address: {address!r}.")
        if address.strip().lower() not in (s.lower() for s in seen):
            seen.append(address.strip())

    smtp = _smtp(table["smtp"], source) if "smtp" in table else None
    webhook = _webhook(table["webhook"], source) if "webhook" in table else None
    settings = AlertSettings(
        expiring_days=tuple(sorted(days, reverse=True)), low_balance_hours=hours, low_balance_percent=percent,
        overage=_bool(table.get("overage", True), "overage", where, source),
        digest=digest, managers=tuple(seen),
        notify_customers=_bool(table.get("notify_customers", False), "notify_customers", where, source),
        smtp=smtp, webhook=webhook, present=True)
    if (settings.managers or settings.notify_customers) and smtp is None:
        what = "'managers'" if settings.managers else "'notify_customers = true'"
        raise PolicyError(f"{source}: {where} {what} needs e-mail: add an [alerts.smtp] table "
                          f"(host, port, security, user, sender).")
    return settings


def load_alert_settings(path: str | Path | None = None) -> AlertSettings:
    """The ``[alerts]`` table of the policy file at ``path`` (None: the project's billing.toml),
    validated. Raises PolicyError (one sentence naming the file and the key)."""
    from billing.policy import DEFAULT_POLICY_PATH

    path = Path(path) if path is not None else DEFAULT_POLICY_PATH
    return validate_alerts(read_policy_file(path).get("alerts"), source=str(path))
