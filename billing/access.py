"""Who may look at the dashboard: the managers' allow-list (no Streamlit here).

Sign-in itself is Streamlit's (st.login, OpenID Connect, an [auth] section in
.streamlit/secrets.toml); this module only decides whether a signed-in identity is on the
list kept in the same file:

    [hourbank]
    managers = ["ana@example.com", "@billing.example.com"]

An entry is either one e-mail address or "@domain", which lets in every address of exactly
that domain (not its subdomains). Matching ignores case and surrounding spaces. An empty or
missing list lets in nobody: sign-in without a list fails closed. A provider that says the
e-mail is not verified (email_verified false) is not trusted with it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from billing.errors import HourbankError

SECTION = "hourbank"
KEY = "managers"


class AccessSettingsError(HourbankError):
    """The allow-list in the secrets file cannot be used (one sentence naming the entry)."""


def _split(address: str) -> tuple[str, str] | None:
    """(local part, domain) of a normalised address, or None when it is not one."""
    local, at, domain = address.rpartition("@")
    if not at or not domain or "@" in local or any(ch.isspace() for ch in address):
        return None
    return local, domain


def normalise(address: str) -> str:
    """An address as the allow-list compares it: trimmed, lower case."""
    return address.strip().lower()


@dataclass(frozen=True)
class AllowList:
    """Managers' e-mails and whole domains; `allows` is the only question asked of it."""
    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: object, where: str = f"[{SECTION}] {KEY}") -> "AllowList":
        """The list from the secrets file; anything that is not a list of addresses or
        "@domain" entries is refused with one sentence naming the entry."""
        if entries is None:
            return cls()
        if isinstance(entries, str) or not isinstance(entries, (list, tuple)):
            raise AccessSettingsError(
                f'{where} in .streamlit/secrets.toml must be a list of e-mail addresses, e.g. ["ana@example.com"].')
        emails, domains = set(), set()
        for n, raw in enumerate(entries, start=1):
            if not isinstance(raw, str):
                raise AccessSettingsError(f"{where} entry {n} in .streamlit/secrets.toml is not text.")
            entry = normalise(raw)
            parts = _split(entry)
            if parts is None or "." not in parts[1].strip("."):
                # The entry itself is not repeated: this sentence is shown before anyone has signed in.
                raise AccessSettingsError(f"{where} entry {n} in .streamlit/secrets.toml is neither an e-mail "
                                          'address nor "@domain".')
            local, domain = parts
            if local:
                emails.add(entry)
            else:
                domains.add(domain)
        return cls(frozenset(emails), frozenset(domains))

    @classmethod
    def from_settings(cls, settings: Mapping | None) -> "AllowList":
        """The list from the [hourbank] section of the secrets (missing section: empty list)."""
        if settings is None:
            return cls()
        if not isinstance(settings, Mapping):
            raise AccessSettingsError(f"[{SECTION}] in .streamlit/secrets.toml must be a table.")
        return cls.parse(settings.get(KEY))

    def __bool__(self) -> bool:
        return bool(self.emails or self.domains)

    def allows(self, address: str | None) -> bool:
        if not address or not isinstance(address, str):
            return False
        address = normalise(address)
        parts = _split(address)
        if parts is None or not parts[0]:
            return False
        return address in self.emails or parts[1] in self.domains


@dataclass(frozen=True)
class Verdict:
    """What the allow-list says about one signed-in identity."""
    allowed: bool
    email: str | None      # the token's e-mail, normalised (None: the token has none)
    reason: str            # "on the list", "no e-mail", "e-mail not verified", "not on the list"


def check(claims: Mapping, allow: AllowList) -> Verdict:
    """Whether the identity token's claims (st.user) name a manager on the list. A token
    without an e-mail, or whose provider says the e-mail is not verified, is refused."""
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        return Verdict(False, None, "no e-mail")
    email = normalise(email)
    verified = claims.get("email_verified", True)
    if verified is False or (isinstance(verified, str) and verified.strip().lower() == "false"):
        return Verdict(False, email, "e-mail not verified")
    if allow.allows(email):
        return Verdict(True, email, "on the list")
    return Verdict(False, email, "not on the list")
