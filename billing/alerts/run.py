"""One run of the alerts: what is due, which messages that makes, sending them and recording
each outcome. ``python -m billing alerts`` and the Alerts page call these.

Who hears what:

- managers (each address of ``managers``, by e-mail) and the webhook hear of every alert, in
  the managers' words. With ``digest = "off"`` each alert is a message of its own; with
  ``"daily"`` or ``"weekly"`` each manager (and the webhook) gets at most one message a day
  (or an ISO week) that lists every alert not yet delivered to them; alerts that become due
  after it wait for the next day's (week's) digest.
- with ``notify_customers = true``, each contact address of the customer (``contact_email``)
  gets each of the customer's alerts as a message of its own, in the customer's words.

An alert is delivered to a recipient once; a failed message is recorded as failed and its
alerts stay due, so the next run sends them again (a digest: the next digest lists them).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from billing.alerts import journal
from billing.alerts.channels import Mailer, SendError, post_webhook
from billing.alerts.due import Alert, due_alerts
from billing.alerts.messages import check_message, customer_message, digest_message, manager_message
from billing.alerts.settings import PASSWORD_ENV, AlertSettings
from billing.errors import HourbankError
from billing.policy import Policy
from billing.store import open_db

try:
    import fcntl
except ImportError:  # Windows: no lock between runs
    fcntl = None

MANAGER, CUSTOMER = "manager", "customer"


@dataclass
class Message:
    """One message to send: to whom, over what, its words and the alerts it carries."""
    channel: str                 # "email" or "webhook"
    recipient: str               # an address, or the webhook's label (scheme://host)
    audience: str                # MANAGER or CUSTOMER
    subject: str
    text: str
    alerts: list[Alert] = field(default_factory=list)
    kind: str = ""               # the alert's kind, "digest" or "test"
    digest: str | None = None    # the digest's period ("2026-04-30", "2026-W18")
    retry: str | None = None     # why this is a second try ("failed 2026-04-29 10:00 UTC: ...")

    @property
    def webhook_text(self) -> str:
        return f"{self.subject}\n\n{self.text}"

    def header(self) -> str:
        to = f"e-mail to {self.recipient}" if self.channel == "email" else f"webhook {self.recipient}"
        what = f"digest {self.digest}, {len(self.alerts)} alerts" if self.digest else self.kind.replace("_", " ")
        return f"{to} ({self.audience}; {what})" + (f" [retry: {self.retry}]" if self.retry else "")

    def rows(self) -> list[dict]:
        """The journal rows of this message (see billing.alerts.journal)."""
        base = {"channel": self.channel, "recipient": self.recipient, "audience": self.audience,
                "subject": self.subject, "digest": self.digest}
        rows = [{**base, "kind": a.kind, "customer_id": a.customer_id, "purchase_id": a.block,
                 "threshold": a.threshold} for a in self.alerts]
        if self.digest:
            rows.insert(0, {**base, "kind": "digest", "threshold": self.digest, "digest": None})
        if not rows:  # a test message
            rows = [{**base, "kind": self.kind, "threshold": ""}]
        return rows


@dataclass
class Plan:
    as_of: date
    alerts: list[Alert]
    messages: list[Message]
    settings: AlertSettings


def digest_period(digest: str, as_of: date) -> str:
    """The digest's period of ``as_of``: the day ("2026-04-30") or the ISO week ("2026-W18")."""
    if digest == "weekly":
        year, week, _ = as_of.isocalendar()
        return f"{year}-W{week:02d}"
    return as_of.isoformat()


def manager_recipients(settings: AlertSettings) -> list[tuple[str, str]]:
    """(channel, recipient) of everyone who hears every alert."""
    out = [("email", m) for m in settings.managers] if settings.smtp is not None else []
    if settings.webhook is not None:
        out.append(("webhook", settings.webhook.label))
    return out


def _retry_text(failures: dict, keys: list[tuple]) -> str | None:
    found = [failures[k] for k in keys if k in failures]
    if not found:
        return None
    when, error = max(found, key=lambda f: f[0])
    return f"failed {when:%Y-%m-%d %H:%M} UTC: {error}"


