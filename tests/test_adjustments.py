"""R10 adjustments, the recording side (billing/adjustments.py): storage, every refusal, which
are in force as of T at the edges, nothing half-written, the command line and the page.

The data is tests/billing_pages/fixture.py's (RULES.md's worked example for acme, and beta),
plus one appointment still scheduled. Expected values are worked out by hand in comments.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from billing import adjustments as adj
from billing.__main__ import main
from billing.policy import US_PER_MINUTE, Policy
from billing.store import data_version, open_db
from tests.billing_pages.fixture import load_fixture
from tests.builders import Ledger, appointment

ROOT = Path(__file__).resolve().parents[1]
POLICY = Policy(timezone="UTC")
NOW = datetime(2026, 5, 3, 14, 5, 9, tzinfo=timezone.utc)
D = date.fromisoformat


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The fixture database, built once; each test gets a copy (``led``)."""
    led = load_fixture(Ledger(tmp_path_factory.mktemp("adjust"), POLICY))
    led.load(appointments=[appointment("F1", "2026-06-01T10:00:00", 60, "scheduled", staff="Ann")])
    return led.db


@pytest.fixture
def db(base, tmp_path):
    copy = tmp_path / "books.duckdb"
    copy.write_bytes(base.read_bytes())
    return copy


def rec(db, kind, target, on="2026-05-01", by="ann", reason="goodwill", **kw):
    return adj.record(db, kind, target, on=on, by=by, reason=reason, policy=POLICY, now=NOW, **kw)


def rows(db) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'adjustments'").fetchone()[0]:
            return []
        return con.execute("SELECT * FROM adjustments ORDER BY adjustment_id").fetchall()


def version(db) -> int:
    with open_db(db, read_only=True) as con:
        return data_version(con)


def forced(db, as_of, customer=None):
    with open_db(db, read_only=True) as con:
        return adj.in_force(con, as_of, customer)


# --------------------------------------------------------------------------- storage
def test_a_credit_is_stored_with_every_field_exact(db):
    before = version(db)
    assert rec(db, "credit", "acme", minutes="12.5", reason="  outage on 2026-04-20 ", by="Ana") == 1
    # 12.5 min × 60,000,000 µs = 750,000,000 µs; the reason trimmed; recorded_at naive UTC.
    assert rows(db) == [(1, "credit", "acme", "acme", D("2026-05-01"), None, 750_000_000, "outage on 2026-04-20",
                         "Ana", datetime(2026, 5, 3, 14, 5, 9))]
    assert version(db) == before + 1   # caches refresh


def test_ids_count_up_and_the_customer_comes_from_the_target(db):
    assert rec(db, "waive", "C1") == 1                       # C1 is acme's late cancellation
    assert rec(db, "extend", "P3", to_day=D("2026-07-31")) == 2   # P3 is beta's block
    assert rec(db, "exclude", "b1") == 3                     # b1 is beta's entry
    assert rec(db, "charge", "beta", minutes=30) == 4
    assert adj.void(db, 2, on="2026-05-02", by="ann", reason="wrong block", policy=POLICY, now=NOW) == 5
    got = [(r[0], r[1], r[2], r[3], r[5], r[6]) for r in rows(db)]
    assert got == [(1, "waive", "C1", "acme", None, None),
                   (2, "extend", "P3", "beta", D("2026-07-31"), None),
                   (3, "exclude", "b1", "beta", None, None),
                   (4, "charge", "beta", "beta", None, 30 * US_PER_MINUTE),
                   (5, "void", "2", "beta", None, None)]       # a void: the voided one's customer


def test_the_date_defaults_to_today_in_the_policy_zone(db):
    # UTC+14 and UTC-12 are 26 hours apart: their todays always differ, so the zone decides.
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        policy = Policy(timezone=zone)
        number = adj.record(db, "credit", "acme", by="ann", reason="r", minutes=1, policy=policy)
        assert rows(db)[number - 1][4] == datetime.now(ZoneInfo(zone)).date()


@pytest.mark.parametrize("given, us", [
    ("12.5", 750_000_000), (" 7 ", 420_000_000), (90, 5_400_000_000), (12.5, 750_000_000),
    (Decimal("0.0000001"), 6), ("0.1", 6_000_000), (".5", 30_000_000), ("0.00000005", 3), ("60000000", 60_000_000 * US_PER_MINUTE)])
def test_minutes_are_exact_microseconds(given, us):
    assert adj.minutes_to_us(given) == us


