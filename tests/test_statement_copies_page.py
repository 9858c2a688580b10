"""The Statement page's two copies through AppTest: the customer copy by default, the internal
copy on request, both recorded when a statement is issued, and a bad [team] stopped early."""
from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from billing import appdata
from billing.exports import INTERNAL_MARK
from billing.policy import Policy
from billing.store import open_db
from billing.team import load_team
from tests.billing_pages.fixture import load_fixture
from tests.builders import Ledger
from tests.test_pages import on_a_live_server, on_page, start  # noqa: F401 (fixture)

T = date(2026, 4, 30)
POLICY = Policy(timezone="UTC")
LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        b'<rect width="10" height="10" fill="#123456"/></svg>')


@pytest.fixture
def env(tmp_path, monkeypatch):
    import tests.test_pages as tp

    monkeypatch.setattr(tp, "PAGES", {**tp.PAGES, "pages/statement.py": "Customer statement"})
    led = load_fixture(Ledger(tmp_path, POLICY))
    (tmp_path / "logo.svg").write_bytes(LOGO)
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('timezone = "UTC"\n\n[team]\nname = "Harbour Desk"\nemail = "desk@harbour.example"\n'
                           'logo = "logo.svg"\n')
    monkeypatch.setenv("HOURBANK_DB", str(led.db))
    monkeypatch.setenv("HOURBANK_POLICY", str(policy_file))
    appdata.clear_caches()
    return led, policy_file


def _downloads(at) -> dict[str, bytes]:
    """The page's files as the cached read made them (AppTest does not serve the bytes)."""
    first, last = at.date_input(key="stmt_period").value
    internal = not at.toggle(key="stmt_redact").value
    return appdata.statement_files(appdata.db_path(), appdata.current_version(appdata.db_path()).number, POLICY,
                                   at.selectbox(key="stmt_customer").value, first, last,
                                   at.date_input(key="asof").value, load_team(
                                       appdata.policy_path()), internal)


def test_the_customer_copy_is_the_default_and_the_internal_copy_is_marked(env):
    at = on_page(start(customers=["acme"]), "pages/statement.py")
    assert not at.exception, [e.value for e in at.exception]
    assert at.toggle(key="stmt_redact").value is True
    files = _downloads(at)
    assert files["pdf"][0].startswith("statement-acme-") and not files["pdf"][0].endswith("-internal.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(files["pdf"][1])).pages)
    assert "Harbour Desk" in text and INTERNAL_MARK not in text
    # The switch applies at once (outside the statement's form): a switch reading one copy while
    # the downloads were the other until "Show statement" was pressed could send the internal copy.
    at.toggle(key="stmt_redact").set_value(False).run()
    assert not at.exception
    assert any(c.value.endswith("internal copy (marked INTERNAL COPY on every page).") for c in at.caption)
    internal = _downloads(at)
    assert {ext: name.endswith(f"-internal.{ext}") for ext, (name, _) in internal.items()} == {
        "pdf": True, "xlsx": True, "csv": True}
    assert internal["csv"][1].decode("utf-8-sig").startswith(INTERNAL_MARK)
    at.toggle(key="stmt_redact").set_value(True).run()
    assert any(c.value.endswith(", customer copy.") for c in at.caption)


def test_issuing_records_the_customer_copy_and_the_internal_copy(env):
    led, _ = env
    at = on_page(start(customers=["acme"]), "pages/statement.py")
    at.button(key="issue").click().run()
    assert not at.exception and any("recorded as issued" in s.value for s in at.success)
    with open_db(led.db, read_only=True) as con:
        names = sorted(n for n, in con.execute("SELECT name FROM statement_files").fetchall())
        csv_files = dict(con.execute("SELECT name, data FROM statement_files WHERE name LIKE '%.csv'").fetchall())
    assert len(names) == 6 and sum(n.endswith("-internal.pdf") for n in names) == 1
    assert {n.rsplit(".", 1)[1] for n in names} == {"pdf", "xlsx", "csv"}
    (customer,) = [d for n, d in csv_files.items() if not n.endswith("-internal.csv")]
    (internal,) = [d for n, d in csv_files.items() if n.endswith("-internal.csv")]
    assert bytes(internal).decode("utf-8-sig").startswith(INTERNAL_MARK)
    assert INTERNAL_MARK not in bytes(customer).decode("utf-8-sig")


def test_a_bad_team_in_the_policy_file_stops_the_downloads_with_one_sentence(env):
    _, policy_file = env
    policy_file.write_text('timezone = "UTC"\n\n[team]\nname = "Harbour Desk"\nemail = "nobody"\n')
    at = on_page(start(customers=["acme"]), "pages/statement.py")
    assert not at.exception
    assert any("[team] 'email' must be an e-mail address" in e.value for e in at.error)
    assert not at.get("download_button") and not [b for b in at.button if b.key == "issue"]
