"""billing.appdata on the billing.pages fixture database: versions, snapshots, the cache."""
from __future__ import annotations

import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as hs

from billing import appdata
from billing.policy import US_PER_MINUTE, Policy
from billing.reports import compute_books, daily_frame, report
from billing.store import open_db
from tests.billing_pages.fixture import MIN, POLICY, T, F, daily_sum, load_fixture, minutes
from tests.builders import Ledger, appointment, entry, purchase
from billing.pages import usage


@pytest.fixture(scope="module")
def led(tmp_path_factory):
    return load_fixture(Ledger(tmp_path_factory.mktemp("appdata"), POLICY))


def test_data_version_follows_imports_and_reads_are_one_snapshot(tmp_path):
    led = load_fixture(Ledger(tmp_path, POLICY))
    v1 = appdata.current_version(led.db)
    b1 = appdata.books(led.db, v1.number, POLICY, T)
    assert appdata.books(led.db, v1.number, POLICY, T) is b1   # cached on (db, version, policy, T)
    led.load(entries=[entry("new", "2026-04-29T09:00:00", 30, customer="beta", staff="Cy")])
    v2 = appdata.current_version(led.db)
    assert v2.number > v1.number and not v2.stale
    with pytest.raises(appdata.SnapshotChanged):
        appdata.entry_usage(led.db, v1.number, POLICY, T, date(2026, 4, 1), T)  # asked for the old version
    b2 = appdata.books(led.db, v2.number, POLICY, T)
    assert b2.data_version == v2.number
    assert usage.usage_totals(b2, F())["billable_us"] == usage.usage_totals(b1, F())["billable_us"] + 30 * MIN


def test_customers_and_staff_lists(led):
    v = appdata.current_version(led.db).number
    cust = appdata.customers(led.db, v)
    assert dict(zip(cust["customer_id"], cust["customer_name"])) == {"acme": "Acme Ltd", "beta": "Beta GmbH"}
    assert appdata.staff(led.db, v) == ["Ann", "Bob", "Cy", "Gail"]


def test_a_missing_database_is_one_sentence(tmp_path):
    with pytest.raises(appdata.NoDatabase, match="no such database; import an export first"):
        appdata.current_version(tmp_path / "nothing.duckdb")


def test_environment_chooses_database_and_policy(monkeypatch, tmp_path):
    monkeypatch.setenv("HOURBANK_DB", str(tmp_path / "x.duckdb"))
    monkeypatch.setenv("HOURBANK_POLICY", str(tmp_path / "p.toml"))
    assert appdata.db_path() == tmp_path / "x.duckdb" and appdata.db_chosen_by_user()
    assert appdata.ensure_demo_db(tmp_path / "x.duckdb") is False   # a chosen database is never built
    (tmp_path / "p.toml").write_text("rounding_increment_minutes = 15\n")
    assert appdata.active_policy().rounding_increment_minutes == 15
    monkeypatch.delenv("HOURBANK_DB")
    assert appdata.db_path() == appdata.DEFAULT_DB


def test_the_demo_database_is_built_on_first_run_only(monkeypatch, tmp_path):
    monkeypatch.delenv("HOURBANK_DB", raising=False)
    monkeypatch.setenv("HOURBANK_POLICY", str(tmp_path / "p.toml"))
    (tmp_path / "p.toml").write_text('timezone = "UTC"\n')
    monkeypatch.setattr(appdata, "DEFAULT_DB", tmp_path / "data" / "hourbank.duckdb")
    monkeypatch.setattr(appdata, "DEMO_EXPORT", tmp_path / "data" / "demo_export")
    assert appdata.ensure_demo_db(today=T) is True
    version = appdata.current_version(appdata.DEFAULT_DB).number
    assert version >= 1
    assert len(appdata.customers(appdata.DEFAULT_DB, version)) > 0
    assert appdata.ensure_demo_db(today=T) is False     # built once


def test_while_an_import_holds_the_file_the_last_version_is_shown_as_stale(tmp_path, monkeypatch):
    import subprocess
    import sys
    import time

    led = load_fixture(Ledger(tmp_path, POLICY))
    v = appdata.current_version(led.db).number
    cached = appdata.books(led.db, v, POLICY, T)
    monkeypatch.setattr(appdata, "READ_WAIT_SECONDS", 0.3)
    # Another process holds the file read-write (as `python -m billing import` does) and writes.
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
        "con.execute(\"INSERT INTO meta VALUES ('import_running', 'yes')\"); "
        "print('holding', flush=True); time.sleep(30)"), str(led.db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        busy = appdata.current_version(led.db)
        assert busy == appdata.Version(v, stale=True)
        assert appdata.books(led.db, busy.number, POLICY, T) is cached   # served from the cache
        with pytest.raises(appdata.DatabaseBusy, match="in use by another process"):
            appdata.entry_usage(led.db, v, POLICY, T, date(2026, 4, 2), T)  # not cached: one sentence
    finally:
        holder.kill()
        holder.wait()
    assert appdata.current_version(led.db) == appdata.Version(v)


def test_a_customer_is_named_by_customers_csv_else_by_its_newest_entry(tmp_path):
    led = Ledger(tmp_path, POLICY)
    led.load(entries=[entry("e1", "2026-04-01T09:00:00", 30, customer="zed", customer_name="Zed Old"),
                      entry("e2", "2026-04-02T09:00:00", 30, customer="zed", customer_name="Aardvark New")])
    v = appdata.current_version(led.db).number
    assert appdata.customer_names(led.db, v) == {"zed": "Aardvark New"}
