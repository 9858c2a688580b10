"""The customer page a link opens (pages/_share.py), through AppTest: the right customer's
figures and nothing else; a refused token shows one sentence and no figures; with sign-in on,
the link needs none and every page of the dashboard still needs a manager; the Statement page's
button and the Customer links page.

The books are tests/share_fixture.py's, built as of today (the page's T is today), with the
figures worked out there by hand. Streamlit's secrets files point at this test's own file.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import re

import pytest
from streamlit import config
from streamlit.runtime.secrets import secrets_singleton
from streamlit.testing.v1 import AppTest

from billing import share
from billing.calendar import today_in
from billing.store import open_db
from tests.apptest_live import as_on_a_live_server
from tests.share_fixture import NOTE, SECRET, STAFF, build_today
from tests.test_access import everything_shown

ROOT = Path(__file__).resolve().parents[1]
AUTH = {"redirect_uri": "https://hb.example.com/oauth2callback", "cookie_secret": "cookie-secret-c0ffee",
        "client_id": "hourbank-client-id", "client_secret": "client-secret-deadbeef",
        "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration"}
SIGN_IN_ON = {"auth": AUTH, "hourbank": {"managers": ["ana@example.com"]}}
ANA = {"is_logged_in": True, "email": "ana@example.com", "email_verified": True}
# Every page of the dashboard (dashboard.PAGES, read without running the script).
ALL_PAGES = re.findall(r'\("(pages/\w+\.py)"', (ROOT / "dashboard.py").read_text())


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    return build_today(tmp_path_factory.mktemp("share_page"))


@pytest.fixture
def env(books, monkeypatch, tmp_path):
    led, policy = books
    db = tmp_path / "db.duckdb"                       # each test's links of its own
    db.write_bytes(led.db.read_bytes())
    monkeypatch.setenv("HOURBANK_DB", str(db))
    monkeypatch.setenv("HOURBANK_POLICY", str(policy))
    monkeypatch.setenv(share.SECRET_ENV, SECRET)
    secrets = tmp_path / "secrets.toml"               # not written: no secrets file at all
    get_option = config.get_option
    monkeypatch.setattr(config, "get_option",
                        lambda name: [str(secrets)] if name == "secrets.files" else get_option(name))
    monkeypatch.setattr(secrets_singleton, "_secrets", None)
    as_on_a_live_server(monkeypatch)
    return db


def link(db, customer="acme", days=30) -> str:
    made = share.create_link(db, SECRET, customer, days)
    return parse_qs(urlsplit(made.url).query)["share"][0]


def run(query: dict, page: str | None = None, secrets: dict | None = None, user: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.query_params.update(query)
    if secrets:
        at.secrets.update(secrets)
    if user:
        at.user = dict(user)
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def tables(at: AppTest) -> list:
    return [t.value for t in at.table]


def words(d) -> str:
    """A day as the customer's page writes it, "7 Mar 2027" (month names in English)."""
    return f"{d.day} {('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')[d.month - 1]} {d.year}"


def assert_customer_page_of_acme(at: AppTest) -> None:
    t = today_in("UTC")
    assert [x.value for x in at.title] == ["Acme Ltd"]
    assert {m.label: m.value for m in at.metric} == {
        "Prepaid time left": "3 h 30 min", "Next last day of a block": words(t + timedelta(days=85)),
        "Projected to be forfeited": "40 min"}
    blocks, usage = tables(at)
    assert blocks.to_dict("records") == [{
        "block": "P2", "bought on": words(t - timedelta(days=5)), "last day": words(t + timedelta(days=85)),
        "days left": 85, "bought": "4 h", "left": "3 h 30 min", "projected to be forfeited": "40 min"}]
    assert len(usage) == 12 and list(usage.columns) == ["month", "bought", "used", "paid from prepaid hours",
                                                         "not covered (invoiced separately)", "forfeited"]
    # Over all months: bought 1 h + 4 h, used 30 + 30 + 30 min, 30 min not covered, 30 min forfeited.
    assert sorted(v for v in usage["bought"] if v != "0 min") == ["1 h", "4 h"]
    assert sorted(v for v in usage["not covered (invoiced separately)"] if v != "0 min") == ["30 min"]
    assert sorted(v for v in usage["forfeited"] if v != "0 min") == ["30 min"]
    assert any("about 2 min a day" in m.value and words(t + timedelta(days=85)) in m.value
               for m in at.markdown)
    # The customer's own page writes days as the customer's statement does: no ISO date anywhere.
    import re
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", everything_shown(at))
    assert [b.label for b in at.get("download_button")] == ["Download PDF", "Download XLSX", "Download CSV"]
    assert_nothing_else(at)