def test_minutes_as_listed_are_what_was_recorded():
    assert [adj.minutes_text(adj.minutes_to_us(m)) for m in ("12.5", "90", "0.0000001", "1.005")] == \
        ["12.50", "90.00", "0.0000001", "1.005"]


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("minutes, words", [
    ("abc", "'abc' is not a number"), ("NaN", "'NaN' is not a number"), ("inf", "'inf' is not a number"),
    ("1e3", "'1e3' is not a number"), ("12,5", "'12,5' is not a number"), (float("nan"), "not a number"),
    (True, "not a number"), ("0", "minutes 0: must be more than 0"), ("-5", "minutes -5: must be more than 0"),
    ("+5", "minutes '+5' has a sign"), ("١٢", "minutes '١٢' is not a number"), ("１２", "'１２' is not a number"),
    ("1٢.5", "is not a number"), ("12.٥", "is not a number"), ("- 5", "is not a number"), ("+.5", "has a sign"),
    (0, "must be more than 0"), ("0.000000001", "finer than a microsecond"),
    ("60000000.5", "more than 60,000,000 minutes"), ("0.1000000000000000000000000000000001", "finer than a microsecond"), ("", "credit needs the minutes"), (None, "credit needs the minutes"),
])
def test_bad_minutes_are_refused_and_nothing_is_written(db, minutes, words):
    with pytest.raises(adj.AdjustmentError, match=re.escape(words)):
        rec(db, "credit", "acme", minutes=minutes)
    assert rows(db) == []


@pytest.mark.parametrize("kind, target, words", [
    ("extend", "P9", "there is no block 'P9' in the data"),
    ("waive", "X1", "there is no appointment 'X1' in the data"),
    ("exclude", "e99", "there is no entry 'e99' in the data"),
    ("credit", "gamma", "there is no customer 'gamma' in the data"),
    ("charge", "ACME", "there is no customer 'ACME' in the data"),   # ids are exact, case-sensitive
    ("void", "7", "there is no adjustment 7 on record"),
    ("void", "seven", "'seven' is not an adjustment number"),
    ("extend", "adj-1", "there is no credit block 'adj-1': adjustment 1 is not on record"),
    ("waive", "  ", "which appointment"),
])
def test_an_unknown_target_is_refused_naming_it(db, kind, target, words):
    extra = {"to_day": D("2026-12-31")} if kind == "extend" else {"minutes": "5"} if kind in ("credit", "charge") else {}
    with pytest.raises(adj.AdjustmentError, match=words):
        rec(db, kind, target, **extra)
    assert rows(db) == []


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(db, reason):
    with pytest.raises(adj.AdjustmentError, match="a reason is required"):
        rec(db, "waive", "C1", reason=reason)
    with pytest.raises(adj.AdjustmentError, match="a reason is required"):
        adj.void(db, 1, by="ann", reason=reason, policy=POLICY)
    assert rows(db) == []


def test_who_records_it_is_required(db):
    with pytest.raises(adj.AdjustmentError, match="who records the adjustment is required"):
        rec(db, "waive", "C1", by=" ")


@pytest.mark.parametrize("kind, target, kw, words", [
    ("extend", "P1", {}, "extend needs the block's new last day"),
    ("waive", "C1", {"to_day": D("2026-12-31")}, "a new last day belongs to extend only"),
    ("extend", "P1", {"to_day": D("2026-12-31"), "minutes": 5}, "minutes belong to credit and charge only"),
    ("exclude", "e1", {"minutes": 5}, "minutes belong to credit and charge only"),
    ("refund", "acme", {}, "unknown kind of adjustment 'refund'"),
    ("waive", "C1", {"on": "2026-13-01"}, "is not a date"),
    ("void", "1", {"minutes": 5}, "a void takes no new last day and no minutes"),
])
def test_what_does_not_belong_to_a_kind_is_refused(db, kind, target, kw, words):
    with pytest.raises(adj.AdjustmentError, match=words):
        rec(db, kind, target, **kw)


def test_extend_must_move_the_last_day_later(db):
    # R7: P1 bought 2026-01-10, valid 90 days: its last day is 2026-04-10.
    for day in ("2026-04-10", "2026-03-01"):
        with pytest.raises(adj.AdjustmentError, match=f"extend P1 to {day}: that is not later than its last day "
                                                      "2026-04-10 "):
            rec(db, "extend", "P1", to_day=D(day))
    assert rec(db, "extend", "P1", to_day=D("2026-04-11"), on="2026-05-01") == 1
    # As of 2026-05-01 and later the last day is 2026-04-11 now: the same day again goes nowhere.
    with pytest.raises(adj.AdjustmentError, match="not later than its last day 2026-04-11 \\(as of 2026-05-02\\)"):
        rec(db, "extend", "P1", to_day=D("2026-04-11"), on="2026-05-02")
    # An extend dated before the first one is measured against R7's day alone.
    assert rec(db, "extend", "P1", to_day=D("2026-04-11"), on="2026-04-30") == 2
    # Voiding the first (from 2026-05-01) brings back R7's day for later extends.
    adj.void(db, 1, on="2026-05-01", by="ann", reason="wrong", policy=POLICY)
    adj.void(db, 2, on="2026-05-01", by="ann", reason="wrong", policy=POLICY)
    assert rec(db, "extend", "P1", to_day=D("2026-04-11"), on="2026-05-03") == 5


