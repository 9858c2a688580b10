"""Each customer's own view: signed, expiring links to a read-only customer page.

A manager makes a link for one customer (``create_link``); it carries a token signed with
itsdangerous (HMAC-SHA1 over the payload and the time it was signed, under a key derived
from the team's secret) that names the link and the customer and says until when it is good.
The link is recorded in the database (table ``share_links``: link id, customer, created
at/by, expires at, revoked at/by), so it can be listed and revoked; ``open_link`` accepts a
token only when

- its signature is this secret's (anything changed in it, or another secret: refused),
- it has not expired (the token's own expiry and the recorded one),
- the link is recorded, for the same customer as the token says, and not revoked.

Every refusal raises ``LinkRefused`` with the reason for the log and the tests; the page
shows one polite sentence whatever it is (``REFUSAL``), so a visitor learns nothing from it.

The secret: ``HOURBANK_SHARE_SECRET`` in the environment, else ``share_secret`` under
``[hourbank]`` in .streamlit/secrets.toml; without one (or one shorter than
``MIN_SECRET_CHARS``) sharing is off and ``ShareOff`` says why. Changing the secret
invalidates every link made before.

Times are UTC (naive TIMESTAMPs, as the rest of the database); a database made before this
table existed reads as having no links (a read-only open cannot create the table).
"""
from __future__ import annotations

import getpass
import os
import re
import secrets as _secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pandas as pd
from itsdangerous import BadData, URLSafeTimedSerializer

from billing.errors import HourbankError
from billing.store import DatabaseError, open_db, transaction

TABLE = "share_links"
SECRET_ENV = "HOURBANK_SHARE_SECRET"
SECRET_KEY = "share_secret"
SECTION = "hourbank"
MIN_SECRET_CHARS = 32
MAX_DAYS = 366
DEFAULT_DAYS = 90
DEFAULT_BASE_URL = "http://localhost:8501"
QUERY_PARAM = "share"
# Salt: a token of this kind cannot be taken for another signed with the same secret.
SALT = "hourbank.share-link.v1"
MAX_TOKEN_CHARS = 512
LINK_ID = re.compile(r"^[0-9a-f]{10}$")

# What a visitor sees for every refused link (revoked, expired, changed, another's, sharing off).
REFUSAL = ("Sorry, this link does not open a customer page (it may have expired or been withdrawn); "
           "please ask your contact in the support team for a new one.")

LINK_COLUMNS = ["link_id", "customer_id", "created_at", "created_by", "expires_at", "revoked_at", "revoked_by"]


class ShareOff(HourbankError):
    """Sharing is off: no usable signing secret (one sentence saying what to set)."""


class LinkRefused(HourbankError):
    """A token that opens nothing; ``reason``: tampered, expired, revoked, unknown link,
    other customer, sharing off, no database."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- the secret
def secrets_files() -> list[Path]:
    """Where the command line reads .streamlit/secrets.toml: as Streamlit does, the user's
    ~/.streamlit/secrets.toml and then the current folder's (the later one wins)."""
    return [Path.home() / ".streamlit" / "secrets.toml", Path.cwd() / ".streamlit" / "secrets.toml"]


def read_secrets_files(paths: list[Path] | None = None) -> dict:
    """The secrets files' tables merged (later files win per top-level table), for the command
    line. A file that exists but is not TOML raises ShareOff naming it."""
    merged: dict = {}
    for path in paths if paths is not None else secrets_files():
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ShareOff(f"{path}: cannot be read ({exc.strerror or exc}), so sharing is off.") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ShareOff(f"{path}: is not valid TOML ({exc}), so sharing is off.") from None
        for key, value in data.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


def share_secret(settings: Mapping | None, environ: Mapping | None = None) -> str:
    """The signing secret: ``HOURBANK_SHARE_SECRET`` from ``environ`` (default os.environ),
    else ``settings["hourbank"]["share_secret"]`` (the secrets file's tables). Raises ShareOff
    with the reason when there is none, it is not text, or it is shorter than
    MIN_SECRET_CHARS characters. The secret itself is never put in a message."""
    environ = os.environ if environ is None else environ
    value = environ.get(SECRET_ENV, "")
    where = f"the environment variable {SECRET_ENV}"
    if not value.strip():
        section = (settings or {}).get(SECTION) if isinstance(settings, Mapping) else None
        value = section.get(SECRET_KEY) if isinstance(section, Mapping) else None
        where = f"{SECRET_KEY} under [{SECTION}] in .streamlit/secrets.toml"
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ShareOff(f"Sharing is off: no signing secret is set (set {SECRET_ENV} in the environment, "
                           f"or {SECRET_KEY} under [{SECTION}] in .streamlit/secrets.toml; README, "
                           f"'Sharing a customer's view').")
        if not isinstance(value, str):
            raise ShareOff(f"Sharing is off: {where} must be text.")
    if len(value.strip()) < MIN_SECRET_CHARS:
        raise ShareOff(f"Sharing is off: {where} is shorter than {MIN_SECRET_CHARS} characters, too easy to "
                       f"guess (make one with: python3 -c \"import secrets; print(secrets.token_urlsafe(48))\").")
    return value.strip()


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


