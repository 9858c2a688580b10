"""Who may look: the managers' allow-list (billing.access) and the sign-in gate of the dashboard
(pages/_auth.py) through AppTest's user and secrets injection, on test_pages' fixture database.

Every test here points Streamlit's secrets files at one file of its own (`secrets_file`), so a
developer's real .streamlit/secrets.toml cannot change what they see.
"""
from __future__ import annotations

import sys
import tomllib
import types
from pathlib import Path

import pytest
from streamlit import config
from streamlit.runtime.secrets import secrets_singleton
from streamlit.testing.v1 import AppTest

from billing.access import AccessSettingsError, AllowList, check
from tests.apptest_live import as_on_a_live_server
from tests.test_pages import (ROOT, T, env, fixture_files, metrics, on_page)  # noqa: F401  (fixtures)

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "cookie-secret-c0ffee",
    "client_id": "hourbank-client-id",
    "client_secret": "client-secret-deadbeef",
    "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
}
MANAGERS = ["  Ana@Example.com ", "@billing.example.org"]
ANONYMOUS = {"is_logged_in": False}
ANA = {"is_logged_in": True, "email": "ana@example.com", "email_verified": True, "name": "Ana"}
BEA = {"is_logged_in": True, "email": "bea@BILLING.example.org"}       # by the domain entry
EVE = {"is_logged_in": True, "email": "eve@example.com", "name": "Eve"}
# Every page of the app (dashboard.PAGES), including those test_pages does not open.
ALL_PAGES = ["pages/overview.py", "pages/usage.py", "pages/expiring.py", "pages/alerts.py", "pages/cancellations.py",
             "pages/adjustments.py", "pages/statement.py", "pages/customer_links.py", "pages/data_quality.py",
             "pages/import.py", "pages/policy.py"]


# --- the allow-list (no Streamlit) ---------------------------------------------------------

def test_matching_ignores_case_and_surrounding_spaces():
    allow = AllowList.parse(["  Ana@Example.COM "])
    assert allow.allows("ana@example.com")
    assert allow.allows(" ANA@example.com\t")
    assert not allow.allows("ana@example.co")
    assert not allow.allows("anna@example.com")
    assert not allow.allows("ana@example.com.evil.net")


def test_a_domain_entry_lets_in_that_domain_only():
    allow = AllowList.parse(["@Example.com"])
    assert allow.allows("anyone@example.com")
    assert allow.allows("Someone.Else@EXAMPLE.COM")
    assert not allow.allows("x@sub.example.com")        # not subdomains
    assert not allow.allows("x@evilexample.com")        # not a suffix
    assert not allow.allows("x@example.com.evil.net")
    assert not allow.allows("@example.com")             # no one is called ""
    assert not allow.allows("x@y@example.com")


@pytest.mark.parametrize("entries", [[], None])
def test_an_empty_or_missing_list_lets_in_nobody(entries):
    allow = AllowList.parse(entries)
    assert not allow
    assert not allow.allows("ana@example.com")
    assert not AllowList.from_settings(None).allows("ana@example.com")
    assert not AllowList.from_settings({}).allows("ana@example.com")


def test_no_address_is_never_allowed():
    allow = AllowList.parse(["@example.com"])
    for nothing in (None, "", "   ", "example.com", 42):
        assert not allow.allows(nothing)


@pytest.mark.parametrize("entries, words", [
    ("ana@example.com", "must be a list"),
    ({"ana": "ana@example.com"}, "must be a list"),
    (["ana@example.com", 7], "entry 2"),
    (["ana@example.com", "bob"], "entry 2"),
    (["@com"], "entry 1"),
    (["ana smith@example.com"], "entry 1"),
    ([""], "entry 1"),
])
def test_a_list_that_cannot_be_used_is_one_sentence_naming_the_entry_not_its_value(entries, words):
    with pytest.raises(AccessSettingsError) as err:
        AllowList.parse(entries)
    message = str(err.value)
    assert words in message and "[hourbank] managers" in message and message.endswith(".")
    assert "\n" not in message and "bob" not in message and "smith" not in message


def test_the_section_must_be_a_table():
    with pytest.raises(AccessSettingsError, match=r"\[hourbank\]"):
        AllowList.from_settings(["ana@example.com"])


def test_check_needs_a_verified_email_on_the_list():
    allow = AllowList.parse(MANAGERS)
    assert check(ANA, allow).allowed and check(ANA, allow).email == "ana@example.com"
    assert check(BEA, allow).allowed and check(BEA, allow).email == "bea@billing.example.org"
    eve = check(EVE, allow)
    assert (eve.allowed, eve.email, eve.reason) == (False, "eve@example.com", "not on the list")
    assert check({"is_logged_in": True, "name": "Ana"}, allow).reason == "no e-mail"
    for unverified in (False, "false", "False"):
        verdict = check({**ANA, "email_verified": unverified}, allow)
        assert (verdict.allowed, verdict.reason) == (False, "e-mail not verified")
    assert check({**ANA, "email_verified": "true"}, allow).allowed