def test_a_credit_block_can_be_extended_by_its_name(db):
    rec(db, "credit", "beta", minutes=60, on="2026-05-01")        # block adj-1, last day 2026-05-01 + 90
    with pytest.raises(adj.AdjustmentError, match="not later than its last day 2026-07-30"):
        rec(db, "extend", "adj-1", to_day=D("2026-07-30"), on="2026-05-02")
    assert rec(db, "extend", "adj-1", to_day=D("2026-08-31"), on="2026-05-02") == 2
    assert rows(db)[1][2:4] == ("adj-1", "beta")
    with pytest.raises(adj.AdjustmentError, match="adjustment 2 is of kind extend, not a credit"):
        rec(db, "extend", "adj-2", to_day=D("2026-12-31"))
    adj.void(db, 1, on="2026-05-03", by="ann", reason="wrong customer", policy=POLICY)
    with pytest.raises(adj.AdjustmentError, match="credit block adj-1 was voided by adjustment 3"):
        rec(db, "extend", "adj-1", to_day=D("2026-12-31"))


@pytest.mark.parametrize("appointment_id, why", [
    ("S1", "it is a completed session"),
    ("A3", "it was cancelled by staff"),
    ("A5", "it was cancelled in time"),        # exactly 24 h notice: free (R6)
    ("F1", "it is still scheduled"),
])
def test_waiving_an_appointment_that_bills_no_fee_is_refused(db, appointment_id, why):
    with pytest.raises(adj.AdjustmentError, match=f"appointment {appointment_id} bills no fee to waive: {why}"):
        rec(db, "waive", appointment_id)
    assert rows(db) == []


def test_the_fee_to_waive_follows_the_policy(db):
    # A5 was cancelled exactly 24 h ahead: free under the default notice, a fee with 48 h.
    assert adj.record(db, "waive", "A5", on="2026-05-01", by="ann", reason="r",
                      policy=Policy(cancellation_notice_hours=48)) == 1


def test_a_second_waive_or_exclude_is_refused_until_the_first_is_voided(db):
    rec(db, "waive", "A4")                     # beta's no-show
    rec(db, "exclude", "e5")
    with pytest.raises(adj.AdjustmentError, match="appointment A4's fee is already waived by adjustment 1 "
                                                  r"\(from 2026-05-01\)"):
        rec(db, "waive", "A4", on="2026-06-01")
    with pytest.raises(adj.AdjustmentError, match="entry e5 is already excluded by adjustment 2"):
        rec(db, "exclude", "e5")
    adj.void(db, 1, on="2026-05-10", by="ann", reason="fee stands", policy=POLICY)
    assert rec(db, "waive", "A4", on="2026-06-01") == 4


def test_a_void_of_a_void_or_of_a_voided_adjustment_is_refused(db):
    rec(db, "waive", "C1")
    adj.void(db, "adj-1", on="2026-06-01", by="ann", reason="r", policy=POLICY)     # 2 voids 1
    with pytest.raises(adj.AdjustmentError, match="adjustment 2 is itself a void"):
        adj.void(db, 2, by="ann", reason="r", policy=POLICY)
    # Already voided, even by a void dated later than the new one would be.
    with pytest.raises(adj.AdjustmentError, match=r"adjustment 1 is already voided by adjustment 2 \(from 2026-06-01\)"):
        adj.void(db, 1, on="2026-05-15", by="ann", reason="r", policy=POLICY)
    with pytest.raises(adj.AdjustmentError, match="adjustment 2 is itself a void"):
        rec(db, "void", "2")
    assert len(rows(db)) == 2


def test_a_missing_database_is_refused_and_not_created(tmp_path):
    path = tmp_path / "nothing.duckdb"
    with pytest.raises(adj.AdjustmentError, match="no such database"):
        rec(path, "credit", "acme", minutes=5)
    assert not path.exists()


# --------------------------------------------------------------------------- nothing half-written
def test_a_failure_after_the_insert_leaves_nothing(db, monkeypatch):
    rec(db, "waive", "C1")
    before_rows, before_version = rows(db), version(db)

    def broken(con):
        raise duckdb.IOException("disk full")
    monkeypatch.setattr("billing.store.bump_data_version", broken)
    with pytest.raises(duckdb.IOException):
        rec(db, "credit", "acme", minutes=5)
    assert rows(db) == before_rows and version(db) == before_version


def test_a_refused_adjustment_leaves_the_table_and_version_unchanged(db):
    rec(db, "credit", "acme", minutes=5)
    before_rows, before_version = rows(db), version(db)
    for kind, target, kw in [("waive", "S1", {}), ("extend", "P1", {"to_day": D("2026-01-01")}),
                             ("void", "9", {}), ("credit", "acme", {"minutes": "x"})]:
        with pytest.raises(adj.AdjustmentError):
            rec(db, kind, target, **kw)
    assert rows(db) == before_rows and version(db) == before_version


def test_an_open_connection_is_used_in_one_transaction(db):
    with open_db(db) as con:
        assert adj.record(con, "charge", "acme", on="2026-05-01", by="ann", reason="r", minutes=15,
                          policy=POLICY) == 1
        with pytest.raises(adj.AdjustmentError):
            adj.record(con, "charge", "nobody", on="2026-05-01", by="ann", reason="r", minutes=15, policy=POLICY)
        assert con.execute("SELECT count(*) FROM adjustments").fetchone()[0] == 1   # rolled back, usable
    assert len(rows(db)) == 1