# --------------------------------------------------------------------------- tokens
def now_utc() -> datetime:
    """Now in UTC, naive and to the second, as the database keeps instants."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def _epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=timezone.utc).timestamp())


def make_token(secret: str, link_id: str, customer_id: str, expires_at: datetime) -> str:
    """The signed token of a link: link id, customer id and expiry (UTC), URL-safe text."""
    return _serializer(secret).dumps({"link": link_id, "customer": customer_id, "exp": _epoch(expires_at)})


@dataclass(frozen=True)
class TokenClaims:
    link_id: str
    customer_id: str
    expires_at: datetime   # UTC, naive


def read_token(secret: str, token: str, now: datetime | None = None) -> TokenClaims:
    """What a token says, once its signature and its own expiry are checked (not the
    database: ``open_link`` does both). Raises LinkRefused("tampered") for a token that is
    not one this secret signed (changed, cut, too long, another secret or kind), and
    LinkRefused("expired") when its expiry has passed."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise LinkRefused("tampered")
    try:
        payload = _serializer(secret).loads(token)
    except BadData:
        raise LinkRefused("tampered") from None
    if (not isinstance(payload, dict) or set(payload) != {"link", "customer", "exp"}
            or not isinstance(payload["link"], str) or not isinstance(payload["customer"], str)
            or not isinstance(payload["exp"], int)):
        raise LinkRefused("tampered")
    expires_at = datetime.fromtimestamp(payload["exp"], timezone.utc).replace(tzinfo=None)
    if (now or now_utc()) >= expires_at:
        raise LinkRefused("expired")
    return TokenClaims(payload["link"], payload["customer"], expires_at)


def link_url(base_url: str, token: str) -> str:
    """The link people open: ``BASE/?share=TOKEN``."""
    return f"{base_url.rstrip('/')}/?{QUERY_PARAM}={token}"


def check_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash. Raises HourbankError naming it unless it is an
    http(s) address with a host and no query or fragment."""
    text = (base_url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise HourbankError(f"--base-url {base_url!r} is not the dashboard's address (e.g. "
                            f"https://hourbank.example.com, no query or #).")
    return text.rstrip("/")


def default_base_url(settings: Mapping | None) -> str:
    """Where the dashboard is reached when no base URL is given: the [auth] redirect_uri of
    the secrets file without its /oauth2callback (the dashboard's public address, README
    'Deploying'), else DEFAULT_BASE_URL (Streamlit's own default on this machine)."""
    auth = settings.get("auth") if isinstance(settings, Mapping) else None
    redirect = auth.get("redirect_uri") if isinstance(auth, Mapping) else None
    if isinstance(redirect, str) and redirect.rstrip("/").endswith("/oauth2callback"):
        candidate = redirect.rstrip("/")[: -len("/oauth2callback")]
        try:
            return check_base_url(candidate)
        except HourbankError:
            pass
    return DEFAULT_BASE_URL


# --------------------------------------------------------------------------- the links table
def has_table(con) -> bool:
    """Whether the database has the links' table (one made before sharing existed has not)."""
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'",
                       [TABLE]).fetchone()[0] > 0


def who_runs_this() -> str:
    """"command line (USER)": who made or revoked a link from the command line."""
    try:
        return f"command line ({getpass.getuser()})"
    except (KeyError, OSError):   # no user name for this uid (a container)
        return "command line"


def _must_exist(db) -> None:
    """A read-write open would create an empty database: a link needs the one with the data."""
    if not Path(db).exists():
        raise HourbankError(f"{db}: no such database; import an export first "
                            f"(python -m billing import EXPORT_DIR --db {db}).")


def local_text(moment, zone: str) -> str:
    """A stored UTC instant for people, in the policy's zone to the minute:
    "2027-02-27 11:15 Europe/Berlin"; missing → a dash (billing.display)."""
    from billing.display import MISSING, is_missing

    if is_missing(moment):
        return MISSING
    local = pd.Timestamp(moment).tz_localize("UTC").tz_convert(zone)
    return f"{local:%Y-%m-%d %H:%M} {zone}"


def local_words(moment, zone: str) -> str:
    """``local_text`` as the customer's own page writes it: "27 Feb 2027, 11:15 Europe/Berlin"."""
    from billing.display import MISSING, day_words, is_missing

    if is_missing(moment):
        return MISSING
    local = pd.Timestamp(moment).tz_localize("UTC").tz_convert(zone)
    return f"{day_words(local.date())}, {local:%H:%M} {zone}"


@dataclass(frozen=True)
class Link:
    link_id: str
    customer_id: str
    created_at: datetime
    created_by: str | None
    expires_at: datetime
    url: str


