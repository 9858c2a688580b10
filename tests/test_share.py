"""Customer links (billing/share.py) and their command (python -m billing share): tokens that
round-trip, expire, break when changed, stop when revoked and never open another customer; the
secret's rules; the links' table in an older database."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
from itsdangerous import URLSafeTimedSerializer

from billing import share
from billing.errors import HourbankError
from billing.store import open_db
from tests.share_fixture import SECRET, build

ROOT = Path(__file__).resolve().parents[1]
T = date(2026, 4, 30)
NOW = datetime(2026, 4, 30, 12, 0, 0)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    return build(tmp_path_factory.mktemp("share"), T)


@pytest.fixture
def db(books, tmp_path):
    """A copy of the fixture's database for one test (links are written into it)."""
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(books.db.read_bytes())
    return copy


def token_of(link: share.Link) -> str:
    return parse_qs(urlsplit(link.url).query)["share"][0]


def refused(db, token, now=NOW, secret=SECRET) -> str:
    with pytest.raises(share.LinkRefused) as caught:
        share.open_link_in(db, secret, token, now)
    return caught.value.reason


# --------------------------------------------------------------------------- tokens
def test_a_link_round_trips_to_its_customer_until_it_expires(db):
    link = share.create_link(db, SECRET, "acme", 90, "https://hb.example.com/", created_by="ana@example.com", now=NOW)
    assert link.url.startswith("https://hb.example.com/?share=")
    assert link.expires_at == datetime(2026, 7, 29, 12, 0, 0)           # 90 days of 24 h after NOW
    access = share.open_link_in(db, SECRET, token_of(link), NOW + timedelta(days=89, hours=23, minutes=59))
    assert (access.link_id, access.customer_id, access.expires_at) == (link.link_id, "acme", link.expires_at)
    # The second it expires, and after: refused.
    assert refused(db, token_of(link), link.expires_at) == "expired"
    assert refused(db, token_of(link), link.expires_at + timedelta(days=400)) == "expired"


def test_the_recorded_expiry_counts_too(db):
    link = share.create_link(db, SECRET, "acme", 30, now=NOW)
    with open_db(db) as con:
        con.execute("UPDATE share_links SET expires_at = ? WHERE link_id = ?", [NOW + timedelta(days=1), link.link_id])
    assert share.open_link_in(db, SECRET, token_of(link), NOW).customer_id == "acme"
    assert refused(db, token_of(link), NOW + timedelta(days=1)) == "expired"


