"""Who may look: optional sign-in (st.login, OpenID Connect) and the managers' allow-list.

Not a page (st.navigation lists only the page files). dashboard.py calls `require_manager()`
right after st.set_page_config, before anything reads data or draws the sidebar:

- no [auth] section in .streamlit/secrets.toml: sign-in is not configured and nothing
  happens (the server listens on 127.0.0.1 only, .streamlit/config.toml);
- configured, nobody signed in: the sign-in page is the only page of the run, then st.stop();
- signed in, not on [hourbank] managers (billing.access): a polite refusal with the e-mail
  and a sign-out button, the only page of the run, then st.stop();
- signed in and on the list: the e-mail and a sign-out button in the sidebar, and the app.

The only page of a stopped run is registered with st.navigation, so no other page's URL
resolves and no page list is drawn. Nothing here logs or shows a secret.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn

import streamlit as st
from streamlit import config
from streamlit.errors import StreamlitAPIException

from billing import access
from billing.errors import HourbankError

SIGN_IN_KEY = "hb_sign_in"
SIGN_OUT_KEY = "hb_sign_out"


def secrets_or_none() -> Mapping | None:
    """The app's secrets, None when there is no secrets file. A secrets file that exists but
    cannot be read keeps the dashboard closed (it may be the one that configures sign-in)."""
    secrets = st.secrets   # looked up on every call: AppTest replaces st.secrets for a run
    if secrets.load_if_toml_exists():
        return secrets
    if any(Path(p).exists() for p in config.get_option("secrets.files")):
        raise access.AccessSettingsError(
            ".streamlit/secrets.toml cannot be read, so the dashboard stays closed until it is fixed "
            "(the server's log says where).")
    return None


def require_manager() -> str | None:
    """Stop the run unless sign-in is off or a manager on the allow-list is signed in.
    Returns the signed-in manager's e-mail, None when sign-in is not configured."""
    try:
        secrets = secrets_or_none()
        if secrets is None or not secrets.get("auth"):
            return None
        allow = access.AllowList.from_settings(secrets.get(access.SECTION))
    except HourbankError as exc:
        problem = str(exc)

        def closed():
            st.title("Hourbank")
            st.error(problem)
        only_page(closed, "Hourbank")

    user = st.user.to_dict()
    if not user.get("is_logged_in", False):
        only_page(sign_in, "Sign in")
    verdict = access.check(user, allow)
    if not verdict.allowed:
        def no_access():
            refusal(verdict)
        only_page(no_access, "No access")

    side = st.sidebar
    side.caption(f"Signed in as **{verdict.email}**")
    if side.button("Sign out", key=SIGN_OUT_KEY, icon=":material/logout:"):
        sign_out()
    return verdict.email


def only_page(render: Callable[[], None], title: str) -> NoReturn:
    """Make `render` the run's one and only page (no page list), run it, stop. It answers at
    every page's address too, so a page link opens it rather than "page not found"."""
    aliases = [st.Page(render, title=title, url_path=url) for url in page_urls()]
    st.navigation([st.Page(render, title=title, default=True), *aliases], position="hidden").run()
    st.stop()


def page_urls() -> list[str]:
    """The URL path of every page file beside this one (as st.Page names them)."""
    return sorted({st.Page(path).url_path for path in Path(__file__).resolve().parent.glob("*.py")
                   if not path.name.startswith("_")})


def signed_in_email() -> str | None:
    """The signed-in manager's e-mail, None when sign-in is not configured or nobody is in."""
    try:
        user = st.user.to_dict()
    except Exception:  # noqa: BLE001 - no auth configured: nobody in particular
        return None
    return user.get("email") if user.get("is_logged_in") else None


def sign_in() -> None:
    st.title("Hourbank")
    st.write("Prepaid 1-on-1 hours for the team's managers. Sign in with your work account to continue.")
    if st.button("Sign in", key=SIGN_IN_KEY, type="primary", icon=":material/login:"):
        start_sign_in()


def start_sign_in() -> None:
    """st.login(): the browser goes to the identity provider and comes back signed in."""
    try:
        import authlib  # noqa: F401  (st.login needs it; README.md, Deploying)
    except ImportError:
        st.error("Sign-in cannot start because the Authlib package is not installed on the server "
                 "(README.md, Deploying).")
        return
    try:
        st.login()
    except StreamlitAPIException as exc:
        # Streamlit names the missing setting, never its value.
        st.error("Sign-in cannot start: " + " ".join(str(exc).split()))


def refusal(verdict: access.Verdict) -> None:
    st.title("No access")
    if verdict.email is None:
        st.warning("Sorry, your sign-in did not include an e-mail address, so this dashboard cannot tell "
                   "whether you are one of its managers.")
    elif verdict.reason == "e-mail not verified":
        st.warning(f"Sorry, your identity provider has not verified the e-mail address {verdict.email}, "
                   "so it cannot be used to let you in.")
    else:
        st.warning(f"Sorry, {verdict.email} is not on this dashboard's list of managers.")
    st.write("If you should have access, ask whoever runs Hourbank to add your address; or sign out and "
             "sign in with another account.")
    if st.button("Sign out", key=SIGN_OUT_KEY, icon=":material/logout:"):
        sign_out()


def sign_out() -> None:
    """st.logout() forgets the identity (the browser goes to the provider's sign-out and back);
    this run shows nothing more."""
    st.logout()
    st.stop()
