"""Issue 11 through AppTest on the small fixture database (T = 2026-04-30; acme "Acme Ltd",
beta "Beta GmbH"): shared links carry ids and the as-of date and still work after a rename;
the statement page's link selects its customer, and the figures and every download are of
the statement shown, never of dates typed but not applied; the Import page's undo selector
follows the history, whose times are in the policy's zone."""
from __future__ import annotations

import re
from datetime import date

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from billing.calendar import today_in
from billing.policy import Policy
from tests.apptest_live import as_on_a_live_server
from tests.billing_pages.fixture import load_fixture
from tests.builders import Ledger, entry
from tests.test_pages import ROOT

T = date(2026, 4, 30)
POLICY = Policy(timezone="UTC")


@pytest.fixture(autouse=True)
def on_a_live_server(monkeypatch):
    as_on_a_live_server(monkeypatch)


@pytest.fixture
def led(tmp_path, monkeypatch):
    led = load_fixture(Ledger(tmp_path, POLICY))
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('timezone = "UTC"\n')
    monkeypatch.setenv("HOURBANK_DB", str(led.db))
    monkeypatch.setenv("HOURBANK_POLICY", str(policy_file))
    return led


@pytest.fixture
def downloads(monkeypatch):
    """url → (file name, bytes) of every file a download button was given."""
    files = {}
    add = MediaFileManager.add

    def recording(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        url = add(self, path_or_data, mimetype, coordinates, file_name, is_for_static_download)
        files[url] = (file_name, path_or_data)
        return url
    monkeypatch.setattr(MediaFileManager, "add", recording)
    return files


def open_link(page: str | None = None, **params) -> AppTest:
    """The dashboard as a shared link opens it: the query parameters on the first run."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params.update(params)
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_a_link_by_id_selects_the_customer_and_survives_a_rename(led):
    at = open_link(asof="2026-04-30", period="this_year", customers="beta")
    assert at.multiselect(key="customers").value == ["beta"]
    assert metrics(at)["Billable"] == "2 h"          # beta's this year (tests/test_pages.py)
    led.load(customers=[{"customer_id": "beta", "customer_name": "Beta AG"}])   # renamed
    for link in ("beta", "beta · Beta GmbH"):       # by id, and an older link's label
        at = open_link(asof="2026-04-30", period="this_year", customers=link)
        assert at.multiselect(key="customers").value == ["beta"], link
        assert metrics(at)["Billable"] == "2 h"
        assert at.query_params["customers"] == "beta"   # the link is rewritten by id


def test_the_link_carries_ids_and_the_as_of_date_even_when_it_is_today(led):
    at = open_link()
    today = today_in("UTC")
    # the as-of date is today, the default, and still in the link: tomorrow it shows today's figures
    assert at.query_params["asof"] == today.isoformat() and at.query_params["period"] == "last_30_days"
    assert "customers" not in at.query_params
    at.multiselect(key="customers").set_value(["beta", "acme"]).run()
    at.selectbox(key="period").set_value("custom").run()
    at.date_input(key="range").set_value((date(2026, 2, 1), date(2026, 2, 28))).run()
    at.date_input(key="asof").set_value(T).run()
    assert at.query_params["customers"] == ["acme", "beta"]
    assert at.query_params["period"] == "custom" and at.query_params["range"] == "2026-02-01..2026-02-28"
    assert at.query_params["asof"] == "2026-04-30"
    again = open_link(**at.query_params)
    assert metrics(again) == metrics(at)
    assert again.date_input(key="range").value == (date(2026, 2, 1), date(2026, 2, 28))


def test_a_link_naming_an_unknown_customer_says_so(led):
    at = open_link(asof="2026-04-30", customers=["beta", "nobody"])
    assert at.multiselect(key="customers").value == ["beta"]
    assert any("nobody" in w.value for w in at.sidebar.warning)


def test_a_page_setting_is_in_the_link_by_id(led):
    at = open_link("pages/usage.py", asof="2026-04-30", period="this_year", usage_grain="month")
    assert any("month from" in d.value.columns for d in at.dataframe)   # the figures are per month
    assert at.query_params["usage_grain"] == "month"
    old = open_link("pages/usage.py", asof="2026-04-30", period="This year", usage_grain="Day")   # labels
    assert old.query_params["usage_grain"] == "day" and old.query_params["period"] == "this_year"


def csv_download(at, downloads) -> tuple[str, str]:
    """The statement page's CSV download: (file name, text)."""
    url = next(b.proto.url for b in at.get("download_button") if b.proto.label == "Download CSV")
    name, data = downloads[url]
    return name, data.decode("utf-8-sig")


def period_of(csv_text: str) -> tuple[str, str]:
    rows = dict(line.split(",", 1) for line in csv_text.splitlines() if line.startswith(("First day,", "Last day,")))
    return rows["First day"], rows["Last day"]


def test_a_link_to_a_statement_selects_its_customer(led, downloads):
    at = open_link("pages/statement.py", asof="2026-04-30", period="this_year", customer="beta")
    assert at.selectbox(key="stmt_customer").value == "beta"
    assert metrics(at)["Billable"] == "2 h"
    name, text = csv_download(at, downloads)
    assert name == "statement-beta-2026-01-01-to-2026-04-30.csv" and period_of(text) == ("2026-01-01", "2026-04-30")
    assert at.query_params["customer"] == "beta" and "statement_period" not in at.query_params


def test_the_downloads_hold_the_statement_shown_not_dates_typed_but_not_applied(led, downloads):
    at = open_link("pages/statement.py", asof="2026-04-30", period="this_year", customer="acme")
    assert metrics(at)["Billable"] == "2 h 45 min"      # acme, 2026-01-01 .. 2026-04-30
    assert csv_download(at, downloads)[0] == "statement-acme-2026-01-01-to-2026-04-30.csv"
    # Dates typed into the form, not applied: the page and the downloads stay on the statement shown.
    at.date_input(key="stmt_period").set_value((date(2026, 2, 1), date(2026, 2, 28))).run()
    assert metrics(at)["Billable"] == "2 h 45 min"
    name, text = csv_download(at, downloads)
    assert name.endswith("-2026-01-01-to-2026-04-30.csv") and period_of(text) == ("2026-01-01", "2026-04-30")
    # Applied: the page and every download are February's, and the page says it is not the sidebar's.
    at.date_input(key="stmt_period").set_value((date(2026, 2, 1), date(2026, 2, 28)))
    [b for b in at.button if b.label == "Show statement"][0].click().run()
    name, text = csv_download(at, downloads)
    assert name == "statement-acme-2026-02.csv" and period_of(text) == ("2026-02-01", "2026-02-28")   # a whole month
    for label in ("Download PDF", "Download XLSX"):
        url = next(b.proto.url for b in at.get("download_button") if b.proto.label == label)
        assert downloads[url][0] == "statement-acme-2026-02." + label.split()[-1].lower()
    assert metrics(at)["Billable"] != "2 h 45 min"
    assert any("2026-02-01 – 2026-02-28" in i.value and "sidebar" in i.value for i in at.info)
    assert any("2026-02-01 – 2026-02-28" in c.value for c in at.caption if c.value.startswith("Downloads"))
    assert at.query_params["statement_period"] == "2026-02-01..2026-02-28"
    # The sidebar's period changes: the statement follows it, and the note goes.
    at.selectbox(key="period").set_value("last_month").run()
    name, text = csv_download(at, downloads)
    assert period_of(text) == ("2026-03-01", "2026-03-31")
    assert not any("sidebar's period" in i.value for i in at.info)
    assert "statement_period" not in at.query_params


def test_the_fee_notice_and_issue_times_read_for_people(led):
    at = open_link("pages/statement.py", asof="2026-04-30", period="this_year", customer="beta")
    fee_tables = [d.value for d in at.dataframe if "notice" in d.value.columns]
    assert fee_tables, "beta has a no-show fee this year"
    for value in fee_tables[0]["notice"]:
        assert value == "—" or re.fullmatch(r"(\d+ h)?( ?\d+ min)?( after the start)?", value), value
    at.button(key="issue").click().run()
    issued = at.dataframe[-1].value
    column = "issued at (UTC)"
    assert column in issued.columns and re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", issued.iloc[0][column])


def test_the_undo_selector_follows_new_imports(led):
    at = open_link("pages/import.py", asof="2026-04-30")
    history = next(d.value for d in at.dataframe if "source" in d.value.columns)
    newest = int(history["import"].max())
    assert at.selectbox(key="undo_id").value == newest
    at.selectbox(key="undo_id").set_value(1).run()
    at.checkbox(key="undo_confirm_1").check().run()
    led.load(entries=[entry("late", "2026-04-29T09:00:00", 60, customer="beta", staff="Cy")])  # a new import
    at.run()
    assert at.selectbox(key="undo_id").value == newest + 1      # the newest, not the one chosen before
    assert at.checkbox(key=f"undo_confirm_{newest + 1}").value is False
    assert at.button(key="undo_btn").proto.disabled     # not confirmed for this import
    history = next(d.value for d in at.dataframe if "source" in d.value.columns)
    stamp = history["imported"]   # in the policy's zone, said in the column's help
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", v) for v in stamp), list(stamp)
    for column in ("period from", "period to"):
        assert all(v == "—" or re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(v)) for v in history[column])
