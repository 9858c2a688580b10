"""Imports (FORMATS.md): every kind of bad row, re-imports, period imports, undo, kills."""
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from billing.errors import HourbankError
from billing.load import import_export, undo_import
from billing.policy import Policy
from billing.store import open_db
from tests.builders import Ledger, appointment, entry, purchase, write_csv, write_export

T = date(2026, 12, 31)
ROOT = Path(__file__).resolve().parent.parent

ENTRY_HEADER = "entry_id,customer_id,staff,started_at,minutes,tier,appointment_id,customer_requested,notes\n"


def rows(db, sql):
    with open_db(db, read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("line, column, reason", [
    ("x1,acme,Ann,2026-03-02,10,one_on_one,,,", "started_at", "not a timestamp"),           # a date alone
    ("x2,acme,Ann,2026-02-30T10:00,10,one_on_one,,,", "started_at", "not a timestamp"),     # no such day
    ("x3,acme,Ann,2026-03-02T24:00,10,one_on_one,,,", "started_at", "not a timestamp"),
    ("x4,acme,Ann,02/03/2026 10:00,10,one_on_one,,,", "started_at", "not a timestamp"),
    ("x5,acme,Ann,2026-03-02T10:00+5:00,10,one_on_one,,,", "started_at", "not a timestamp"),
    ("x6,acme,Ann,2026-03-02T10:00,1e1,one_on_one,,,", "minutes", "plain decimal"),
    ("x7,acme,Ann,2026-03-02T10:00,NaN,one_on_one,,,", "minutes", "plain decimal"),
    ('x8,acme,Ann,2026-03-02T10:00,"1,000",one_on_one,,,', "minutes", "plain decimal"),
    ('x9,acme,Ann,2026-03-02T10:00,"12,5",one_on_one,,,', "minutes", "plain decimal"),
    ("x10,acme,Ann,2026-03-02T10:00,0,one_on_one,,,", "minutes", "greater than 0"),
    ("x11,acme,Ann,2026-03-02T10:00,-5,one_on_one,,,", "minutes", "plain decimal"),
    ("x12,acme,Ann,2026-03-02T10:00,1440.000001,one_on_one,,,", "minutes", "at most 1440"),
    ("x13,acme,Ann,2026-03-02T10:00,0.0000001,one_on_one,,,", "minutes", "more than 6 decimals"),
    ("x14,acme,Ann,2026-03-02T10:00,10,One_On_One,,,", "tier", "tier must be"),
    ("x15,acme,Ann,2026-03-02T10:00,10,one_on_one,,maybe,", "customer_requested", "true/false"),
    ("x16,,Ann,2026-03-02T10:00,10,one_on_one,,,", "customer_id", "required"),
    ("x17,acme,,2026-03-02T10:00,10,one_on_one,,,", "staff", "required"),
    ("e1,acme,Ann,2026-03-02T10:00,10,one_on_one,,,", "entry_id", "duplicate"),
])
def test_every_bad_entry_row_is_rejected_with_line_column_reason_and_good_rows_load(tmp_path, line, column, reason):
    text = ENTRY_HEADER + "e1,acme,Ann,2026-03-02T09:00,10,one_on_one,,,\n" + line + "\ne2,acme,Bob, 2026-03-02 11:00 ,  12.5 ,one_on_one,,YES,\n"
    write_csv(tmp_path / "x" / "time_entries.csv", text)
    db = tmp_path / "db.duckdb"
    result = import_export(db, tmp_path / "x", policy=Policy())
    assert (result.added, result.rejected) == (2, 1)
    r = result.rejects[0]
    assert (r.file, r.line, r.column) == ("time_entries.csv", 3, column) and reason in r.reason, r
    assert rows(db, "SELECT file, line, \"column\" FROM rejects") == [("time_entries.csv", 3, column)]
    assert rows(db, "SELECT entry_id, minutes_us, customer_requested FROM time_entries ORDER BY 1") == [
        ("e1", 600_000_000, False), ("e2", 750_000_000, True)]


def test_wrong_field_counts_are_rejected_with_their_physical_line(tmp_path):
    text = (ENTRY_HEADER
            + 'e1,acme,Ann,2026-03-02T09:00,10,one_on_one,,,"a note\nover two lines"\n'
            + "e2,acme,Ann,2026-03-02T09:00,10\n"
            + "e3,acme,Ann,2026-03-02T09:00,10,one_on_one,,,,extra\n"
            + "e4,acme,Ann,2026-03-02T09:00,0,one_on_one,,,\n"
            + "e5,acme,Ann,2026-03-02T09:00,10,one_on_one,,,\n")
    write_csv(tmp_path / "x" / "time_entries.csv", text)
    result = import_export(tmp_path / "db.duckdb", tmp_path / "x", policy=Policy())
    assert result.added == 2
    got = sorted((r.line, r.column, r.reason.split(",")[0]) for r in result.rejects)
    assert got == [(4, None, "the record has fewer fields than the header"),
                   (5, None, "the record has more fields than the header"),
                   (6, "minutes", "minutes must be greater than 0")]


def test_appointment_and_purchase_rows(tmp_path):
    write_csv(tmp_path / "x" / "appointments.csv",
              "appointment_id,customer_id,scheduled_start,scheduled_minutes,status,cancelled_at,cancelled_by\n"
              "A1,acme,2026-03-02T10:00,60,cancelled,,customer\n"              # cancelled without cancelled_at
              "A2,acme,2026-03-02T10:00,60,cancelled,2026-03-01T10:00,boss\n"  # bad cancelled_by
              "A3,acme,2026-03-02T10:00,60,done,,\n"                            # bad status
              "A4,acme,2026-03-02T10:00,60,completed,garbage,robot\n"          # ignored when not cancelled
              "A5,acme,2026-03-02T10:00,60,cancelled,2026-03-01T10:00Z,\n")     # empty = customer
    write_csv(tmp_path / "x" / "purchases.csv",
              "\ufeffpurchase_id , customer_id,purchased_at,hours,amount\n"
              "P1,acme,2026-03-01,1.5,150\n"
              "P2,acme,2026-03-01,0.0101,\n"      # 0.606 minutes: not whole
              "P3,acme,2026-03-01,1,abc\n"        # non-numeric amount
              "P4,acme,2026-03-01T09:30:00+01:00,2,\n"
              "P5,acme,yesterday,2,\n")
    db = tmp_path / "db.duckdb"
    result = import_export(db, tmp_path / "x", policy=Policy())
    got = {(r.file, r.line, r.column) for r in result.rejects}
    assert got == {("appointments.csv", 2, "cancelled_at"), ("appointments.csv", 3, "cancelled_by"),
                   ("appointments.csv", 4, "status"), ("purchases.csv", 3, "hours"),
                   ("purchases.csv", 4, "amount"), ("purchases.csv", 6, "purchased_at")}
    assert rows(db, "SELECT appointment_id, cancelled_at, cancelled_by FROM appointments ORDER BY 1")[0] == ("A4", None, None)
    assert rows(db, "SELECT cancelled_by, cancelled_at_offset FROM appointments WHERE appointment_id='A5'") == [("customer", 0)]
    assert rows(db, "SELECT purchase_id, minutes_us, date_only, purchased_at_offset FROM purchases ORDER BY 1") == [
        ("P1", 90 * 60_000_000, True, None), ("P4", 120 * 60_000_000, False, 3600)]


@pytest.mark.parametrize("make, message", [
    (lambda d: write_csv(d / "time_entries.csv", "entry_id,customer_id,staff,started_at,minutes\n"), "'tier' missing"),
    (lambda d: write_csv(d / "time_entries.csv", ENTRY_HEADER.encode() + "e1,café".encode("latin-1") + b",Ann,2026-03-02T09:00,10,one_on_one,,,\n"),
     "not UTF-8"),
    (lambda d: ((d / "purchases.csv").unlink(), write_csv(d / "notes.txt", "hello")), "none of the export.s files"),
    (lambda d: write_csv(d / "time_entries.csv", ",".join(f"c{i}" for i in range(5000)) + "\n"), "at most 200"),
    (lambda d: write_csv(d / "time_entries.csv", ""), "empty"),
])
def test_an_unreadable_import_stops_with_one_sentence_and_loads_nothing(tmp_path, make, message):
    good = write_export(tmp_path / "x", purchases=[purchase("P1", "2026-03-01", 1)])
    make(good)
    db = tmp_path / "db.duckdb"
    with pytest.raises(HourbankError, match=message):
        import_export(db, good, policy=Policy())
    if db.exists():
        assert rows(db, "SELECT count(*) FROM purchases") == [(0,)]
        assert rows(db, "SELECT count(*) FROM imports") == [(0,)]


def test_reimporting_the_same_folder_changes_nothing(tmp_path):
    led = Ledger(tmp_path)
    tables = dict(entries=[entry("e1", "2026-03-02T09:00", 10), entry("e2", "2026-03-03T09:00", 10, notes="x")],
                  appointments=[appointment("A1", "2026-03-02T10:00")], purchases=[purchase("P1", "2026-03-01", 1)])
    first = led.load(**tables)
    before = led.report("summary", T)
    second = led.load(**tables)
    assert (first.added, second.added, second.replaced, second.removed, second.unchanged) == (4, 0, 0, 0, 4)
    assert led.report("summary", T).equals(before)
    assert rows(led.db, "SELECT count(*) FROM time_entries_history") == [(0,)]


def test_an_edited_row_is_replaced_and_its_previous_version_kept(tmp_path):
    led = Ledger(tmp_path)
    led.load(entries=[entry("e1", "2026-03-02T09:00", 10)])
    result = led.load(entries=[entry("e1", "2026-03-02T09:00", 40)])
    assert (result.replaced, result.added) == (1, 0)
    assert led.day(T, "2026-03-02")["adhoc_raw_minutes"] == "40.00"
    assert rows(led.db, "SELECT minutes_us, superseded_by, change FROM time_entries_history") == [
        (600_000_000, 2, "replaced")]


def test_period_import_removes_what_the_export_dropped_only_inside_the_period(tmp_path):
    led = Ledger(tmp_path)
    led.load(entries=[entry("e1", "2026-03-01T09:00", 10), entry("e2", "2026-03-02T09:00", 10),
                      entry("e3", "2026-03-03T09:00", 10), entry("e4", "2026-03-09T09:00", 10)],
             appointments=[appointment("A1", "2026-03-02T10:00"), appointment("A2", "2026-03-20T10:00")])
    result = led.load(period=(date(2026, 3, 2), date(2026, 3, 8)),
                      entries=[entry("e2", "2026-03-02T09:00", 10)], appointments=[])
    assert (result.removed, result.unchanged) == (2, 1)  # e3 and A1 go; e1, e4, A2 are outside
    assert sorted(r[0] for r in rows(led.db, "SELECT entry_id FROM time_entries")) == ["e1", "e2", "e4"]
    assert rows(led.db, "SELECT appointment_id FROM appointments") == [("A2",)]
    assert sorted(rows(led.db, "SELECT entry_id, change FROM time_entries_history")) == [("e3", "removed")]


def test_period_import_keeps_a_row_whose_new_version_was_rejected(tmp_path):
    led = Ledger(tmp_path)
    led.load(entries=[entry("e1", "2026-03-02T09:00", 10)])
    result = led.load(period=(date(2026, 3, 1), date(2026, 3, 31)), entries=[entry("e1", "2026-03-02T09:00", "ten")])
    assert (result.rejected, result.removed) == (1, 0)
    assert rows(led.db, "SELECT minutes_us FROM time_entries") == [(600_000_000,)]


def test_period_is_read_in_the_policy_zone(tmp_path):
    led = Ledger(tmp_path, Policy(timezone="America/New_York"))
    # 2026-03-02 01:00Z is 1 March in New York: outside a 2..8 March period.
    led.load(entries=[entry("e1", "2026-03-02T01:00:00Z", 10)])
    result = led.load(period=(date(2026, 3, 2), date(2026, 3, 8)), entries=[])
    assert result.removed == 0


def test_undo_restores_the_figures_exactly(tmp_path):
    led = Ledger(tmp_path)
    led.load(entries=[entry("e1", "2026-03-02T09:00", 10), entry("e2", "2026-03-03T09:00", 50)],
             purchases=[purchase("P1", "2026-03-01", 1)])
    reports = {n: led.report(n, T) for n in ("daily", "blocks", "summary")}
    r2 = led.load(period=(date(2026, 3, 1), date(2026, 3, 31)),
                  entries=[entry("e1", "2026-03-02T09:00", 35), entry("e9", "2026-03-04T09:00", 5)],
                  purchases=[purchase("P1", "2026-03-01", 2)])
    assert (r2.replaced, r2.removed, r2.added) == (2, 1, 1)
    assert not led.report("daily", T).equals(reports["daily"])
    with open_db(led.db, read_only=True) as con:
        v_before = con.execute("SELECT value FROM meta WHERE key='data_version'").fetchone()[0]
    undo_import(led.db, r2.import_id)
    for name, frame in reports.items():
        assert led.report(name, T).equals(frame), name
    with open_db(led.db, read_only=True) as con:
        assert int(con.execute("SELECT value FROM meta WHERE key='data_version'").fetchone()[0]) == int(v_before) + 1
        assert con.execute("SELECT undone_at IS NOT NULL FROM imports WHERE import_id = ?", [r2.import_id]).fetchone()[0]
    with pytest.raises(HourbankError, match="already undone"):
        undo_import(led.db, r2.import_id)


def test_undo_is_refused_when_a_later_import_changed_the_same_rows(tmp_path):
    led = Ledger(tmp_path)
    r1 = led.load(entries=[entry("e1", "2026-03-02T09:00", 10)])
    led.load(entries=[entry("e1", "2026-03-02T09:00", 20)])
    with pytest.raises(HourbankError, match="undo import 2 first"):
        undo_import(led.db, r1.import_id)
    assert led.day(T, "2026-03-02")["adhoc_raw_minutes"] == "20.00"


def test_dry_run_reports_the_changes_and_saves_nothing(tmp_path):
    led = Ledger(tmp_path)
    led.load(entries=[entry("e1", "2026-03-02T09:00", 10)])
    folder = write_export(tmp_path / "next", entries=[entry("e1", "2026-03-02T09:00", 20), entry("e2", "2026-03-02T09:00", 5)])
    preview = import_export(led.db, folder, policy=led.policy, dry_run=True)
    assert (preview.added, preview.replaced, preview.dry_run) == (1, 1, True)
    assert rows(led.db, "SELECT count(*) FROM imports") == [(1,)]
    assert led.day(T, "2026-03-02")["adhoc_raw_minutes"] == "10.00"


def test_extra_columns_are_kept_and_ignored(tmp_path):
    write_csv(tmp_path / "x" / "time_entries.csv",
              "project,entry_id,customer_id,staff,started_at,minutes,tier\nWeb,e1,acme,Ann,2026-03-02T09:00,10,one_on_one\n")
    db = tmp_path / "db.duckdb"
    import_export(db, tmp_path / "x", policy=Policy())
    assert rows(db, "SELECT extra FROM time_entries") == [('{"project":"Web"}',)]


@pytest.mark.parametrize("point", ["staged", "merged"])
def test_a_killed_import_changes_nothing_and_the_next_one_succeeds(tmp_path, point):
    led = Ledger(tmp_path)
    led.load(entries=[entry("e1", "2026-03-02T09:00", 10)])
    before = {n: led.report(n, T) for n in ("daily", "summary")}
    big = tmp_path / "big"
    big.mkdir()
    with (big / "time_entries.csv").open("w") as fh:
        fh.write(ENTRY_HEADER)
        fh.write("e1,acme,Ann,2026-03-02T09:00,50,one_on_one,,,\n")  # would replace e1
        for i in range(20_000):
            fh.write(f"b{i},c{i % 500},Ann,2026-03-{1 + i % 28:02d}T09:00,{1 + i % 50},one_on_one,,,\n")
    # "merged": every row is written inside the transaction, only COMMIT is missing.
    proc = subprocess.Popen([sys.executable, "-m", "billing", "import", str(big), "--db", str(led.db),
                             "--period", "2026-03-01..2026-03-31"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "HOURBANK_FAULT_PAUSE": point})
    assert proc.stderr.readline().strip() == f"paused at {point}".encode()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for name, frame in before.items():
        assert led.report(name, T).equals(frame), name
    assert rows(led.db, "SELECT count(*) FROM imports") == [(1,)]
    assert rows(led.db, "SELECT count(*) FROM time_entries_history") == [(0,)]
    result = led.load(entries=[entry("e2", "2026-03-02T10:00", 10)])
    assert result.added == 1


def test_the_database_is_busy_message_is_one_sentence(tmp_path):
    led = Ledger(tmp_path)
    led.load(entries=[entry("e1", "2026-03-02T09:00", 10)])
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ok', flush=True); time.sleep(30)", str(led.db)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"ok"
        out = subprocess.run([sys.executable, "-m", "billing", "report", "daily", "--db", str(led.db)], cwd=ROOT,
                             capture_output=True, text=True, env={**os.environ, "HOURBANK_LOCK_WAIT": "1"})
        assert out.returncode == 1
        assert "in use by another process" in out.stderr and "Traceback" not in out.stderr
    finally:
        holder.kill()


def test_identical_rows_get_their_own_lines(tmp_path):
    same_bad = "x1,acme,Ann,2026-03-02,10,one_on_one,,,"
    same_good = "g1,acme,Ann,2026-03-02T09:00,10,one_on_one,,,"
    write_csv(tmp_path / "x" / "time_entries.csv",
              ENTRY_HEADER + "\n".join([same_bad, same_good, same_bad, same_good]) + "\n")
    result = import_export(tmp_path / "db.duckdb", tmp_path / "x", policy=Policy())
    assert result.added == 1
    assert [(r.line, r.column) for r in result.rejects] == [(2, "started_at"), (4, "started_at"), (5, "entry_id")]
    assert "duplicate entry_id g1" in result.rejects[2].reason