def _payload(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def _with_payload(token: str, payload: dict) -> str:
    head = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return ".".join([head, *token.split(".")[1:]])


def test_a_changed_token_is_refused_as_tampered(db):
    link = share.create_link(db, SECRET, "acme", 30, now=NOW)
    token = token_of(link)
    assert _payload(token)["customer"] == "acme"
    # Another customer written into the payload, the signature kept: the signature no longer fits.
    assert refused(db, _with_payload(token, {**_payload(token), "customer": "beta"})) == "tampered"
    # A later expiry written in: refused the same way.
    assert refused(db, _with_payload(token, {**_payload(token), "exp": _payload(token)["exp"] + 86400})) == "tampered"
    # One character of the signature changed, the token cut, emptied, made huge, or not text.
    # Not the last character: in base64 its low bits can be padding, so two letters may decode to
    # the same signature (this flaked once in ten runs); the fifth from the end carries six bits.
    flipped = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    for bad in (flipped, token[:-3], token.split(".")[0], "", "x" * 5000, "not.a.token"):
        assert refused(db, bad) == "tampered", bad
    # Signed with another secret, or by the same secret for another purpose (another salt).
    assert refused(db, token, secret="another secret that is long enough 0123456789") == "tampered"
    other_kind = URLSafeTimedSerializer(SECRET, salt="something else").dumps(_payload(token))
    assert refused(db, other_kind) == "tampered"


def test_a_token_for_another_customer_or_an_unknown_link_opens_nothing(db):
    link = share.create_link(db, SECRET, "acme", 30, now=NOW)
    # Properly signed (as if the secret had leaked or a bug signed it), but the recorded link is acme's.
    forged = share.make_token(SECRET, link.link_id, "beta", link.expires_at)
    assert refused(db, forged) == "other customer"
    assert refused(db, share.make_token(SECRET, "0123456789", "acme", link.expires_at)) == "unknown link"
    assert refused(db, share.make_token(SECRET, "../../etc", "acme", link.expires_at)) == "unknown link"
    # The real one still opens acme's page.
    assert share.open_link_in(db, SECRET, token_of(link), NOW).customer_id == "acme"


def test_a_revoked_link_is_refused_and_revoking_twice_says_so(db):
    link = share.create_link(db, SECRET, "acme", 30, now=NOW)
    other = share.create_link(db, SECRET, "acme", 30, now=NOW)
    assert share.revoke_link(db, link.link_id, revoked_by="ana@example.com", now=NOW) == ("acme", True)
    assert refused(db, token_of(link)) == "revoked"
    assert share.revoke_link(db, link.link_id, now=NOW) == ("acme", False)
    assert share.open_link_in(db, SECRET, token_of(other), NOW).customer_id == "acme"   # only that one
    with open_db(db, read_only=True) as con:
        frame = share.links(con, NOW).set_index("link_id")
    assert frame.loc[link.link_id, "status"] == "revoked"
    assert frame.loc[link.link_id, "revoked_by"] == "ana@example.com"
    assert frame.loc[other.link_id, "status"] == "active"
    with pytest.raises(HourbankError, match="link 'nope' is not in"):
        share.revoke_link(db, "nope")


def test_link_status_revoked_wins_then_expired():
    import pandas as pd

    frame = pd.DataFrame({"revoked_at": [None, NOW, None], "expires_at": [NOW, NOW + timedelta(days=1),
                                                                          NOW + timedelta(seconds=1)]})
    assert share.link_status(frame, NOW) == ["expired", "revoked", "active"]


def test_creating_a_link_checks_the_customer_the_days_the_address_and_the_database(db, tmp_path):
    with pytest.raises(HourbankError, match="no customer 'gamma' in .*: customers are given by id"):
        share.create_link(db, SECRET, "gamma", 30)
    for days in (0, -1, 367, True):
        with pytest.raises(HourbankError, match="1 to 366 days"):
            share.create_link(db, SECRET, "acme", days)
    for url in ("ftp://hb.example.com", "hb.example.com", "https://hb.example.com/?x=1", "https://", ""):
        with pytest.raises(HourbankError, match="is not the dashboard's address"):
            share.create_link(db, SECRET, "acme", 30, url)
    missing = tmp_path / "none.duckdb"
    with pytest.raises(HourbankError, match="no such database"):
        share.create_link(missing, SECRET, "acme", 30)
    assert not missing.exists()                      # nothing made on the way
    with open_db(db, read_only=True) as con:
        assert share.links(con).empty                # nothing recorded by the refused ones


def test_a_database_from_before_links_reads_as_having_none(books, tmp_path):
    old = tmp_path / "old.duckdb"
    old.write_bytes(books.db.read_bytes())
    with open_db(old) as con:
        con.execute("DROP TABLE share_links")
    with open_db(old, read_only=True) as con:           # read-only: the table cannot be made
        assert share.links(con).empty
        assert list(share.links(con).columns) == share.LINK_COLUMNS + ["status"]
    token = share.make_token(SECRET, "0123456789", "acme", NOW + timedelta(days=1))
    assert refused(old, token) == "unknown link"
    # The first link written makes the table (a read-write open), and it then works.
    link = share.create_link(old, SECRET, "acme", 1, now=NOW)
    assert share.open_link_in(old, SECRET, token_of(link), NOW).customer_id == "acme"


def test_no_database_is_a_refusal_not_an_error(tmp_path):
    token = share.make_token(SECRET, "0123456789", "acme", NOW + timedelta(days=1))
    assert refused(tmp_path / "none.duckdb", token) == "no database"
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database")
    assert refused(junk, token) == "no database"


# --------------------------------------------------------------------------- the secret
def test_the_secret_comes_from_the_environment_then_the_secrets_file():
    settings = {"hourbank": {"share_secret": "f" * 40, "managers": []}}
    assert share.share_secret(settings, {}) == "f" * 40
    assert share.share_secret(settings, {share.SECRET_ENV: "e" * 40}) == "e" * 40
    assert share.share_secret(None, {share.SECRET_ENV: "  " + "e" * 40 + "\n"}) == "e" * 40


@pytest.mark.parametrize("settings, environ", [
    (None, {}), ({}, {}), ({"hourbank": {}}, {}), ({"hourbank": {"share_secret": ""}}, {share.SECRET_ENV: " "}),
    ({"hourbank": "not a table"}, {})], ids=["no file", "empty file", "no key", "blank", "bad section"])
def test_without_a_secret_sharing_is_off_and_says_what_to_set(settings, environ):
    with pytest.raises(share.ShareOff) as caught:
        share.share_secret(settings, environ)
    assert str(caught.value).startswith("Sharing is off: no signing secret is set")
    assert "HOURBANK_SHARE_SECRET" in str(caught.value) and "share_secret under [hourbank]" in str(caught.value)


def test_a_short_or_non_text_secret_is_refused_without_repeating_it():
    with pytest.raises(share.ShareOff, match="shorter than 32 characters") as caught:
        share.share_secret(None, {share.SECRET_ENV: "hunter2-hunter2"})
    assert "hunter2" not in str(caught.value)
    with pytest.raises(share.ShareOff, match="share_secret under \\[hourbank\\].* shorter than 32"):
        share.share_secret({"hourbank": {"share_secret": "short"}}, {})
    with pytest.raises(share.ShareOff, match="must be text"):
        share.share_secret({"hourbank": {"share_secret": 12345}}, {})


def test_secrets_files_merge_and_a_broken_one_is_named(tmp_path):
    home, here = tmp_path / "home.toml", tmp_path / "here.toml"
    home.write_text('[hourbank]\nshare_secret = "from home"\nmanagers = ["a@example.com"]\n')
    here.write_text('[hourbank]\nshare_secret = "from here"\n')
    merged = share.read_secrets_files([home, here, tmp_path / "missing.toml"])
    assert merged["hourbank"] == {"share_secret": "from here", "managers": ["a@example.com"]}
    here.write_text('[hourbank\n')
    with pytest.raises(share.ShareOff, match="here.toml: is not valid TOML"):
        share.read_secrets_files([here])


def test_the_default_address_is_the_sign_in_redirect_without_its_callback():
    assert share.default_base_url({"auth": {"redirect_uri": "https://hb.example.com/oauth2callback"}}) == \
        "https://hb.example.com"
    assert share.default_base_url({"auth": {"redirect_uri": "https://x.example.com/hb/oauth2callback/"}}) == \
        "https://x.example.com/hb"
    assert share.default_base_url({"auth": {"redirect_uri": "not a url/oauth2callback"}}) == share.DEFAULT_BASE_URL
    assert share.default_base_url(None) == share.DEFAULT_BASE_URL == "http://localhost:8501"


def test_the_example_secrets_file_names_the_share_secret():
    import tomllib

    example = tomllib.loads((ROOT / ".streamlit" / "secrets.toml.example").read_text())
    assert share.SECRET_KEY in example["hourbank"]
    with pytest.raises(share.ShareOff):   # the example's empty value is not a usable secret
        share.share_secret(example, {})


# --------------------------------------------------------------------------- the command
def cli(*args, cwd: Path, env: dict | None = None):
    import os

    environ = {k: v for k, v in os.environ.items() if k != share.SECRET_ENV}
    environ.update({"HOME": str(cwd), "PYTHONPATH": str(ROOT)}, **(env or {}))
    out = subprocess.run([sys.executable, "-m", "billing", "share", *map(str, args)], cwd=cwd, env=environ,
                         capture_output=True, text=True)
    assert "Traceback" not in out.stderr, out.stderr
    return out


def test_share_prints_a_link_that_opens_that_customers_page(db, tmp_path):
    out = cli("acme", "--days", 7, "--base-url", "https://hb.example.com", "--db", db, cwd=tmp_path,
              env={share.SECRET_ENV: SECRET})
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    assert len(out.stdout.splitlines()) == 1 and url.startswith("https://hb.example.com/?share=")
    token = parse_qs(urlsplit(url).query)["share"][0]
    access = share.open_link_in(db, SECRET, token)
    assert access.customer_id == "acme"
    assert timedelta(days=7) - (access.expires_at - share.now_utc()) < timedelta(minutes=1)
    assert f"link {access.link_id} to acme's page, good until" in out.stderr
    assert f"python -m billing share --revoke {access.link_id}" in out.stderr


def test_share_reads_the_secret_and_the_address_from_the_secrets_file(db, tmp_path):
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        f'[auth]\nredirect_uri = "https://hb.example.com/oauth2callback"\n[hourbank]\nshare_secret = "{SECRET}"\n')
    out = cli("beta", "--db", db, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    token = parse_qs(urlsplit(out.stdout.strip()).query)["share"][0]
    assert out.stdout.startswith("https://hb.example.com/?share=")
    access = share.open_link_in(db, SECRET, token)
    assert access.customer_id == "beta"
    assert timedelta(days=90) - (access.expires_at - share.now_utc()) < timedelta(minutes=1)   # --days default


def test_share_without_a_secret_or_for_an_unknown_customer_is_one_sentence(db, tmp_path):
    out = cli("acme", "--db", db, cwd=tmp_path)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith("error: Sharing is off: no signing secret is set (set HOURBANK_SHARE_SECRET")
    out = cli("gamma", "--db", db, cwd=tmp_path, env={share.SECRET_ENV: SECRET})
    assert out.returncode == 1 and out.stderr.startswith("error: no customer 'gamma' in ")
    out = cli("acme", "--days", 0, "--db", db, cwd=tmp_path, env={share.SECRET_ENV: SECRET})
    assert out.returncode == 1 and "--days 0: a link is good for 1 to 366 days." in out.stderr
    for args in ([], ["acme", "--list"], ["--list", "--revoke", "x"]):
        out = cli(*args, "--db", db, cwd=tmp_path)
        assert out.returncode == 1 and "share needs exactly one of" in out.stderr
    with open_db(db, read_only=True) as con:
        assert share.links(con).empty


def test_share_list_and_revoke(db, tmp_path):
    policy = tmp_path / "p.toml"
    policy.write_text('timezone = "Europe/Berlin"\n')
    assert cli("--list", "--db", db, "--policy", policy, cwd=tmp_path).stdout.startswith("no links yet")
    first = share.create_link(db, SECRET, "acme", 30, created_by="ana@example.com", now=datetime(2026, 4, 30, 8, 5))
    cli("beta", "--db", db, cwd=tmp_path, env={share.SECRET_ENV: SECRET})
    out = cli("--revoke", first.link_id, "--db", db, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == \
        f"link {first.link_id} to acme's page revoked: it opens nothing from now on."
    assert refused(db, token_of(first)) == "revoked"
    again = cli("--revoke", first.link_id, "--db", db, cwd=tmp_path)
    assert again.returncode == 0 and "was already revoked" in again.stdout
    unknown = cli("--revoke", "nope", "--db", db, cwd=tmp_path)
    assert unknown.returncode == 1 and unknown.stderr.startswith("error: link 'nope' is not in ")
    narrow = cli("--list", "--db", db, "--policy", policy, cwd=tmp_path, env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 80 and "(Beta GmbH)" in narrow
    lines = cli("--list", "--db", db, "--policy", policy, cwd=tmp_path, env={"COLUMNS": "300"}).stdout.splitlines()
    assert len(lines) == 2
    beta_line, acme_line = lines       # newest first
    assert beta_line.split()[1:3] == ["active", "beta"] and "(Beta GmbH)" in beta_line
    assert "by command line" in beta_line
    # 08:05 UTC is 10:05 in Berlin (summer time); 30 days later likewise.
    assert acme_line.startswith(f"{first.link_id}  revoked  acme (Acme Ltd)  made 2026-04-30 10:05 Europe/Berlin "
                                f"by ana@example.com  good until 2026-05-30 10:05 Europe/Berlin  revoked ")


def test_share_list_on_an_older_database_works_read_only(books, tmp_path):
    old = tmp_path / "old.duckdb"
    old.write_bytes(books.db.read_bytes())
    with open_db(old) as con:
        con.execute("DROP TABLE share_links")
    out = cli("--list", "--db", old, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("no links yet")
    con = duckdb.connect(str(old), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'share_links'").fetchone()[0] == 0
    finally:
        con.close()