# --- the dashboard ---------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def secrets_file(monkeypatch, tmp_path):
    """Streamlit reads secrets from this test's own file (not written: no secrets at all)."""
    path = tmp_path / "secrets.toml"
    get_option = config.get_option
    monkeypatch.setattr(config, "get_option",
                        lambda name: [str(path)] if name == "secrets.files" else get_option(name))
    monkeypatch.setattr(secrets_singleton, "_secrets", None)   # forget what was read before
    return path


@pytest.fixture
def live(monkeypatch):
    """As test_pages: each run where a live server is after its first run."""
    as_on_a_live_server(monkeypatch)


@pytest.fixture
def login_calls(monkeypatch):
    """st.login() recorded instead of redirecting to an identity provider (and Authlib, which
    st.login needs, importable whether or not this environment has it)."""
    calls = []
    monkeypatch.setitem(sys.modules, "authlib", types.ModuleType("authlib"))
    monkeypatch.setattr("streamlit.login", lambda provider=None: calls.append(provider))
    return calls


def app(user: dict | None, secrets: dict | None = None, page: str | None = None) -> AppTest:
    """The dashboard as `user` (None: AppTest's default, a user without is_logged_in), with
    sign-in configured by `secrets` (None: the secrets file decides); one run, on `page`'s
    URL when given (a link opened in a new tab)."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    if user is not None:
        at.user = dict(user)
    if secrets is not None:
        at.secrets.update(secrets)
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def configured(managers: list | None = MANAGERS) -> dict:
    return {"auth": dict(AUTH), **({"hourbank": {"managers": list(managers)}} if managers is not None else {})}


def with_filters(at: AppTest) -> AppTest:
    at.date_input(key="asof").set_value(T)
    at.selectbox(key="period").set_value("this_year")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def everything_shown(at: AppTest) -> str:
    """All the text the run sent (every element's message), to look for what must not be there."""
    out = []

    def walk(node):
        if getattr(node, "proto", None) is not None:
            out.append(str(node.proto))
        for child in getattr(node, "children", {}).values():
            walk(child)
    walk(at._tree)
    return "\n".join(out)


def assert_no_data(at: AppTest) -> None:
    assert not at.metric and not at.dataframe and not at.get("plotly_chart") and not at.table
    assert not at.date_input and not at.selectbox and not at.multiselect     # no sidebar filters
    assert not at.sidebar.children or not any(at.sidebar.get(t) for t in ("date_input", "multiselect"))
    assert "Overview" not in [t.value for t in at.title]


def assert_sign_in_page_only(at: AppTest) -> None:
    assert [t.value for t in at.title] == ["Hourbank"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert_no_data(at)
    shown = everything_shown(at)
    for secret in (AUTH["cookie_secret"], AUTH["client_secret"], AUTH["client_id"]):
        assert secret not in shown


@pytest.mark.parametrize("secrets", [None, {"hourbank": {"managers": ["ana@example.com"]}}],
                         ids=["no secrets file", "a list without [auth]"])
def test_without_sign_in_every_page_renders_as_today(env, live, secrets):
    at = with_filters(app(None, secrets))
    assert not [b for b in at.button if b.label in ("Sign in", "Sign out")]
    at = on_page(at, "pages/overview.py")
    assert metrics(at)["Billable"] == "4 h 45 min"
    for page in ("pages/usage.py", "pages/expiring.py", "pages/policy.py"):
        assert not on_page(at, page).error


def test_configured_and_anonymous_shows_only_the_sign_in_page(env, live, login_calls):
    at = app(ANONYMOUS, configured())
    assert_sign_in_page_only(at)
    # Every page's address answers with it, so a shared link shows it, not "page not found"
    # (AppTest keeps the run's st.navigation registry in a private attribute).
    urls = {info.get("url_pathname") for info in at._registered_pages.values()}
    assert urls >= {Path(p).stem for p in ALL_PAGES}
    assert login_calls == []
    at.button(key="hb_sign_in").click().run()
    assert not at.exception
    assert login_calls == [None]     # st.login() with the [auth] provider
    assert_no_data(at)


def test_configured_in_the_secrets_file_streamlit_itself_says_nobody_is_signed_in(env, live, secrets_file):
    """Through the real secrets file: st.user's is_logged_in (False) comes from Streamlit, and
    AppTest's default user (an e-mail but no sign-in) does not get in."""
    lines = ["[auth]"] + [f'{k} = "{v}"' for k, v in AUTH.items()]
    lines += ["", "[hourbank]", 'managers = ["test@example.com"]']
    secrets_file.write_text("\n".join(lines) + "\n")
    assert_sign_in_page_only(app(None))


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_url_is_blocked_for_anonymous_users(env, live, page):
    opened = app(ANA, configured(), page=page)        # the same link works for a manager ...
    assert "No access" not in [t.value for t in opened.title] and opened.title
    assert_sign_in_page_only(app(ANONYMOUS, configured(), page=page))   # ... and not without sign-in


@pytest.mark.parametrize("page", ["pages/usage.py", "pages/import.py"])
def test_a_fresh_servers_first_request_for_a_page_is_blocked_too(env, page):
    """No `live` fixture: Streamlit's pages/-folder mode runs the page file alone; the page
    hands over to dashboard.py (pages/_ui.py), whose gate then stops it."""
    assert_sign_in_page_only(app(ANONYMOUS, configured(), page=page))


def test_a_manager_on_the_list_sees_the_app_with_figures(env, live):
    at = with_filters(app({**ANA, "email": "ANA@example.com"}, configured()))
    at = on_page(at, "pages/overview.py")
    assert metrics(at)["Billable"] == "4 h 45 min"
    assert len(at.get("plotly_chart")) >= 1
    assert any("ana@example.com" in c.value for c in at.sidebar.caption)
    assert at.sidebar.button(key="hb_sign_out").label == "Sign out"
    at.multiselect(key="customers").set_value(["beta"]).run()
    assert metrics(at)["Billable"] == "2 h"


@pytest.mark.parametrize("page", ALL_PAGES)
def test_a_manager_by_domain_reaches_every_page(env, live, page):
    at = app(BEA, configured(), page=page)
    assert at.title and "No access" not in [t.value for t in at.title]
    assert not [b for b in at.button if b.label == "Sign in"]


@pytest.mark.parametrize("user, words", [
    (EVE, "eve@example.com is not on this dashboard's list of managers"),
    ({**ANA, "email_verified": False}, "has not verified the e-mail address ana@example.com"),
    ({"is_logged_in": True, "name": "No Mail"}, "did not include an e-mail address"),
])
def test_a_signed_in_user_not_on_the_list_is_refused_politely_and_sees_no_data(env, live, user, words):
    at = app(user, configured())
    assert [t.value for t in at.title] == ["No access"]
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    assert [b.label for b in at.button] == ["Sign out"]
    assert_no_data(at)
    for page in ALL_PAGES:                             # no page URL gets round it
        other = app(user, configured(), page=page)
        assert [t.value for t in other.title] == ["No access"]
        assert_no_data(other)


def test_with_sign_in_but_no_list_nobody_gets_in(env, live):
    at = app(ANA, configured(managers=None))
    assert [t.value for t in at.title] == ["No access"]
    assert_no_data(at)


def test_signing_out_leaves_only_the_sign_in_page(env, live):
    at = with_filters(app(ANA, configured()))
    at.sidebar.button(key="hb_sign_out").click().run()
    assert not at.exception
    assert at.user == {"is_logged_in": False}
    assert_no_data(at)
    at.run()
    assert_sign_in_page_only(at)
    refused = app(EVE, configured())
    refused.button(key="hb_sign_out").click().run()
    assert refused.user == {"is_logged_in": False}
    refused.run()
    assert_sign_in_page_only(refused)


def test_an_unusable_list_keeps_the_dashboard_closed_with_one_sentence(env, live):
    at = app(ANA, configured(managers=["ana@example.com", "ana at example"]))
    assert [e.value for e in at.error] == [
        '[hourbank] managers entry 2 in .streamlit/secrets.toml is neither an e-mail address nor "@domain".']
    assert not at.button
    assert_no_data(at)


def test_an_unreadable_secrets_file_keeps_the_dashboard_closed(env, live, secrets_file):
    secrets_file.write_text('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback\n')   # unterminated
    at = app(ANA)
    assert any("cannot be read" in e.value for e in at.error)
    assert_no_data(at)


def test_sign_in_without_authlib_says_so_in_one_sentence(env, live, monkeypatch):
    monkeypatch.setitem(sys.modules, "authlib", None)    # import authlib fails
    at = app(ANONYMOUS, configured())
    at.button(key="hb_sign_in").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Sign-in cannot start because the Authlib package is not installed on the server (README.md, Deploying)."]
    assert_no_data(at)


def test_the_example_secrets_file_has_what_sign_in_needs():
    example = tomllib.loads((ROOT / ".streamlit" / "secrets.toml.example").read_text())
    assert set(AUTH) <= set(example["auth"])
    assert example["auth"]["redirect_uri"].endswith("/oauth2callback")
    allow = AllowList.from_settings(example["hourbank"])
    assert allow.allows("Ana.Lead@example.com") and not allow.allows("someone@example.com")