def create_link(db, secret: str, customer_id: str, days: int = DEFAULT_DAYS, base_url: str = DEFAULT_BASE_URL,
                created_by: str | None = None, now: datetime | None = None) -> Link:
    """Record a link to ``customer_id``'s page, good for ``days`` days (1..MAX_DAYS) from now,
    and return it with its URL. Raises HourbankError naming the customer when the database
    has no such customer, or the days when out of range."""
    from billing.customers import customers_frame, unknown_customer_message

    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise HourbankError(f"--days {days}: a link is good for 1 to {MAX_DAYS} days.")
    base_url = check_base_url(base_url)
    _must_exist(db)
    now = now or now_utc()
    expires_at = now + timedelta(days=days)
    with open_db(db) as con:
        # The one lookup every command uses: it points at the id when the text is a name.
        problem = unknown_customer_message(customer_id, customers_frame(con), str(db))
        if problem:
            raise HourbankError(problem)
        with transaction(con):
            taken = {r[0] for r in con.execute(f"SELECT link_id FROM {TABLE}").fetchall()}
            link_id = _secrets.token_hex(5)
            while link_id in taken:
                link_id = _secrets.token_hex(5)
            con.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                        [link_id, customer_id, now, created_by, expires_at])
    token = make_token(secret, link_id, customer_id, expires_at)
    return Link(link_id, customer_id, now, created_by, expires_at, link_url(base_url, token))


def links(con, now: datetime | None = None) -> pd.DataFrame:
    """Every recorded link, newest first, with its status as of ``now`` (default: now;
    ``active``, ``expired`` or ``revoked``): LINK_COLUMNS + status. Empty (same columns) for a database made before
    links existed."""
    if not has_table(con):
        return no_links()
    frame = con.execute(f"SELECT {', '.join(LINK_COLUMNS)} FROM {TABLE} ORDER BY created_at DESC, link_id").df()
    frame["status"] = link_status(frame, now)
    return frame


def no_links() -> pd.DataFrame:
    """``links``' frame with no link in it."""
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in LINK_COLUMNS})
    frame["status"] = pd.Series(dtype="object")
    return frame


def link_status(frame: pd.DataFrame, now: datetime | None = None) -> list[str]:
    """``revoked`` (whatever the date), else ``expired`` once expires_at has passed, else ``active``."""
    now = now or now_utc()
    return ["revoked" if not pd.isna(r) else "expired" if pd.Timestamp(e) <= pd.Timestamp(now) else "active"
            for r, e in zip(frame["revoked_at"], frame["expires_at"])]


def revoke_link(db, link_id: str, revoked_by: str | None = None, now: datetime | None = None) -> tuple[str, bool]:
    """Revoke a link: its page refuses from now on. Returns (customer id, True) when revoked
    now, (customer id, False) when it already was. Raises HourbankError naming the link id
    when there is no such link."""
    _must_exist(db)
    with open_db(db) as con:
        row = con.execute(f"SELECT customer_id, revoked_at FROM {TABLE} WHERE link_id = ?",
                          [str(link_id)]).fetchone()
        if row is None:
            raise HourbankError(f"link {link_id!r} is not in {db} (python -m billing share --list lists them).")
        if row[1] is not None:
            return row[0], False
        con.execute(f"UPDATE {TABLE} SET revoked_at = ?, revoked_by = ? WHERE link_id = ?",
                    [now or now_utc(), revoked_by, str(link_id)])
    return row[0], True


@dataclass(frozen=True)
class Access:
    """What an accepted token opens: one customer's page, until expires_at (UTC)."""
    link_id: str
    customer_id: str
    expires_at: datetime


def open_link(con, secret: str, token: str, now: datetime | None = None) -> Access:
    """Check ``token`` against the secret and the recorded links (``con``: read-only is
    enough). Returns the Access it gives; raises LinkRefused with the reason otherwise:
    tampered, expired, unknown link, other customer, revoked."""
    now = now or now_utc()
    claims = read_token(secret, token, now)
    if not LINK_ID.match(claims.link_id) or not has_table(con):
        raise LinkRefused("unknown link")
    row = con.execute(f"SELECT customer_id, expires_at, revoked_at FROM {TABLE} WHERE link_id = ?",
                      [claims.link_id]).fetchone()
    if row is None:
        raise LinkRefused("unknown link")
    customer_id, expires_at, revoked_at = row
    if customer_id != claims.customer_id:
        raise LinkRefused("other customer")
    if revoked_at is not None:
        raise LinkRefused("revoked")
    if now >= expires_at:
        raise LinkRefused("expired")
    return Access(claims.link_id, customer_id, expires_at)


def open_link_in(db, secret: str, token: str, now: datetime | None = None) -> Access:
    """``open_link`` on the database file ``db`` (opened read-only, closed at once); a missing
    or unusable database is LinkRefused("no database")."""
    if not Path(db).exists():
        raise LinkRefused("no database")
    try:
        with open_db(db, read_only=True) as con:
            return open_link(con, secret, token, now)
    except (duckdb.Error, DatabaseError):
        raise LinkRefused("no database") from None