def plan_messages(alerts: list[Alert], settings: AlertSettings, contacts: dict[str, list[str]],
                  delivered: set[tuple], digests_sent: set[tuple], failures: dict, as_of: date) -> list[Message]:
    """The messages that deliver every due alert not yet delivered (see the module)."""
    messages: list[Message] = []
    for channel, recipient in manager_recipients(settings):
        pending = [a for a in alerts if (*a.key, channel, recipient) not in delivered]
        if not pending:
            continue
        keys = [(*a.key, channel, recipient) for a in pending]
        if settings.digest == "off":
            for a, key in zip(pending, keys):
                subject, text = manager_message(a)
                messages.append(Message(channel, recipient, MANAGER, subject, text, [a], a.kind,
                                        retry=_retry_text(failures, [key])))
            continue
        period = digest_period(settings.digest, as_of)
        if (period, channel, recipient) in digests_sent:
            continue  # this period's digest went out: the rest wait for the next one
        subject, text = digest_message(pending, as_of, period)
        messages.append(Message(channel, recipient, MANAGER, subject, text, pending, "digest", digest=period,
                                retry=_retry_text(failures, keys)))
    if settings.notify_customers and settings.smtp is not None:
        for a in alerts:
            for address in contacts.get(a.customer_id, []):
                key = (*a.key, "email", address)
                if key in delivered:
                    continue
                subject, text = customer_message(a)
                messages.append(Message("email", address, CUSTOMER, subject, text, [a], a.kind,
                                        retry=_retry_text(failures, [key])))
    return messages


def make_plan(db: str | Path, policy: Policy, settings: AlertSettings, as_of: date) -> Plan:
    """What is due as of ``as_of`` and the messages still to send, from one read-only look at
    the database (books, names, contacts, what was sent)."""
    from billing.customers import customer_contacts, customer_names
    from billing.reports import compute_books

    with open_db(db, read_only=True) as con:
        books = compute_books(con, policy, as_of)
        names = customer_names(con)
        contacts = customer_contacts(con) if settings.notify_customers else {}
        delivered, digests = journal.delivered(con)
        failures = journal.failed_before(con)
    alerts = due_alerts(books, settings, names)
    return Plan(as_of, alerts, plan_messages(alerts, settings, contacts, delivered, digests, failures, as_of),
                settings)


@dataclass
class Outcome:
    message: Message
    error: str | None = None     # None: sent

    @property
    def ok(self) -> bool:
        return self.error is None