def assert_nothing_else(at: AppTest) -> None:
    """No sidebar, no filters, no page list, nobody else's name or figure, no staff or notes."""
    assert not at.sidebar.children
    assert not at.date_input and not at.multiselect and not at.text_input
    shown = everything_shown(at)
    for word in ("Beta GmbH", "beta", "B2", "10 h", NOTE, *STAFF, "Overview", "Customer links", "R5", "R8", "R9",
                 "Sign in"):
        assert word not in shown, word


def assert_refused(at: AppTest) -> None:
    assert [w.value for w in at.warning] == [share.REFUSAL]
    assert not at.title and not at.metric and not at.table and not at.dataframe
    assert not at.get("download_button") and not at.button and not at.selectbox
    assert_nothing_else(at)


# --------------------------------------------------------------------------- the customer's side
def test_a_link_opens_its_customers_figures_and_nothing_else(env):
    assert_customer_page_of_acme(run({"share": link(env)}))


def test_the_statements_are_the_customer_copy_of_whole_months(env):
    at = run({"share": link(env)})
    t = today_in("UTC")
    first = t - timedelta(days=100)              # P1, acme's first purchase
    expected = (t.year - first.year) * 12 + t.month - first.month + 1
    months = at.selectbox(key="share_from").options
    assert len(months) == expected and months[0] == f"{t:%B %Y}" and months[-1] == f"{first:%B %Y}"
    assert [b.label for b in at.get("download_button")] == ["Download PDF", "Download XLSX", "Download CSV"]
    assert any(f"Your statement of {words(t.replace(day=1))} to {words(t)}" in c.value for c in at.caption)
    at.selectbox(key="share_from").set_value(months[-1]).run()
    assert any(f"Your statement of {words(first.replace(day=1))} to {words(t)}" in c.value for c in at.caption)

    # What the buttons hand over: billing.exports' customer copy, named by its months.
    from pypdf import PdfReader
    import io

    from billing import appdata
    from pages import _share

    policy = appdata.active_policy()
    files = _share.customer_copy(env, appdata.current_version(env).number, policy, "acme", first.replace(day=1),
                                 t, t)
    assert files["pdf"][0] == f"statement-acme-{first:%Y-%m}-01-to-{t.isoformat()}.pdf" or \
        files["pdf"][0].startswith("statement-acme-")
    assert not any("internal" in name for name, _, _ in files.values())
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(files["pdf"][1])).pages)
    assert "Acme Ltd" in text and "P2" in text
    for word in (*STAFF, NOTE, "R5", "R8", "R9", "Beta GmbH"):
        assert word not in text, word
    for ext in ("csv",):
        body = files[ext][1].decode("utf-8-sig")
        for word in (*STAFF, NOTE, "R5", "R8", "Beta GmbH"):
            assert word not in body, word


@pytest.mark.parametrize("how", ["another customer's parameter", "a page's address", "both"])
def test_other_parameters_and_page_addresses_still_show_only_that_customer(env, how):
    token = link(env)
    query = {"share": token, **({"customers": "beta"} if how != "a page's address" else {})}
    page = None if how == "another customer's parameter" else "pages/statement.py"
    at = run(query, page)
    assert_customer_page_of_acme(at)


