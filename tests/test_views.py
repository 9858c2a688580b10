"""billing.views and billing.appdata on a small real database (built by the engine's import).

The fixture: RULES.md's worked example (customer acme) plus customer beta, who bought 10 h on
2026-04-01, logged 90 min of ad-hoc work in April and has three cancellations around T.
T = 2026-04-30, timezone UTC, default policy.
"""
from __future__ import annotations

import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as hs

from billing import appdata, views
from billing.policy import US_PER_MINUTE, Policy
from billing.reports import compute_books, daily_frame, report
from billing.store import open_db
from tests.builders import Ledger, appointment, entry, purchase

T = date(2026, 4, 30)
MIN = US_PER_MINUTE
POLICY = Policy(timezone="UTC")


def load_fixture(led: Ledger) -> Ledger:
    led.load(
        entries=[
            entry("e1", "2026-01-12T09:00:00", 5, staff="Ann", activity="setup"),
            entry("e2", "2026-01-12T14:00:00", 30, staff="Bob", activity="research"),
            entry("e3", "2026-01-13T10:00:00", 45, staff="Ann", appointment_id="S1"),
            entry("e4", "2026-02-02T10:00:00", 40, staff="Gail", tier="general"),
            entry("e5", "2026-02-03T10:00:00", 10, staff="Ann", activity="setup"),
            entry("b1", "2026-04-20T09:00:00", 60, customer="beta", staff="Cy", activity="setup"),
            entry("b2", "2026-04-21T09:00:00", 30, customer="beta", staff="Cy", activity="testing"),
            entry("b3", "2026-04-22T09:00:00", 0.5, customer="beta", staff="Ann", tier="general"),
            entry("b4", "2026-05-02T09:00:00", 60, customer="beta", staff="Cy"),  # after T: not yet
        ],
        appointments=[
            appointment("S1", "2026-01-13T10:00:00", 60, "completed", staff="Ann"),
            appointment("C1", "2026-01-14T15:00:00", 60, "cancelled", staff="Ann",
                        cancelled_at="2026-01-14T05:00:00", cancelled_by="customer"),  # 10 h: fee (R6)
            appointment("A3", "2026-04-22T10:00:00", 60, "cancelled", customer="beta", staff="Cy",
                        cancelled_at="2026-04-21T10:00:00", cancelled_by="staff"),     # staff: free
            appointment("A4", "2026-04-23T10:00:00", 60, "no_show", customer="beta", staff="Cy"),
            appointment("A5", "2026-04-24T10:00:00", 60, "cancelled", customer="beta", staff="Cy",
                        cancelled_at="2026-04-23T10:00:00", cancelled_by="customer"),  # exactly 24 h: free
        ],
        purchases=[purchase("P1", "2026-01-10", 2), purchase("P2", "2026-02-01", 1),
                   purchase("P3", "2026-04-01", 10, customer="beta")],
        customers=[{"customer_id": "acme", "customer_name": "Acme Ltd"},
                   {"customer_id": "beta", "customer_name": "Beta GmbH"}],
    )
    return led


@pytest.fixture(scope="module")
def led(tmp_path_factory):
    return load_fixture(Ledger(tmp_path_factory.mktemp("views"), POLICY))


@pytest.fixture(scope="module")
def books(led):
    return led.books(T)


def F(start="2026-01-01", end="2026-04-30", customers=(), staff=(), as_of=T):
    return views.Filters(as_of, date.fromisoformat(start), date.fromisoformat(end), tuple(customers), tuple(staff))


def minutes(us: int) -> Decimal:
    return Decimal(int(us)) / MIN


def daily_sum(led, column: str, start: date, end: date, customer=None) -> Decimal:
    """The same figure from the engine's `daily` report (minutes as 2-decimal text)."""
    d = led.report("daily", T)
    d = d[(d["day"] >= start.isoformat()) & (d["day"] <= end.isoformat())]
    if customer:
        d = d[d["customer_id"] == customer]
    return sum((Decimal(v) for v in d[column]), Decimal(0))