# --------------------------------------------------------------------------- in force as of T
def test_in_force_at_the_edges(db):
    rec(db, "waive", "C1", on="2026-05-01")                                   # 1
    rec(db, "credit", "beta", minutes="30", on="2026-05-03")                  # 2
    adj.void(db, 1, on="2026-05-02", by="ann", reason="r", policy=POLICY)     # 3: voids 1 from 05-02
    ids = lambda t, c=None: list(forced(db, D(t), c)["adjustment_id"])       # noqa: E731
    assert ids("2026-04-30") == []            # dated after T: not yet
    assert ids("2026-05-01") == [1]           # dated T: applies; its void is dated after T: still applies
    assert ids("2026-05-02") == []            # void dated T: removed
    assert ids("2026-05-03") == [2]
    assert ids("2026-05-03", "acme") == [] and ids("2026-05-03", "beta") == [2]


def test_in_force_columns_types_and_order(db):
    rec(db, "extend", "P2", to_day=D("2026-06-01"), on="2026-05-05")           # 1
    rec(db, "extend", "P2", to_day=D("2026-07-01"), on="2026-05-04")           # 2
    rec(db, "charge", "acme", minutes="12.5", on="2026-05-04", reason="prep")  # 3
    f = forced(db, D("2026-05-05"))
    assert list(f.columns) == adj.IN_FORCE_COLUMNS
    assert str(f["adjustment_id"].dtype) == "int64" and str(f["minutes_us"].dtype) == "Int64"
    # By date, then number; both extends of P2 are listed (the engine uses the latest to_day).
    assert list(f["adjustment_id"]) == [2, 3, 1]
    assert list(f["on_day"]) == [D("2026-05-04"), D("2026-05-04"), D("2026-05-05")]
    assert list(f["to_day"]) == [D("2026-07-01"), None, D("2026-06-01")]
    assert f["minutes_us"].tolist() == [pd_na(), 750_000_000, pd_na()]
    assert list(f["reason"]) == ["goodwill", "prep", "goodwill"]


def test_handed_in_adjustments_apply_from_their_date(db):
    # compute_books' ``adjustments`` (what-if runs): the same R10 date rule as in_force.
    for kind, target, on in (("waive", "C1", "2026-05-01"), ("credit", "beta", "2026-05-03")):
        rec(db, kind, target, on=on, **({"minutes": "30"} if kind == "credit" else {}))
    handed = forced(db, D("2026-12-31"))
    assert list(adj.dated_in_force(handed, D("2026-04-30"))["adjustment_id"]) == []
    assert list(adj.dated_in_force(handed, D("2026-05-01"))["adjustment_id"]) == [1]   # dated T: applies
    assert list(adj.dated_in_force(handed, D("2026-05-03"))["adjustment_id"]) == [1, 2]
    none = handed.iloc[0:0]
    assert adj.dated_in_force(none, D("2026-05-03")) is none


def pd_na():
    import pandas as pd
    return pd.NA


def test_a_database_made_before_the_table_reads_as_no_adjustments(db):
    with duckdb.connect(str(db)) as con:
        con.execute("DROP TABLE adjustments")
    with open_db(db, read_only=True) as con:                # read-only: cannot create it
        f, h = adj.in_force(con, D("2026-05-01")), adj.history(con)
    assert f.empty and list(f.columns) == adj.IN_FORCE_COLUMNS
    assert h.empty and list(h.columns) == adj.HISTORY_COLUMNS
    assert main(["adjustments", "--db", str(db), "--format", "csv"]) == 0
    assert rec(db, "waive", "C1") == 1                      # recording creates it


def test_history_says_which_void_voided_each(db):
    rec(db, "waive", "C1")
    rec(db, "exclude", "e1")
    adj.void(db, 2, on="2026-06-01", by="bob", reason="counted after all", policy=POLICY, now=NOW)
    with open_db(db, read_only=True) as con:
        h = adj.history(con)
        beta = adj.history(con, "beta")
    assert list(h.columns) == adj.HISTORY_COLUMNS
    assert list(h["adjustment_id"]) == [1, 2, 3]
    assert h["voided_by"].tolist() == [pd_na(), 3, pd_na()]
    assert list(h["voided_on"]) == [None, D("2026-06-01"), None]
    assert list(h["recorded_by"]) == ["ann", "ann", "bob"]
    assert beta.empty


