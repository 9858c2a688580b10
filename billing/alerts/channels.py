"""Sending: e-mail over SMTP (smtplib, email.message) and a webhook (a JSON POST with a
``text`` field, which Slack's and Microsoft Teams' incoming webhooks both show).

A failure is a ``SendError`` of one sentence that says what the server or the network
answered; it never contains the SMTP password or the webhook's path (its secret).
"""
from __future__ import annotations

import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from billing.alerts.settings import PASSWORD_ENV, SmtpSettings, WebhookSettings
from billing.errors import HourbankError


class SendError(HourbankError):
    """One message could not be sent (one sentence: what was answered)."""


def email_message(smtp: SmtpSettings, to: str, subject: str, text: str) -> EmailMessage:
    """The e-mail: From the sender, To one address, plain UTF-8 text."""
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"   # RFC 3834: no out-of-office replies to a robot
    msg.set_content(text)
    return msg


class Mailer:
    """One SMTP session for a run's e-mails (opened at the first one, reopened after a
    dropped connection), closed by ``close``. ``password``: HOURBANK_SMTP_PASSWORD's value."""

    def __init__(self, smtp: SmtpSettings, password: str | None):
        self.smtp = smtp
        self.password = password
        self.server: smtplib.SMTP | None = None
        # Why the session could not be opened (login refused, no answer): the run's other
        # e-mails fail with the same sentence at once instead of each waiting for it again.
        self.cannot_connect: SendError | None = None

    def _where(self) -> str:
        return f"the mail server {self.smtp.host}:{self.smtp.port}"

    def _connect(self) -> smtplib.SMTP:
        s = self.smtp
        if s.user and not self.password:
            raise SendError(f"{self._where()} needs the password of user {s.user}: set {PASSWORD_ENV} in "
                            f"the environment.")
        context = ssl.create_default_context()
        try:
            if s.security == "tls":
                server = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
            else:
                server = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            try:
                if s.security == "starttls":
                    server.ehlo()
                    if not server.has_extn("starttls"):
                        raise SendError(f"{self._where()} does not offer STARTTLS (security = \"starttls\"); "
                                        f"nothing was sent unencrypted.")
                    server.starttls(context=context)
                    server.ehlo()
                if s.user:
                    server.login(s.user, self.password)
            except BaseException:
                server.close()
                raise
        except SendError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"{self._where()} refused the login of {s.user} ({_smtp_reply(exc)}).") from None
        except ssl.SSLCertVerificationError as exc:
            raise SendError(f"{self._where()}: its TLS certificate is not trusted ({exc.verify_message}).") from None
        except (ssl.SSLError, smtplib.SMTPException) as exc:
            raise SendError(f"{self._where()}: {_smtp_reply(exc)}.") from None
        except (OSError, socket.timeout) as exc:
            raise SendError(f"cannot reach {self._where()} ({_os_reason(exc)}).") from None
        return server

    def send(self, to: str, subject: str, text: str) -> None:
        """Send one e-mail to ``to``; raises SendError."""
        msg = email_message(self.smtp, to, subject, text)
        for attempt in (1, 2):
            if self.cannot_connect is not None:
                raise SendError(str(self.cannot_connect))
            if self.server is None:
                try:
                    self.server = self._connect()
                except SendError as exc:
                    self.cannot_connect = exc
                    raise
            try:
                refused = self.server.send_message(msg)
            except smtplib.SMTPServerDisconnected:
                self.server = None
                if attempt == 2:
                    raise SendError(f"{self._where()} closed the connection.") from None
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                reply = next(iter(exc.recipients.values()), None)
                raise SendError(f"{self._where()} refused the recipient {to} "
                                f"({_code_text(reply) if reply else 'no reason given'}).") from None
            except smtplib.SMTPSenderRefused as exc:
                raise SendError(f"{self._where()} refused the sender {self.smtp.sender} ({_smtp_reply(exc)}).") \
                    from None
            except smtplib.SMTPException as exc:
                self._drop()
                raise SendError(f"{self._where()} did not accept the message ({_smtp_reply(exc)}).") from None
            except OSError as exc:
                self._drop()
                raise SendError(f"{self._where()}: the connection failed ({_os_reason(exc)}).") from None
            if refused:
                raise SendError(f"{self._where()} refused the recipient {to} ({_code_text(refused[to])}).")
            return

    def _drop(self) -> None:
        if self.server is not None:
            try:
                self.server.close()
            finally:
                self.server = None

    def close(self) -> None:
        if self.server is not None:
            try:
                self.server.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                self._drop()


def _code_text(reply) -> str:
    code, message = reply
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}".strip()


def _smtp_reply(exc: Exception) -> str:
    code = getattr(exc, "smtp_code", None)
    if code is not None:
        return _code_text((code, getattr(exc, "smtp_error", b"")))
    return " ".join(str(exc).split()) or type(exc).__name__


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "no answer in time"
    return getattr(exc, "strerror", None) or " ".join(str(exc).split()) or type(exc).__name__


def post_webhook(hook: WebhookSettings, text: str) -> None:
    """POST ``{"text": text}`` as JSON to the webhook; raises SendError unless it answers 2xx.
    The error names the webhook by its scheme and host only (the path is its secret)."""
    body = json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(hook.url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": "Hourbank alerts"})
    try:
        with urllib.request.urlopen(request, timeout=hook.timeout_seconds,
                                    context=ssl.create_default_context()) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise SendError(f"the webhook at {hook.label} answered HTTP {exc.code} ({exc.reason}).") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise SendError(f"the webhook at {hook.label}: its TLS certificate is not trusted "
                            f"({reason.verify_message}).") from None
        raise SendError(f"cannot reach the webhook at {hook.label} ({_os_reason(reason) if isinstance(reason, BaseException) else reason}).") \
            from None
    except (OSError, socket.timeout) as exc:
        raise SendError(f"the webhook at {hook.label} failed ({_os_reason(exc)}).") from None