# --------------------------------------------------------------------------- filters
@pytest.mark.parametrize("preset,start,end", [
    ("last_30_days", "2026-04-01", "2026-04-30"),
    ("this_month", "2026-04-01", "2026-04-30"),
    ("last_month", "2026-03-01", "2026-03-31"),
    ("this_year", "2026-01-01", "2026-04-30"),
    ("last_90_days", "2026-01-31", "2026-04-30"),
])
def test_period_presets_are_relative_to_t(preset, start, end):
    assert views.period_bounds(preset, T) == (date.fromisoformat(start), date.fromisoformat(end))


def test_custom_period_is_ordered_and_never_after_t():
    got = views.period_bounds("custom", T, (date(2026, 6, 1), date(2026, 2, 1)))
    assert got == (date(2026, 2, 1), T)
    with pytest.raises(ValueError, match="unknown period"):
        views.period_bounds("fortnight", T)


def test_previous_period_has_the_same_length_just_before():
    p = F("2026-04-01", "2026-04-30").previous()
    assert (p.start, p.end) == (date(2026, 3, 2), date(2026, 3, 31))


# --------------------------------------------------------------------------- overview
def test_overview_billable_equals_the_daily_report_for_the_period(led, books):
    f = F("2026-01-01", "2026-04-30")
    ov = views.overview(books, f)
    assert minutes(ov.billable.value_us) == daily_sum(led, "billable_minutes", f.start, f.end)
    assert minutes(ov.uncovered.value_us) == daily_sum(led, "uncovered_minutes", f.start, f.end) == 15  # R8
    assert minutes(ov.fees.value_us) == daily_sum(led, "fee_minutes", f.start, f.end) == 60  # C1 + A4 (R6)
    assert minutes(ov.general.value_us) == Decimal("40.5")  # R2: e4 + b3, unrounded
    assert ov.fee_count == 2


def test_overview_filters_change_the_figures(led, books):
    everyone = views.overview(books, F())
    beta = views.overview(books, F(customers=["beta"]))
    assert everyone.billable.value_us != beta.billable.value_us
    # beta: 60 + 30 ad-hoc (R5: already multiples of 30) + 30 no-show fee
    assert minutes(beta.billable.value_us) == daily_sum(led, "billable_minutes", date(2026, 1, 1), T, "beta") == 120
    april = views.overview(books, F("2026-04-01", "2026-04-30"))
    assert minutes(april.billable.value_us) == 120
    assert minutes(april.billable.previous_us) == 0   # March: nothing
    assert april.billable.delta_text == "+2 h vs previous period"


def test_overview_lists_uncovered_customers_and_the_most_urgent_blocks(books):
    ov = views.overview(books, F())
    assert ov.uncovered_customers["customer_id"].tolist() == ["acme"]
    assert minutes(ov.uncovered_customers.loc[0, "uncovered_us"]) == 15
    # P2 (acme, 30 min left, last day 2026-05-02) is more urgent than P3 (beta, 2026-06-30).
    assert ov.urgent_blocks["purchase_id"].tolist() == ["P2", "P3"]
    assert ov.urgent_blocks["days_left"].tolist() == [2, 61]
    assert minutes(ov.expiring.value_us) == 30  # only P2 is within 30 days (R9)


def test_forfeited_in_the_last_90_days_counts_blocks_expired_since_t_minus_90(tmp_path):
    led = Ledger(tmp_path, POLICY)
    led.load(entries=[entry("x", "2026-01-05T09:00:00", 30)],
             purchases=[purchase("old", "2025-10-01", 1), purchase("recent", "2026-01-02", 1)])
    b = led.books(T)
    ov = views.overview(b, F())
    # 'old' expired 2025-12-30 (more than 90 days before T), 'recent' 2026-04-02: 30 min left lost.
    blocks = led.report("blocks", T).set_index("purchase_id")
    assert blocks.loc["recent", "forfeited_minutes"] == "30.00"
    assert blocks.loc["old", "forfeited_minutes"] == "60.00"
    assert minutes(ov.forfeited_90d.value_us) == 30


