"""Alerts page: the alerts due as of T, to whom each has gone, what the next run sends, the
history of what was sent, and the settings (no Streamlit here).

The alerts are billing.alerts's (the command ``python -m billing alerts`` sends them); this
module only arranges them for the page. What was sent is read from the database on every
rerun (it changes without an import, so it is not cached on the data version).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from billing.alerts import journal
from billing.alerts.due import Alert, due_alerts
from billing.alerts.messages import KIND_TITLES, manager_line
from billing.alerts.run import (CUSTOMER, Message, digest_period, manager_recipients, message_text,
                                plan_messages)
from billing.alerts.settings import PASSWORD_ENV, AlertSettings, load_alert_settings
from billing.display import MISSING, date_text, duration_text
from billing.pages.common import Filters
from billing.reports import Books
from billing.store import open_db


@dataclass
class JournalState:
    """What the database says was sent, and the customers' contacts, read in one look."""
    delivered: set = field(default_factory=set)
    digests: set = field(default_factory=set)
    failures: dict = field(default_factory=dict)
    contacts: dict = field(default_factory=dict)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)


def read_journal(db: str | Path, limit: int = 500) -> JournalState:
    """One read-only look at the database: deliveries, failures, contacts and the last ``limit``
    history rows (a database made before the alerts' table reads as nothing sent)."""
    from billing.customers import customer_contacts

    with open_db(db, read_only=True) as con:
        delivered, digests = journal.delivered(con)
        return JournalState(delivered, digests, journal.failed_before(con), customer_contacts(con),
                            journal.history(con, limit))


def settings(policy_path: str | Path) -> AlertSettings:
    """The policy file's [alerts] (PolicyError, one sentence, when it is bad)."""
    return load_alert_settings(policy_path)


def alerts_due(books: Books, f: Filters, alert_settings: AlertSettings, names: dict | None = None) -> list[Alert]:
    """The alerts due as of T for the filters' customers (all when none are chosen)."""
    found = due_alerts(books, alert_settings, names or {})
    return [a for a in found if not f.customers or a.customer_id in f.customers]


def recipients(a: Alert, s: AlertSettings, state: JournalState) -> list[tuple[str, str]]:
    """(channel, recipient) of everyone who is to hear of ``a``."""
    out = manager_recipients(s)
    if s.notify_customers and s.smtp is not None:
        out += [("email", address) for address in state.contacts.get(a.customer_id, [])]
    return out


def status(a: Alert, s: AlertSettings, state: JournalState, as_of: date) -> tuple[int, int, str]:
    """(recipients it reached, recipients in all, what happens next) for one alert."""
    everyone = recipients(a, s, state)
    reached = [r for r in everyone if (*a.key, *r) in state.delivered]
    if not everyone:
        return 0, 0, "no one to send it to (settings)"
    if len(reached) == len(everyone):
        return len(reached), len(everyone), "sent"
    failed = [state.failures[(*a.key, *r)] for r in everyone if (*a.key, *r) in state.failures]
    if failed:
        when, error = max(failed, key=lambda x: x[0])
        return len(reached), len(everyone), f"failed {when:%Y-%m-%d %H:%M} UTC ({error}); the next run sends it again"
    if s.digest != "off":
        period = digest_period(s.digest, as_of)
        waiting = [r for r in everyone if r not in reached and r in manager_recipients(s)
                   and (period, *r) in state.digests]
        if waiting:
            return len(reached), len(everyone), f"waiting for the next {s.digest} digest"
    return len(reached), len(everyone), "the next run sends it"


