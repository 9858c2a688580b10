"""Real servers on 127.0.0.1 for the alerts' tests: an SMTP server (aiosmtpd) that keeps what
arrives and can refuse recipients, and a webhook (http.server in a thread) that keeps each
POST and can answer an error. Only loopback addresses; each server stops when its test ends.
"""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        """As a mail reader shows it: unfolded, without the space a folded header starts with."""
        return str(self.message["Subject"]).strip()

    @property
    def text(self) -> str:
        """The text as a mail reader shows it (SMTP carries its lines with CRLF)."""
        return self.message.get_content().replace("\r\n", "\n")


@dataclass
class SmtpHandler:
    """Keeps every accepted message; ``refuse`` maps a recipient to the reply that refuses it."""
    mails: list[Mail] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.recipients]


@contextmanager
def smtp_server(handler: SmtpHandler | None = None, **smtp_options):
    """An aiosmtpd server on 127.0.0.1 (a free port): yields (handler, port)."""
    handler = handler or SmtpHandler()
    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port, **smtp_options)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself, and its key (PEM files in ``folder``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def password_check(user: str, password: str, logins: list[str]):
    """An aiosmtpd authenticator that lets in ``user`` with ``password`` only."""
    def check(server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        secret = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
        ok = login == user and secret == password
        if ok:
            logins.append(login)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself
    return check


@dataclass
class Webhook:
    """What the webhook received (path, headers, JSON body) and what it answers next."""
    posts: list[dict] = field(default_factory=list)
    status: int = 200
    url: str = ""

    @property
    def texts(self) -> list[str]:
        return [p["json"]["text"] for p in self.posts]


@contextmanager
def webhook_server(path: str = "/hooks/T000/B000/secret"):
    """An HTTP server on 127.0.0.1 that keeps every POST; yields a Webhook (``url`` to post to)."""
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            hook.posts.append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                               "json": json.loads(body.decode("utf-8")), "status": hook.status})
            self.send_response(hook.status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if hook.status < 300 else b"error")

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    hook.url = f"http://{HOST}:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