def test_overview_of_an_empty_database_is_empty(tmp_path):
    led = Ledger(tmp_path, POLICY)
    led.load(customers=[{"customer_id": "z", "customer_name": "Zed"}])
    ov = views.overview(led.books(T), F())
    assert ov.empty and ov.billable.value_us == 0 and ov.urgent_blocks.empty


# --------------------------------------------------------------------------- usage
def test_usage_over_time_shows_raw_vs_rounded_ad_hoc(led, books):
    over = views.usage_over_time(books, F(customers=["acme"]), "day")
    row = over[over["bucket"] == pd.Timestamp("2026-01-12")].iloc[0]
    assert minutes(row["adhoc_raw_us"]) == 35 and minutes(row["adhoc_billed_us"]) == 60  # R5
    assert minutes(row["rounding_us"]) == 25
    totals = views.usage_totals(books, F())
    assert minutes(totals["adhoc_billed_us"]) == daily_sum(led, "adhoc_billed_minutes", date(2026, 1, 1), T)
    assert minutes(totals["rounding_us"]) == daily_sum(led, "adhoc_billed_minutes", date(2026, 1, 1), T) \
        - daily_sum(led, "adhoc_raw_minutes", date(2026, 1, 1), T)


def test_usage_buckets_by_week_and_month(books):
    month = views.usage_over_time(books, F(), "month")
    assert month["bucket"].dt.day.unique().tolist() == [1]
    assert month["billable_us"].sum() == views.usage_over_time(books, F(), "day")["billable_us"].sum()
    week = views.usage_over_time(books, F(), "week")
    assert set(week["bucket"].dt.day_of_week) == {0}


def test_usage_by_customer_keeps_top_n_and_sums_the_rest(books):
    top1 = views.usage_by_customer(books, F(), top_n=1, names={"acme": "Acme Ltd"})
    assert top1["customer"].tolist() == ["acme Acme Ltd", "1 other customers"]
    total = views.usage_by_customer(books, F(), top_n=10)["billable_us"].sum()
    assert top1["billable_us"].sum() == total


def test_usage_by_staff_and_activity_from_the_entries(led):
    v = appdata.current_version(led.db).number
    e = appdata.entry_usage(led.db, v, POLICY, T, date(2026, 1, 1), T)
    by_staff = views.usage_by(e, "staff").set_index("staff")
    assert minutes(by_staff.loc["Ann", "adhoc_us"]) == 15      # e1 + e5
    assert minutes(by_staff.loc["Ann", "session_us"]) == 45    # e3 (R4)
    assert minutes(by_staff.loc["Ann", "general_us"]) == Decimal("0.5")
    assert minutes(by_staff.loc["Cy", "total_us"]) == 90       # b4 is after T
    by_activity = views.usage_by(e, "activity").set_index("activity")
    assert minutes(by_activity.loc["setup", "adhoc_us"]) == 75  # e1 + e5 + b1
    only_cy = appdata.entry_usage(led.db, v, POLICY, T, date(2026, 1, 1), T, (), ("Cy",))
    assert views.usage_by(only_cy, "staff")["staff"].tolist() == ["Cy"]
    only_acme = appdata.entry_usage(led.db, v, POLICY, T, date(2026, 1, 1), T, ("acme",))
    assert "Cy" not in views.usage_by(only_acme, "staff")["staff"].tolist()


def test_usage_table_is_exact_minutes_text(books):
    table = views.usage_table(views.usage_over_time(books, F(customers=["acme"]), "month"))
    jan = table[table["period_start"] == "2026-01-01"].iloc[0]
    assert jan["adhoc_raw_minutes"] == "35.00" and jan["adhoc_billed_minutes"] == "60.00"
    assert views.csv_bytes(table).startswith(b"period_start,billable_minutes")


# --------------------------------------------------------------------------- expiring hours
def simulate(blocks, pace_us, as_of, horizon=4000):
    """Reference: day by day, the plain greedy of the brief (earliest expiry first)."""
    left = [[e, r] for e, r in blocks]
    day, run_out = as_of + timedelta(days=1), None
    for _ in range(horizon):
        need = pace_us
        for b in left:
            if b[0] >= day and b[1] > 0 and need > 0:
                take = min(b[1], need)
                b[1] -= take
                need -= take
        if need > 0 and run_out is None:
            run_out = day
        day += timedelta(days=1)
        if run_out is not None and all(b[0] < day for b in left):
            break
    return (run_out if pace_us > 0 else None), sum(r for _, r in left)