def due_table(alerts: list[Alert], s: AlertSettings, state: JournalState, as_of: date) -> pd.DataFrame:
    """One row per alert due: kind, customer, name, block, threshold, time (left, or not
    covered: µs), last day, projected forfeited (µs), sent ("2 of 3"), status, and the
    sentence the managers read."""
    rows = []
    for a in alerts:
        reached, total, next_step = status(a, s, state, as_of)
        f = a.figures
        rows.append({
            "kind": KIND_TITLES[a.kind], "customer_id": a.customer_id, "customer_name": a.customer_name,
            "purchase_id": a.block or None, "threshold": a.threshold or None,
            "time_us": f.get("remaining_us", f.get("uncovered_us")),
            "expires_on": f.get("expires_on"), "projected_forfeited_us": f.get("projected_lost_us"),
            "sent": f"{reached} of {total}", "status": next_step, "message": manager_line(a)})
    columns = ["kind", "customer_id", "customer_name", "purchase_id", "threshold", "time_us", "expires_on",
               "projected_forfeited_us", "sent", "status", "message"]
    return pd.DataFrame(rows, columns=columns)


def next_run(alerts: list[Alert], s: AlertSettings, state: JournalState, as_of: date) -> list[Message]:
    """The messages ``python -m billing alerts --send --as-of T`` would send now."""
    return plan_messages(alerts, s, state.contacts, state.delivered, state.digests, state.failures, as_of)


def preview(messages: list[Message], s: AlertSettings) -> list[tuple[str, str]]:
    """(title, text as it goes out) of each message, for the page's preview: an e-mail's From,
    To, Subject and text; for the webhook, the text of its JSON's ``text`` field (the command's
    dry run prints the JSON itself)."""
    out = []
    for m in messages:
        title = f"{'To the customer: ' if m.audience == CUSTOMER else ''}{m.header()}"
        text = message_text(m, s) if m.channel == "email" else \
            f"POST {m.recipient}/…, JSON with this text:\n\n{m.webhook_text}"
        out.append((title, text))
    return out


_CHANNELS = {"email": "e-mail", "webhook": "webhook"}
_KINDS = {**KIND_TITLES, "digest": "Digest", "test": "Test message"}


def history_table(state: JournalState) -> pd.DataFrame:
    """What was sent, newest first: one row per message (a digest's alerts counted in it):
    message, when (UTC, an instant), as of, kind, customer, block, threshold, channel,
    recipient, outcome, error, subject."""
    h = state.history
    columns = ["message_id", "attempted_at", "as_of", "kind", "customer_id", "purchase_id", "threshold",
               "channel", "recipient", "outcome", "error", "subject"]
    if h.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    alone = h[h["digest"].isna()].copy()   # a digest's own row stands for the alerts it carried
    carried = h[h["digest"].notna()].groupby("message_id").size()
    alone["threshold"] = [f"{carried.get(m, 0)} alerts ({t})" if k == "digest" else t
                          for m, k, t in zip(alone["message_id"], alone["kind"], alone["threshold"])]
    alone["kind"] = [_KINDS.get(k, k) for k in alone["kind"]]
    alone["channel"] = [_CHANNELS.get(c, c) for c in alone["channel"]]
    alone["as_of"] = [date_text(d) for d in alone["as_of"]]
    return alone[columns].reset_index(drop=True)


def settings_table(s: AlertSettings) -> pd.DataFrame:
    """The [alerts] settings in words: setting, value."""
    def hours(v):
        return duration_text(s.low_balance_us) if v is not None else MISSING

    rows = [
        ("expiring: alert this many days before a block's last day",
         ", ".join(str(d) for d in s.expiring_days) or "off"),
        ("low balance: below", " or ".join(x for x in (
            hours(s.low_balance_hours) if s.low_balance_hours else "",
            f"{s.low_balance_percent:g} % of the last purchase" if s.low_balance_percent else "") if x) or "off"),
        ("overage: time no block covers", "on" if s.overage else "off"),
        ("digest for managers", s.digest),
        ("managers (e-mail)", ", ".join(s.managers) or MISSING),
        ("customers' contacts (contact_email) hear of their own alerts", "yes" if s.notify_customers else "no"),
        ("mail server", f"{s.smtp.host}:{s.smtp.port}, {s.smtp.security}"
         + (f", user {s.smtp.user} (password from {PASSWORD_ENV})" if s.smtp.user else "")
         + f", from {s.smtp.sender}" if s.smtp else MISSING),
        ("webhook", s.webhook.label + "/…" if s.webhook else MISSING),
    ]
    return pd.DataFrame(rows, columns=["setting", "value"])