@contextmanager
def sending_lock(db: str | Path):
    """One sending run per database at a time (a flock on ``<db>.alerts.lock``): two runs at
    once would both send what neither has recorded yet."""
    if fcntl is None:
        yield
        return
    path = Path(str(db) + ".alerts.lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise HourbankError(f"{path}: cannot create the alerts' lock file ({exc.strerror}).") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise HourbankError(f"{db}: another alerts run is sending right now; nothing was sent by this one.") \
                from None
        yield
    finally:
        os.close(fd)


def send_messages(db: str | Path, settings: AlertSettings, messages: list[Message], as_of: date,
                  password: str | None = None, progress=None) -> list[Outcome]:
    """Send each message and record its outcome at once (so a run stopped halfway keeps what
    it sent). ``password``: default HOURBANK_SMTP_PASSWORD. ``progress(outcome)`` is called
    after each message. A failure does not stop the others."""
    password = password if password is not None else os.environ.get(PASSWORD_ENV)
    mailer = Mailer(settings.smtp, password) if settings.smtp is not None else None
    outcomes = []
    try:
        for m in messages:
            try:
                if m.channel == "email":
                    mailer.send(m.recipient, m.subject, m.text)
                else:
                    post_webhook(settings.webhook, m.webhook_text)
                outcome = Outcome(m)
            except SendError as exc:
                outcome = Outcome(m, str(exc))
            journal.record(db, m.rows(), journal.SENT if outcome.ok else journal.FAILED, outcome.error, as_of)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    finally:
        if mailer is not None:
            mailer.close()
    return outcomes


def run_alerts(db: str | Path, policy: Policy, settings: AlertSettings, as_of: date, progress=None,
               on_plan=None) -> tuple[Plan, list[Outcome]]:
    """Plan and send (under the sending lock): the plan and each message's outcome.
    ``on_plan(plan)`` is called before the first message goes out, ``progress(outcome)`` after each."""
    if not settings.channels:
        raise HourbankError("no channel to send alerts over: add [alerts.smtp] (with managers or "
                            "notify_customers) or [alerts.webhook] to the policy file.")
    with sending_lock(db):
        plan = make_plan(db, policy, settings, as_of)
        if on_plan is not None:
            on_plan(plan)
        return plan, send_messages(db, settings, plan.messages, as_of, progress=progress)


def check_messages(settings: AlertSettings) -> list[Message]:
    """The test message (are the settings right?) to each manager and to the webhook."""
    subject, text = check_message(settings.channels)
    out = [Message(channel, recipient, MANAGER, subject, text, kind="test")
           for channel, recipient in manager_recipients(settings)]
    if not out:
        raise HourbankError("no one to send a test message to: the policy file's [alerts] has no managers "
                            "(with [alerts.smtp]) and no [alerts.webhook].")
    return out


def send_check(db: str | Path, settings: AlertSettings, as_of: date, password: str | None = None) -> list[Outcome]:
    """Send the test message to each manager and the webhook, and record the outcomes (kind 'test')."""
    if not Path(db).exists():
        raise HourbankError(f"{db}: no such database; import an export first "
                            f"(python -m billing import EXPORT_DIR --db {db}).")
    return send_messages(db, settings, check_messages(settings), as_of, password)


def summary_line(plan: Plan) -> str:
    """"alerts as of 2026-04-30: 3 due (2 expiring, 1 low balance); 2 messages to send"."""
    from billing.alerts.messages import KIND_COUNTED

    counts = [(word, sum(a.kind == k for a in plan.alerts)) for k, word in KIND_COUNTED.items()]
    due = ", ".join(f"{n} {title}" for title, n in counts if n)
    n = len(plan.messages)
    head = f"alerts as of {plan.as_of}: {len(plan.alerts)} due" + (f" ({due})" if due else "")
    if not plan.alerts:
        return head + "; nothing to send."
    if not plan.settings.channels:
        return head + "; no channel to send them over ([alerts.smtp] or [alerts.webhook] in the policy file)."
    if not n:
        return head + "; every one already sent (or waiting for the next digest): nothing to send."
    return head + f"; {n} message{'s' if n != 1 else ''} to send."


def message_text(m: Message, settings: AlertSettings) -> str:
    """A message exactly as it goes out: an e-mail's From, To, Subject and text; a webhook's
    JSON body."""
    import json

    if m.channel == "email":
        return f"From: {settings.smtp.sender}\nTo: {m.recipient}\nSubject: {m.subject}\n\n{m.text}"
    return f"POST {m.recipient}/… (application/json)\n" + json.dumps({"text": m.webhook_text}, ensure_ascii=False,
                                                                    indent=1) + "\n"


def plan_text(plan: Plan, width: int | None = None) -> str:
    """The dry run's output: the summary, then every message as it would go out (with no channel
    set up, each alert due as the managers' message would say it). ``width``
    (a terminal's, in cells): each line broken between words to fit, and a webhook's text shown
    as the chat shows it (its JSON body is that text, one line: unreadable in a terminal);
    None: exactly as sent."""
    from billing.text_table import wrap_lines

    lines = [summary_line(plan)]
    if plan.alerts and not plan.settings.channels:   # nothing goes out: still say which customers need a look
        from billing.alerts.messages import manager_line

        lines += [f"- {manager_line(a)}" for a in plan.alerts]
    for i, m in enumerate(plan.messages, start=1):
        lines.append(f"=== message {i} of {len(plan.messages)}: {m.header()}")
        if width is not None and m.channel != "email":
            lines.append(f'POST {m.recipient}/… (application/json, {{"text": …}} with this text:)')
            lines.append(m.webhook_text.rstrip("\n"))
        else:
            lines.append(message_text(m, plan.settings).rstrip("\n"))
    return wrap_lines("\n".join(lines), width, "  ") + "\n"