def test_projection_hand_computed():
    # 100 min left, last day in 10 days, 5 min a day: 50 drawn on days 1..10, 50 lost, runs out day 11.
    run_out, lost = views.project_customer([(T + timedelta(days=10), 100 * MIN)], 5 * MIN, T)
    assert (run_out, lost) == (T + timedelta(days=11), 50 * MIN)
    # Used up before its last day: runs out on the day the pace is no longer covered.
    run_out, lost = views.project_customer([(T + timedelta(days=10), 12 * MIN)], 5 * MIN, T)
    assert (run_out, lost) == (T + timedelta(days=3), 0)
    # No recent use: everything left is projected lost.
    assert views.project_customer([(T + timedelta(days=3), 7 * MIN)], 0, T) == (None, 7 * MIN)


@settings(max_examples=300, deadline=None)
@given(hs.lists(hs.tuples(hs.integers(0, 120), hs.integers(0, 3000)), min_size=1, max_size=5),
       hs.integers(0, 200))
def test_projection_matches_a_day_by_day_walk(raw_blocks, pace_min):
    blocks = sorted((T + timedelta(days=d), m * MIN // 10) for d, m in raw_blocks)
    pace_us = pace_min * MIN // 7
    assert views.project_customer(blocks, pace_us, T) == simulate(blocks, pace_us, T)


def test_expiry_projection_per_customer(books):
    proj = views.expiry_projection(books, F(), {"beta": "Beta GmbH"}).set_index("customer_id")
    # beta: 90 billable ad-hoc + 30 no-show fee in the 30 days to T = 4 min/day; P3 has 600-120 = 480
    # left through 2026-06-30 (61 days from May 1): 244 drawn, 236 lost, runs out 2026-07-01.
    assert proj.loc["beta", "pace_per_day_us"] == 4 * MIN
    assert proj.loc["beta", "remaining_us"] == 480 * MIN
    assert proj.loc["beta", "projected_lost_us"] == 236 * MIN
    assert proj.loc["beta", "run_out"] == date(2026, 7, 1)
    assert proj.loc["beta", "customer_name"] == "Beta GmbH"
    # acme: no billable time in April, so the 30 min left in P2 are projected lost.
    assert proj.loc["acme", "pace_per_day_us"] == 0 and proj.loc["acme", "run_out"] is None
    assert proj.loc["acme", "projected_lost_us"] == 30 * MIN
    csv = views.at_risk_csv(proj.reset_index()).decode()
    assert "beta,Beta GmbH,480.00,4.00,2026-06-30,2026-07-01,236.00" in csv


def test_active_blocks_and_forfeited_by_month(led, books):
    act = views.active_blocks(books, F())
    assert act["purchase_id"].tolist() == ["P2", "P3"]
    blocks = led.report("blocks", T).set_index("purchase_id")
    assert minutes(act.set_index("purchase_id").loc["P3", "remaining_us"]) == Decimal(blocks.loc["P3", "remaining_minutes"])
    assert views.forfeited_by_month(books, F()).empty   # P1 was used up, nothing forfeited


# --------------------------------------------------------------------------- cancellation fees
def test_cancellations_kinds_fees_and_notice(books):
    c = views.cancellations(books, F()).set_index("appointment_id")
    assert c.loc["C1", "kind"] == "late cancellation" and c.loc["C1", "fee_us"] == 30 * MIN
    assert c.loc["A3", "kind"] == "staff cancellation (free)" and c.loc["A3", "fee_us"] == 0
    assert c.loc["A4", "kind"] == "no-show" and c.loc["A4", "fee_us"] == 30 * MIN
    assert c.loc["A5", "kind"] == "cancelled in time (free)" and c.loc["A5", "fee_us"] == 0  # exactly 24 h
    assert views.notice_text(c.loc["C1", "notice_us"]) == "10 h 00 min"
    hist = views.notice_histogram(c.reset_index()).set_index(["notice", "who"])["count"]
    assert hist[("6-12 h", "by the customer")] == 1
    assert hist[("24-48 h", "by the customer")] == 1   # 24 h exactly is free: not in 12-24 h
    assert hist[("24-48 h", "by staff")] == 1
    by_cust = views.fees_by_customer(c.reset_index()).set_index("customer_id")
    assert by_cust.loc["acme", "late_cancellations"] == 1 and by_cust.loc["beta", "no_shows"] == 1
    month = views.fees_by_month(c.reset_index())
    assert month["fee_us"].sum() == 60 * MIN


def test_cancellations_follow_period_customer_and_staff_filters(books):
    assert views.cancellations(books, F("2026-04-01", "2026-04-30"))["appointment_id"].tolist() == ["A3", "A4", "A5"]
    assert views.cancellations(books, F(customers=["acme"]))["appointment_id"].tolist() == ["C1"]
    assert views.cancellations(books, F(staff=["Ann"]))["appointment_id"].tolist() == ["C1"]


# --------------------------------------------------------------------------- policy
def test_rule_explanations_use_the_policy_numbers():
    text = dict(views.rule_explanations(Policy(rounding_increment_minutes=15, late_cancellation_minutes=45)))
    assert set(text) == {f"R{i}" for i in range(1, 10)}
    assert "next 15 minutes" in text["R5"] and "billed 45 min" in text["R5"]
    assert "billed 45 min; a no-show is billed 30 min" in text["R6"]


def test_what_if_15_minute_increment_equals_the_engine_under_that_policy(led, books):
    changed_policy = POLICY.with_changes(rounding_increment_minutes=15)
    changed = led.books(T, changed_policy)
    table = views.what_if(books, changed, F()).set_index("figure")
    # acme Jan 12: 35 → 45 (not 60); Feb 3: 10 → 15 (not 30); beta's 60 and 30 stay.
    assert minutes(table.loc["Ad-hoc, rounded", "difference_us"]) == -30
    engine = daily_frame(changed)
    assert table.loc["Billable", "what_if_us"] == engine["billable_us"].sum()
    assert table.loc["Billable", "active_us"] == daily_frame(books)["billable_us"].sum()
    by_cust = views.what_if_by_customer(books, changed, F()).set_index("customer_id")
    assert minutes(by_cust.loc["acme", "difference_us"]) == -30 and by_cust.loc["beta", "difference_us"] == 0


# --------------------------------------------------------------------------- data quality
def test_review_counts_and_filter(led, books):
    v = appdata.current_version(led.db).number
    rv = appdata.review(led.db, v, POLICY, T)
    with open_db(led.db, read_only=True) as con:
        assert len(rv) == len(report(con, "review", POLICY, T))
    counts = dict(views.review_counts(rv).itertuples(index=False))
    assert counts == {"entry under one minute": 1}   # b3, 0.5 min
    assert views.review_for(rv, F(customers=["acme"])).empty


# --------------------------------------------------------------------------- appdata
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
    assert views.usage_totals(b2, F())["billable_us"] == views.usage_totals(b1, F())["billable_us"] + 30 * MIN


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


def test_hours_text_is_the_one_people_style():
    assert views.hours_text(90 * MIN) == "1 h 30 min"
    assert views.hours_text([45 * MIN, 120 * MIN]) == ["45 min", "2 h"]


def test_rejected_rows_are_listed_with_where_and_what_to_do(tmp_path):
    led = Ledger(tmp_path, POLICY)
    led.load(entries=[entry("ok", "2026-04-01T09:00:00", 30), entry("bad", "2026-04-01T09:00:00", "1e1")])
    v = appdata.current_version(led.db).number
    imports, rejects = appdata.recent_imports(led.db, v)
    assert imports["rejected"].tolist() == [1]
    shown = views.rejects_with_action(rejects)
    assert shown["what_to_do"].iloc[0].startswith("correct time_entries.csv, line 3, column 'minutes' in the export")


def test_run_out_text():
    assert views.run_out_text([date(2026, 7, 1), None]) == ["2026-07-01", "no recent use"]


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