@pytest.mark.parametrize("secrets", [None, SIGN_IN_ON], ids=["sign-in off", "sign-in on"])
def test_refused_tokens_show_one_sentence(env, secrets):
    good = link(env)
    revoked = link(env)
    share.revoke_link(env, share.read_token(SECRET, revoked).link_id)
    # The token's own expiry has passed (signed for a recorded link of acme's).
    expired = share.make_token(SECRET, share.read_token(SECRET, good).link_id, "acme", share.now_utc())
    # The recorded expiry has passed, the token's has not.
    old = share.read_token(SECRET, link(env)).link_id
    with open_db(env) as con:
        con.execute("UPDATE share_links SET expires_at = ? WHERE link_id = ?",
                    [share.now_utc() - timedelta(seconds=1), old])
    old_token = share.make_token(SECRET, old, "acme", share.now_utc() + timedelta(days=1))
    beta = share.read_token(SECRET, link(env, "beta")).link_id
    for token in (good[:-2] + ("xx" if not good.endswith("xx") else "yy"), revoked, expired, old_token,
                  share.make_token(SECRET, beta, "acme", share.now_utc() + timedelta(days=1)),   # beta's link
                  share.make_token("x" * 40, share.read_token(SECRET, good).link_id, "acme",
                                   share.now_utc() + timedelta(days=1)),                        # another secret
                  "", "garbage"):
        assert_refused(run({"share": token}, secrets=secrets))
    assert_customer_page_of_acme(run({"share": good}, secrets=secrets))     # the good one still opens


def test_without_a_secret_every_link_is_refused(env, monkeypatch):
    token = link(env)
    monkeypatch.delenv(share.SECRET_ENV)
    assert_refused(run({"share": token}))


def test_the_secret_from_the_secrets_file_is_used(env, monkeypatch):
    token = link(env)
    monkeypatch.delenv(share.SECRET_ENV)
    assert_customer_page_of_acme(run({"share": token}, secrets={"hourbank": {"share_secret": SECRET}}))


def test_data_that_cannot_be_read_shows_one_sentence_and_nothing_after_it(env, monkeypatch):
    from billing import appdata
    from billing.store import DatabaseBusy
    from pages._share import UNAVAILABLE

    token = link(env)

    def busy(*args, **kwargs):
        raise DatabaseBusy("the database is in use by another process")

    # The statement's files cannot be made: the figures stay, the downloads give way to the sentence.
    monkeypatch.setattr(appdata, "statement_files", busy)
    at = run({"share": token})
    assert [i.value for i in at.info] == [UNAVAILABLE]
    assert [x.value for x in at.title] == ["Acme Ltd"] and len(at.metric) == 3
    assert not at.get("download_button") and not any("Your statement of" in c.value for c in at.caption)
    assert "in use by another process" not in everything_shown(at)   # the reason is the managers' business
    # The figures cannot be read: the sentence alone.
    monkeypatch.setattr(appdata, "customer_names", busy)
    at = run({"share": token})
    assert [i.value for i in at.info] == [UNAVAILABLE]
    assert not at.title and not at.metric and not at.table and not at.selectbox
    assert_nothing_else(at)


def test_data_that_changed_while_read_is_read_again(env, monkeypatch):
    from billing import appdata

    token = link(env)
    names, statement_files = appdata.customer_names, appdata.statement_files
    calls = {"names": 0, "files": 0}

    def changed_once(what, real):
        def read(*args, **kwargs):
            calls[what] += 1
            if calls[what] == 1:
                raise appdata.SnapshotChanged("the data changed while reading; reading again.")
            return real(*args, **kwargs)
        return read

    monkeypatch.setattr(appdata, "customer_names", changed_once("names", names))
    monkeypatch.setattr(appdata, "statement_files", changed_once("files", statement_files))
    at = run({"share": token})
    assert_customer_page_of_acme(at)          # the rerun read it all, no sentence, no error
    assert not at.info
    assert calls == {"names": 3, "files": 2}  # names: two reruns (its own, the files'); files: one

# --------------------------------------------------------------------------- sign-in on
def test_with_sign_in_on_the_link_needs_no_sign_in(env):
    assert_customer_page_of_acme(run({"share": link(env)}, secrets=SIGN_IN_ON))


def test_the_page_list_is_read():
    assert "pages/overview.py" in ALL_PAGES and "pages/customer_links.py" in ALL_PAGES and len(ALL_PAGES) >= 9