# --------------------------------------------------------------------------- command line
def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_records_each_kind_and_prints_its_number(db, capsys, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('timezone = "UTC"\n')
    common = ["--db", str(db), "--policy", str(policy), "--by", "ann", "--on", "2026-05-01"]
    cases = [
        (["extend", "P2", "--to", "2026-06-30", "--reason", "holiday"],
         "adjustment 1 recorded: extend block P2 to 2026-06-30 for acme (Acme Ltd), dated 2026-05-01."),
        (["waive", "C1", "--reason", "goodwill"],
         "adjustment 2 recorded: waive the fee of appointment C1 for acme (Acme Ltd), dated 2026-05-01."),
        (["exclude", "b2", "--reason", "duplicate"],
         "adjustment 3 recorded: exclude entry b2 for beta (Beta GmbH), dated 2026-05-01."),
        (["credit", "beta", "--minutes", "90", "--reason", "outage"],
         "adjustment 4 recorded: credit 1 h 30 min for beta (Beta GmbH), dated 2026-05-01."),
        (["charge", "acme", "--minutes", "12.5", "--reason", "report"],
         "adjustment 5 recorded: charge 12 min 30 s for acme (Acme Ltd), dated 2026-05-01."),   # exact, not 13 min
        (["void", "2", "--reason", "fee stands"],
         "adjustment 6 recorded: void adjustment 2 for acme (Acme Ltd), dated 2026-05-01."),
    ]
    for args, said in cases:
        assert run_cli(capsys, "adjust", *args, *common) == (0, said + "\n", "")
    assert rows(db)[4][6] == 750_000_000          # the charge's 12.5 min, exact


def test_cli_by_defaults_to_the_user_name_and_on_to_today(db, capsys):
    import getpass

    assert run_cli(capsys, "adjust", "credit", "acme", "--minutes", "5", "--reason", "r", "--db", str(db))[0] == 0
    row = rows(db)[0]
    assert row[8] == getpass.getuser()
    # billing.toml's zone decides today.
    from billing.policy import load_policy
    assert row[4] == datetime.now(ZoneInfo(load_policy().timezone)).date()


@pytest.mark.parametrize("args, said", [
    (["waive", "X1", "--reason", "r"], "error: there is no appointment 'X1' in the data.\n"),
    (["waive", "C1", "--reason", " "], "error: a reason is required"),
    (["credit", "acme", "--minutes", "abc", "--reason", "r"], "error: minutes 'abc' is not a number"),
    (["extend", "P1", "--to", "2026-04-10", "--reason", "r"], "error: extend P1 to 2026-04-10: that is not later"),
    (["void", "1", "--reason", "r"], "error: there is no adjustment 1 on record"),
])
def test_cli_errors_are_one_sentence_and_write_nothing(db, capsys, args, said):
    code, out, err = run_cli(capsys, "adjust", *args, "--db", str(db), "--by", "ann")
    assert code == 1 and out == "" and err.startswith(said) and err.count("\n") == 1
    assert rows(db) == []


@pytest.mark.parametrize("minutes, said", [
    ("12.5", "charge 12 min 30 s"), ("90", "charge 1 h 30 min"), ("0.0000001", "charge 0.0000001 min"),
    ("0.5", "charge 30 s"), ("61.0125", "charge 1 h 1 min 0.75 s"), ("12.345", "charge 12 min 20.7 s")])
def test_cli_confirmation_states_the_exact_amount_recorded(db, capsys, tmp_path, minutes, said):
    # 12.345 min = 740,700,000 µs = 12 min 20.7 s; 61.0125 min = 1 h 1 min and 0.0125 × 60 = 0.75 s.
    code, out, err = run_cli(capsys, "adjust", "charge", "acme", "--minutes", minutes, "--reason", "r",
                             "--db", str(db), "--by", "ann", "--on", "2026-05-01")
    assert (code, err) == (0, "")
    assert out == f"adjustment 1 recorded: {said} for acme (Acme Ltd), dated 2026-05-01.\n"


def test_cli_reason_is_a_required_option(db, capsys):
    assert main(["adjust", "waive", "C1", "--db", str(db)]) == 1
    assert capsys.readouterr().err == ("error: adjust waive: --reason is required (why the adjustment is made, "
                                       "in words).\n")
    assert rows(db) == []


def listed(capsys, db, *extra) -> str:
    code, out, err = run_cli(capsys, "adjustments", "--db", str(db), *extra)
    assert code == 0 and err == ""
    return out


def test_cli_lists_them_as_csv_json_and_a_table(db, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")   # every column (tests/test_cli_widths.py: at 80 and 120)
    rec(db, "waive", "C1", reason="goodwill, first time")
    rec(db, "credit", "beta", minutes="90", on="2026-05-02", reason="outage", by="Ana")
    rec(db, "charge", "beta", minutes="12.5", on="2026-05-02", reason="report")
    adj.void(db, 1, on="2026-05-04", by="bob", reason="fee stands", policy=POLICY, now=NOW)

    got = list(csv.DictReader(io.StringIO(listed(capsys, db, "--format", "csv"))))
    assert list(got[0]) == adj.LISTING_COLUMNS
    assert [tuple(r.values()) for r in got] == [
        ("1", "waive", "C1", "acme", "2026-05-01", "", "", "goodwill, first time", "ann", "2026-05-03T14:05:09Z",
         "4", "2026-05-04"),
        ("2", "credit", "beta", "beta", "2026-05-02", "", "90.00", "outage", "Ana", "2026-05-03T14:05:09Z", "", ""),
        ("3", "charge", "beta", "beta", "2026-05-02", "", "12.50", "report", "ann", "2026-05-03T14:05:09Z", "", ""),
        ("4", "void", "1", "acme", "2026-05-04", "", "", "fee stands", "bob", "2026-05-03T14:05:09Z", "", ""),
    ]
    beta = json.loads(listed(capsys, db, "--format", "json", "--customer", "beta"))
    assert [(r["adjustment_id"], r["minutes"], r["to_day"], r["voided_by"]) for r in beta] == \
        [(2, 90.0, None, None), (3, 12.5, None, None)]

    table = listed(capsys, db).splitlines()
    assert table[0].split() == ["no.", "dated", "what", "customer", "reason", "by", "recorded", "(UTC)", "voided"]
    assert "credit 1 h 30 min" in table[3] and "beta · Beta GmbH" in table[3]
    assert "charge 13 min" in table[4]                   # whole minutes for people, half up
    assert "acme · Acme Ltd" in table[2] and "by 4 from 2026-05-04" in table[2]
    assert "2026-05-03 14:05" in table[2] and "14:05:09" not in table[2]
    assert table[-1].startswith("(4 rows")


def test_cli_listing_of_an_unknown_customer_is_an_error_naming_it(db, capsys):
    assert run_cli(capsys, "adjustments", "--db", str(db), "--customer", "gamma") == \
        (1, "", "error: --customer gamma: no customer 'gamma' in " + str(db) + ": customers are given by id. "
                "The 2 customers are acme … beta.\n")
    assert listed(capsys, db, "--customer", "beta") == "(no rows)\n"   # known, nothing recorded


def test_the_command_runs_as_a_process(db):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "billing", "adjust", "waive", "A4", "--reason", "first no-show",
                           "--by", "ann", "--on", "2026-05-01", "--db", str(db)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "adjustment 1 recorded: waive the fee of appointment A4 for beta (Beta GmbH), dated 2026-05-01.\n"


# --------------------------------------------------------------------------- the page
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.apptest_live import as_on_a_live_server  # noqa: E402

PAGE = "pages/adjustments.py"


@pytest.fixture
def page_env(db, monkeypatch, tmp_path):
    as_on_a_live_server(monkeypatch)
    policy = tmp_path / "policy.toml"
    policy.write_text('timezone = "UTC"\n')
    monkeypatch.setenv("HOURBANK_DB", str(db))
    monkeypatch.setenv("HOURBANK_POLICY", str(policy))
    from billing import appdata
    appdata.clear_caches()
    yield db
    appdata.clear_caches()


def open_page(link: dict | None = None, user: dict | None = None, secrets: dict | None = None) -> AppTest:
    """The Adjustments page as of 2026-04-30 (sidebar), opened through a link's query parameters."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    if user is not None:
        at.user = dict(user)
    if secrets is not None:
        at.secrets.update(secrets)
    at.run()
    at.date_input(key="asof").set_value(D("2026-04-30"))
    at.selectbox(key="period").set_value("this_year")
    at.switch_page(PAGE)
    for key, value in (link or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Adjustments"]
    return at


def submit(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_prefilled_from_a_link_records_a_waive(page_env):
    at = open_page({"kind": "waive", "target": "C1"})
    assert at.selectbox(key="adj_kind").value == "waive"
    assert at.selectbox(key="adj_target_0").value == "C1"
    # The fees dated ≤ T are offered, by name: C1 (acme, 2026-01-14) and beta's no-show A4.
    assert at.selectbox(key="adj_target_0").options == [
        "A4 · beta · Beta GmbH · 2026-04-23 · no-show, fee 30 min",
        "C1 · acme · Acme Ltd · 2026-01-14 · late cancellation, fee 30 min"]
    assert "The fee of appointment C1, of acme · Acme Ltd." in [c.value for c in at.caption]
    assert "kind" not in at.query_params and "target" not in at.query_params   # they went from the address
    assert at.query_params["asof"] == at.date_input(key="asof").value.isoformat()   # the view stays in it
    at.date_input(key="adj_on_0").set_value(D("2026-05-01"))
    at.text_area(key="adj_reason_0").input("goodwill: first late cancellation")
    at.text_input(key="adj_by").input("Ana")
    submit(at, "Record adjustment")
    assert [s.value for s in at.success] == [
        "Adjustment 1 recorded: waive the fee of appointment C1 for acme · Acme Ltd, dated 2026-05-01; reports as "
        "of that day or later apply it."]
    assert rows(page_env)[0][:8] == (1, "waive", "C1", "acme", D("2026-05-01"), None, None,
                                     "goodwill: first late cancellation")
    assert rows(page_env)[0][8] == "Ana"
    # A new, empty form; the list shows it, not applying as of T = 2026-04-30 (dated later).
    assert at.text_area(key="adj_reason_1").value == "" and at.selectbox(key="adj_target_1").value is None
    [listed] = at.dataframe
    row = listed.value.iloc[0].to_dict()
    assert row["what"] == "waive the fee of appointment C1" and row["customer"] == "acme · Acme Ltd"
    assert row["as of 2026-04-30"] == "not yet (dated later)" and row["by"] == "Ana"


@pytest.mark.parametrize("reason", ["", "   "])
def test_page_refuses_an_adjustment_without_a_reason(page_env, reason):
    at = open_page({"kind": "credit", "target": "beta"})
    at.text_input(key="adj_minutes_0").input("90")
    at.text_area(key="adj_reason_0").input(reason)
    at.text_input(key="adj_by").input("Ana")
    submit(at, "Record adjustment")
    assert [e.value for e in at.error] == [
        "A reason is required: say why the adjustment is made (it is kept with it and shown on statements)."]
    assert rows(page_env) == []


def test_page_warns_that_the_reason_is_printed_on_the_statement(page_env):
    from billing.pages.adjustments import REASON_SHOWN

    at = open_page({"kind": "credit", "target": "beta"})
    assert REASON_SHOWN in [w.value for w in at.warning]
    assert "printed on the customer's statement" in REASON_SHOWN
    assert at.text_area(key="adj_reason_0").help == REASON_SHOWN


def test_page_says_what_is_wrong_with_a_target_before_recording(page_env):
    from billing.pages.adjustments import REASON_SHOWN

    at = open_page({"kind": "waive", "target": "S1"})
    assert [w.value for w in at.warning if w.value != REASON_SHOWN] == [
        "Appointment S1 bills no fee to waive: it is a completed session (to stop billing its time, exclude its "
        "entries) (R6)."]
    at = open_page({"kind": "extend", "target": "P1"})
    assert "Block P1, last day 2026-04-10, of acme · Acme Ltd." in [c.value for c in at.caption]
    assert at.date_input(key="adj_to_0").value == D("2026-05-10")      # its last day + 30 days


def test_page_records_a_credit_with_exact_minutes(page_env):
    at = open_page({"kind": "credit", "target": "beta"})
    at.text_input(key="adj_minutes_0").input("12.5")
    at.date_input(key="adj_on_0").set_value(D("2026-04-20"))
    at.text_area(key="adj_reason_0").input("outage")
    at.text_input(key="adj_by").input("Ana")
    submit(at, "Record adjustment")
    assert rows(page_env)[0][:7] == (1, "credit", "beta", "beta", D("2026-04-20"), None, 750_000_000)
    assert [m.value for m in at.metric] == ["1", "13 min", "0 min"]        # applying as of T, whole minutes


def test_page_voids_with_a_reason(page_env):
    rec(page_env, "waive", "C1", on="2026-04-01")
    rec(page_env, "exclude", "e5", on="2026-04-02")
    at = open_page()
    assert at.selectbox(key="void_0").options == [
        "2 · exclude entry e5 · acme · Acme Ltd · dated 2026-04-02 · goodwill",
        "1 · waive the fee of appointment C1 · acme · Acme Ltd · dated 2026-04-01 · goodwill"]
    at.selectbox(key="void_0").set_value(1)
    at.date_input(key="void_on_0").set_value(D("2026-04-15"))
    at.text_input(key="void_by").input("Bob")
    submit(at, "Void adjustment")
    assert [e.value for e in at.error] == [
        "A reason is required: say why the adjustment is made (it is kept with it and shown on statements)."]
    at.text_area(key="void_reason_0").input("the fee stands after all")
    submit(at, "Void adjustment")
    assert rows(page_env)[2][:5] == (3, "void", "1", "acme", D("2026-04-15"))
    assert rows(page_env)[2][7:9] == ("the fee stands after all", "Bob")
    shown = at.dataframe[0].value.set_index("no.")
    assert shown.loc["1", "voided"] == "by 3 from 2026-04-15" and shown.loc["1", "as of 2026-04-30"] == "voided"
    assert shown.loc["3", "as of 2026-04-30"] == "a void" and shown.loc["2", "as of 2026-04-30"] == "applies"
    assert at.selectbox(key="void_1").options == [
        "2 · exclude entry e5 · acme · Acme Ltd · dated 2026-04-02 · goodwill"]   # voided ones and voids go


def test_page_records_the_signed_in_manager(page_env, monkeypatch, tmp_path):
    from streamlit import config
    from streamlit.runtime.secrets import secrets_singleton

    from tests.test_access import ANA, configured

    path = tmp_path / "secrets.toml"        # none of the developer's own secrets
    get_option = config.get_option
    monkeypatch.setattr(config, "get_option", lambda name: [str(path)] if name == "secrets.files" else get_option(name))
    monkeypatch.setattr(secrets_singleton, "_secrets", None)
    at = open_page({"kind": "exclude", "target": "e2"}, user=ANA, secrets=configured())
    assert not [t for t in at.text_input if t.label.startswith("Recorded by")]
    assert "Recorded by ana@example.com (signed in)." in [c.value for c in at.caption]
    at.text_area(key="adj_reason_0").input("Bob's timer ran on by mistake")
    submit(at, "Record adjustment")
    assert rows(page_env)[0][1:4] == ("exclude", "e2", "acme") and rows(page_env)[0][8] == "ana@example.com"


def linked(at: AppTest) -> list:
    """The tables of the page that have a column of links to this page."""
    return [d.value for d in at.dataframe if "adjust" in d.value.columns]


def test_pages_link_beside_fees_blocks_and_entries(page_env):
    """Cancellation fees, Expiring hours, Overview, Statement and Data quality offer the link beside
    the fees, blocks and entries they list."""
    at = open_page()
    at.switch_page("pages/cancellations.py").run()
    [fees] = linked(at)
    links = dict(zip(fees["appointment"], fees["adjust"]))
    # C1 and A4 bill a fee; A5 was cancelled in time: no link.
    assert links == {"C1": "adjustments?kind=waive&target=C1", "A4": "adjustments?kind=waive&target=A4",
                     "A5": ""}
    at.switch_page("pages/expiring.py").run()
    [blocks] = linked(at)
    assert dict(zip(blocks["block"], blocks["adjust"])) == {
        "P2": "adjustments?kind=extend&target=P2", "P3": "adjustments?kind=extend&target=P3"}
    at.switch_page("pages/overview.py").run()
    [urgent] = linked(at)
    assert list(urgent["adjust"]) == [f"adjustments?kind=extend&target={b}" for b in urgent["block"]]
    assert set(urgent["block"]) == {"P2", "P3"}
    at.switch_page("pages/statement.py").run()          # acme, 2026-01-01 – 2026-04-30
    entries, fees = linked(at)
    assert dict(zip(entries["entry"], entries["adjust"])) == {
        e: f"adjustments?kind=exclude&target={e}" for e in ("e1", "e2", "e3", "e4", "e5")}
    assert dict(zip(fees["appointment"], fees["adjust"])) == {"C1": "adjustments?kind=waive&target=C1"}
    at.switch_page("pages/data_quality.py").run()
    [review] = linked(at)
    entry_links = {i: a for i, a, item in zip(review["id"], review["adjust"], review["item"]) if item == "entry"}
    assert entry_links == {"b3": "adjustments?kind=exclude&target=b3"}      # beta's 0.5 min entry
    assert not at.exception


def test_the_page_shows_people_words_hours_and_dates_on_the_demo(tmp_path, monkeypatch):
    """Issue 11's check for people (tests/test_pages_for_people.py) with adjustments of every
    kind on record: no fractional minutes, None/NaN, seconds, raw codes or column names."""
    from tests.builders import demo_database
    from tests.test_pages_for_people import FORBIDDEN, RAW, TODAY, shown_text

    db = demo_database(tmp_path, TODAY)
    with open_db(db, read_only=True) as con:
        purchase, customer = con.execute("SELECT purchase_id, customer_id FROM purchases LIMIT 1").fetchone()
        entry = con.execute("SELECT entry_id FROM time_entries LIMIT 1").fetchone()[0]
        fee = con.execute("SELECT appointment_id FROM appointments WHERE status = 'no_show' LIMIT 1").fetchone()[0]
    policy = Policy()
    for kind, target, kw in [("credit", customer, {"minutes": "12.345"}), ("charge", customer, {"minutes": "0.5"}),
                             ("extend", purchase, {"to_day": D("2027-12-31")}), ("exclude", entry, {}),
                             ("waive", fee, {})]:
        adj.record(db, kind, target, on=TODAY, by="ann", reason=f"{kind} for the check", policy=policy, **kw)
    adj.void(db, 1, on=TODAY, by="ann", reason="undo the credit", policy=policy)
    as_on_a_live_server(monkeypatch)
    monkeypatch.setenv("HOURBANK_DB", str(db))
    monkeypatch.delenv("HOURBANK_POLICY", raising=False)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.run()
    at.date_input(key="asof").set_value(TODAY)
    at.switch_page(PAGE)
    at.query_params["kind"] = "extend"
    at.query_params["target"] = purchase
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    texts = shown_text(at)
    assert "credit 12 min" in " ".join(texts) and "charge 1 min" in " ".join(texts)   # half up, whole minutes
    bad = sorted({m.group(0) + " in: " + t[:120] for t in texts for m in [FORBIDDEN.search(t) or RAW.search(t)] if m})
    assert not bad, bad


def test_a_reason_of_several_lines_is_kept_and_listed_on_one(db, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")   # the whole reason on its one line
    rec(db, "waive", "C1", reason="goodwill:\nfirst late cancellation,\r\n\"VIP\"")
    assert rows(db)[0][7] == "goodwill:\nfirst late cancellation,\r\n\"VIP\""        # kept as written
    [row] = list(csv.DictReader(io.StringIO(listed(capsys, db, "--format", "csv"))))
    assert row["reason"] == "goodwill:\nfirst late cancellation,\r\n\"VIP\""         # CSV quotes it
    table = listed(capsys, db).splitlines()
    assert len(table) == 4 and 'goodwill: first late cancellation, "VIP"' in table[2]
