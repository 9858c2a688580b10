"""Every dashboard page through Streamlit's AppTest on the small fixture database of tests/billing_pages/fixture.py.

Each page renders without an exception, the figures it shows equal what the engine's
reports say for the same filters, and a filter change changes them.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from billing import appdata
from billing.policy import US_PER_MINUTE, Policy
from billing.reports import compute_books, report
from billing.display import duration_text as format_minutes  # what people read
from billing.store import open_db
from tests.apptest_live import as_on_a_live_server
from tests.builders import Ledger, entry
from tests.billing_pages.fixture import load_fixture

ROOT = Path(__file__).resolve().parents[1]
T = date(2026, 4, 30)
POLICY = Policy(timezone="UTC")
PAGES = {
    "pages/overview.py": "Overview",
    "pages/usage.py": "Usage",
    "pages/expiring.py": "Expiring hours",
    "pages/alerts.py": "Alerts",
    "pages/cancellations.py": "Cancellation fees",
    "pages/customer_links.py": "Customer links",
    "pages/data_quality.py": "Data quality",
    "pages/policy.py": "Policy",
}


@pytest.fixture(autouse=True)
def on_a_live_server(monkeypatch):
    as_on_a_live_server(monkeypatch)


@pytest.fixture(scope="module")
def fixture_files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pages")
    led = load_fixture(Ledger(tmp, POLICY))
    policy_file = tmp / "policy.toml"
    policy_file.write_text('timezone = "UTC"\n')
    return led, policy_file


@pytest.fixture
def env(fixture_files, monkeypatch):
    led, policy_file = fixture_files
    monkeypatch.setenv("HOURBANK_DB", str(led.db))
    monkeypatch.setenv("HOURBANK_POLICY", str(policy_file))
    return led


def start(period: str = "this_year", customers: list[str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    at.date_input(key="asof").set_value(T)
    at.selectbox(key="period").set_value(period)
    if customers is not None:
        at.multiselect(key="customers").set_value(customers)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def on_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    assert [t.value for t in at.title] == [PAGES[page]]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def engine_sum(led, column: str, start: date, end: date, customer: str | None = None) -> str:
    """A `daily` report column summed over the period, written as the app writes hours."""
    with open_db(led.db, read_only=True) as con:
        d = report(con, "daily", POLICY, T)
    d = d[(d["day"] >= start.isoformat()) & (d["day"] <= end.isoformat())]
    if customer:
        d = d[d["customer_id"] == customer]
    total = sum((Decimal(v) for v in d[column]), Decimal(0))
    return format_minutes(int(total * US_PER_MINUTE))


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_without_an_exception(env, page):
    at = on_page(start(), page)
    assert not at.error, [e.value for e in at.error]


def test_overview_shows_the_engines_figures_and_follows_the_customer_filter(env):
    at = on_page(start(), "pages/overview.py")
    year = (date(2026, 1, 1), T)
    shown = metrics(at)
    assert shown["Billable"] == engine_sum(env, "billable_minutes", *year) == "4 h 45 min"
    assert shown["Uncovered (overage)"] == engine_sum(env, "uncovered_minutes", *year)
    assert shown["Cancellation fees"] == engine_sum(env, "fee_minutes", *year)
    at.multiselect(key="customers").set_value(["beta"]).run()
    assert not at.exception
    beta = metrics(at)
    assert beta["Billable"] == engine_sum(env, "billable_minutes", *year, customer="beta") == "2 h"
    assert beta["Billable"] != shown["Billable"]


def test_period_filter_changes_the_figures(env):
    at = on_page(start("this_year"), "pages/overview.py")
    year = metrics(at)["Billable"]
    at.selectbox(key="period").set_value("this_month").run()
    april = metrics(at)["Billable"]
    assert april == engine_sum(env, "billable_minutes", date(2026, 4, 1), T) == "2 h"
    assert april != year


def test_usage_page_figures_and_rounding(env):
    at = on_page(start(), "pages/usage.py")
    shown = metrics(at)
    year = (date(2026, 1, 1), T)
    assert shown["Billable"] == engine_sum(env, "billable_minutes", *year)
    raw, billed = engine_sum(env, "adhoc_raw_minutes", *year), engine_sum(env, "adhoc_billed_minutes", *year)
    assert (shown["Ad-hoc logged"], shown["Ad-hoc billed"]) == (raw, billed)
    assert len(at.get("plotly_chart")) >= 4
    assert at.get("download_button")
    at.multiselect(key="customers").set_value(["acme"]).run()
    assert metrics(at)["Billable"] == engine_sum(env, "billable_minutes", *year, customer="acme") != shown["Billable"]


def test_expiring_page_matches_the_blocks_report(env):
    at = on_page(start(), "pages/expiring.py")
    with open_db(env.db, read_only=True) as con:
        blocks = report(con, "blocks", POLICY, T)
    active = blocks[blocks["status"] == "active"]
    left = sum(Decimal(v) for v in active["remaining_minutes"])
    assert metrics(at)["Prepaid time left"] == format_minutes(int(left * US_PER_MINUTE)) == "8 h 30 min"
    assert metrics(at)["Projected to be forfeited"] == "4 h 26 min"   # beta 236 min + acme 30 min
    at.multiselect(key="customers").set_value(["acme"]).run()
    assert metrics(at)["Prepaid time left"] == "30 min"


def test_cancellations_page_counts_and_fees(env):
    at = on_page(start(), "pages/cancellations.py")
    shown = metrics(at)
    assert shown["Fees billed"] == engine_sum(env, "fee_minutes", date(2026, 1, 1), T) == "1 h"
    assert (shown["Late cancellations"], shown["No-shows"], shown["Cancelled by staff (free)"]) == ("1", "1", "1")
    at.multiselect(key="customers").set_value(["acme"]).run()
    assert metrics(at)["No-shows"] == "0"


def test_data_quality_page_lists_the_review_report(env):
    at = on_page(start(), "pages/data_quality.py")
    with open_db(env.db, read_only=True) as con:
        review = report(con, "review", POLICY, T)
    assert metrics(at) == {"entry under one minute": str(len(review))}
    frames = at.dataframe
    assert frames[0].value["id"].tolist() == review["id"].tolist()
    at.multiselect(key="customers").set_value(["acme"]).run()
    assert any("Nothing to review" in s.value for s in at.success)


def test_policy_what_if_equals_the_engine_under_the_changed_policy(env):
    at = on_page(start(), "pages/policy.py")
    assert any("next 30 minutes" in m.value for m in at.markdown)
    at.number_input(key="wi_inc").set_value(15).run()
    assert not at.exception
    table = at.dataframe[-2].value.set_index("figure")
    changed = POLICY.with_changes(rounding_increment_minutes=15)
    with open_db(env.db, read_only=True) as con:
        engine = compute_books(con, changed, T).days
    assert table.loc["Billable", "changed settings"] == format_minutes(int(engine["billable_us"].sum()))
    assert table.loc["Billable", "difference"] == "-30 min"


def test_a_new_import_shows_on_the_next_rerun(env, tmp_path, monkeypatch):
    led = load_fixture(Ledger(tmp_path, POLICY))
    monkeypatch.setenv("HOURBANK_DB", str(led.db))
    at = on_page(start(customers=["beta"]), "pages/overview.py")
    before = metrics(at)["Billable"]
    led.load(entries=[entry("late", "2026-04-29T09:00:00", 60, customer="beta", staff="Cy")])
    at.run()
    assert metrics(at)["Billable"] == "3 h" != before


def test_no_database_gives_a_clear_note_not_a_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv("HOURBANK_DB", str(tmp_path / "missing.duckdb"))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("no such database" in i.value for i in at.info)


def test_a_bad_policy_file_is_one_sentence(monkeypatch, env, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('rounding_increment_minutes = "30"\n')
    monkeypatch.setenv("HOURBANK_POLICY", str(bad))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("rounding_increment_minutes" in i.value for i in at.info)


def test_an_empty_database_shows_an_empty_state(monkeypatch, tmp_path):
    led = Ledger(tmp_path, POLICY)
    led.load(customers=[{"customer_id": "z", "customer_name": "Zed"}])
    monkeypatch.setenv("HOURBANK_DB", str(led.db))
    for page in PAGES:
        at = on_page(start(), page)
        assert not at.error
    at = on_page(start(), "pages/overview.py")
    assert any("No time entries" in i.value for i in at.info)