@pytest.mark.parametrize("page", ALL_PAGES)
def test_with_sign_in_on_every_page_still_needs_a_manager(env, page):
    """Without the link's parameter, each page's address is the sign-in page, also right
    after a customer's page was shown in the same session."""
    at = run({}, page, secrets=SIGN_IN_ON)
    assert [t.value for t in at.title] == ["Hourbank"] and [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.table and not at.dataframe
    # The same session, having opened a customer's page, then asks for a page without the link.
    at = run({"share": link(env)}, secrets=SIGN_IN_ON)
    assert_customer_page_of_acme(at)
    at.query_params.clear()
    # The session's pages are the customer page's aliases (no page files): ask for the page by
    # its address, as the browser does (AppTest.switch_page matches files only).
    [at._page_hash] = [h for h, info in at._registered_pages.items() if info.get("url_pathname") == Path(page).stem]
    at.run()
    assert [t.value for t in at.title] == ["Hourbank"] and [b.label for b in at.button] == ["Sign in"]
    assert "Acme Ltd" not in everything_shown(at)


def test_with_sign_in_on_a_manager_still_reaches_the_pages(env):
    at = run({}, "pages/customer_links.py", secrets=SIGN_IN_ON, user=ANA)
    assert [t.value for t in at.title] == ["Customer links"]


# --------------------------------------------------------------------------- the managers' side
def statement_page(secrets=None, user=None) -> AppTest:
    at = run({}, "pages/statement.py", secrets=secrets, user=user)
    at.selectbox(key="stmt_customer").set_value("acme").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_statement_page_makes_a_link_for_the_selected_customer(env):
    at = statement_page()
    at.button(key="share_create").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [made] = [s.value for s in at.success if s.value.startswith("Link ")]
    assert " to acme's page, good until " in made and made.endswith(" UTC:")
    [code] = at.code
    token = parse_qs(urlsplit(code.value).query)["share"][0]
    assert code.value.startswith("http")
    access = share.open_link_in(env, SECRET, token)
    assert access.customer_id == "acme"
    assert timedelta(days=90) - (access.expires_at - share.now_utc()) < timedelta(minutes=2)
    with open_db(env, read_only=True) as con:
        assert share.links(con)["created_by"].tolist() == ["dashboard"]


def test_with_sign_in_on_the_link_uses_the_public_address_and_the_managers_name(env):
    at = statement_page(SIGN_IN_ON, ANA)
    at.number_input(key="share_days").set_value(7).run()
    at.button(key="share_create").click().run()
    [code] = at.code
    assert code.value.startswith("https://hb.example.com/?share=")
    with open_db(env, read_only=True) as con:
        frame = share.links(con)
    assert frame["created_by"].tolist() == ["ana@example.com"]
    assert timedelta(days=7) - (frame["expires_at"][0] - share.now_utc()) < timedelta(minutes=2)


def test_without_a_secret_the_button_is_disabled_and_says_why(env, monkeypatch):
    monkeypatch.delenv(share.SECRET_ENV)
    at = statement_page()
    button = at.button(key="share_create")
    assert button.disabled
    assert any(c.value.startswith("Sharing is off: no signing secret is set") for c in at.caption)


def test_the_links_page_lists_and_revokes(env):
    first, second = link(env), link(env, "beta")
    at = run({}, "pages/customer_links.py")
    assert [t.value for t in at.title] == ["Customer links"]
    first_id = share.read_token(SECRET, first).link_id
    at.button(key=f"revoke_{first_id}").click().run()
    assert not at.exception
    assert any(f"Link {first_id} to acme's page revoked" in s.value for s in at.success)
    with pytest.raises(share.LinkRefused, match="revoked"):
        share.open_link_in(env, SECRET, first)
    assert share.open_link_in(env, SECRET, second).customer_id == "beta"
    assert [b.key for b in at.button if b.key and b.key.startswith("revoke_")] == \
        [f"revoke_{share.read_token(SECRET, second).link_id}"]
    table = at.dataframe[0].value
    assert sorted(table["status"]) == ["active", "revoked"]


def test_a_credit_is_named_as_the_customers_statement_names_it(env):
    # A goodwill credit of 45 min dated today (R10) is a block of its own: the customer's page
    # calls it "credit of <today>", as the statement does, never by its internal id adj-1.
    from billing.adjustments import record
    from billing.policy import Policy

    t = today_in("UTC")
    record(env, "credit", "acme", on=t, minutes="45", by="Lead", reason="goodwill", policy=Policy(timezone="UTC"))
    at = run({"share": link(env)})
    blocks = tables(at)[0].set_index("block")
    assert list(blocks.index) == ["P2", f"credit of {words(t)}"]
    assert blocks.loc[f"credit of {words(t)}", "left"] == "45 min"
    assert "adj-" not in everything_shown(at)
