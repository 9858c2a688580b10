"""The command line, run as a user runs it: python -m billing …"""
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import appointment, entry, purchase, write_csv, write_export

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, ok=True):
    out = subprocess.run([sys.executable, "-m", "billing", *map(str, args)], cwd=ROOT, capture_output=True, text=True)
    if ok:
        assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return out


@pytest.fixture
def export(tmp_path):
    folder = write_export(
        tmp_path / "export",
        entries=[entry("e1", "2026-01-12T09:00", 5), entry("e2", "2026-01-12T14:00", 30, staff="Bob"),
                 entry("e3", "2026-01-13T10:00", 45, appointment_id="S1"), entry("e5", "2026-02-03T10:00", 10),
                 entry("bad", "2026-02-03", 10)],
        appointments=[appointment("S1", "2026-01-13T10:00"),
                      appointment("C1", "2026-01-14T15:00", 60, "cancelled", cancelled_at="2026-01-14T05:00")],
        purchases=[purchase("P1", "2026-01-10", 2), purchase("P2", "2026-02-01", 1)])
    return folder


def test_import_prints_counts_and_first_rejects_and_exits_0(tmp_path, export):
    out = cli("import", export, "--db", tmp_path / "db.duckdb")
    assert "import 1: 8 added, 0 replaced, 0 removed, 0 unchanged, 1 rejected" in out.stdout
    assert "time_entries.csv, line 6, column 'started_at': started_at is not a timestamp" in out.stdout
    again = cli("import", export, "--db", tmp_path / "db.duckdb")
    assert "0 added, 0 replaced, 0 removed, 8 unchanged, 1 rejected" in again.stdout


def test_report_csv_is_exactly_formats_md(tmp_path, export):
    db = tmp_path / "db.duckdb"
    cli("import", export, "--db", db)
    out = cli("report", "daily", "--db", db, "--as-of", "2026-04-30", "--policy", write_csv(
        tmp_path / "p.toml", 'timezone = "UTC"\n'), "--format", "csv")
    assert out.stdout.splitlines() == [
        "customer_id,day,adhoc_raw_minutes,adhoc_billed_minutes,session_minutes,fee_minutes,billable_minutes,"
        "covered_minutes,uncovered_minutes,charged_minutes,late_for",  # the last two: FORMATS.md "Over time"
        "acme,2026-01-12,35.00,60.00,0.00,0.00,60.00,60.00,0.00,0.00,",
        "acme,2026-01-13,0.00,0.00,45.00,0.00,45.00,45.00,0.00,0.00,",
        "acme,2026-01-14,0.00,0.00,0.00,30.00,30.00,15.00,15.00,0.00,",
        "acme,2026-02-03,10.00,30.00,0.00,0.00,30.00,30.00,0.00,0.00,"]
    blocks = list(csv.DictReader(io.StringIO(cli("report", "blocks", "--db", db, "--as-of", "2026-04-30",
                                                 "--format", "csv").stdout)))
    assert [(b["purchase_id"], b["status"], b["remaining_minutes"]) for b in blocks] == [
        ("P1", "used_up", "0.00"), ("P2", "active", "30.00")]
    summary = json.loads(cli("report", "summary", "--db", db, "--as-of", "2026-04-30", "--format", "json").stdout)
    assert summary[0]["uncovered_minutes"] == 15.0 and summary[0]["next_expiry"] == "2026-05-02"
    table = cli("report", "summary", "--db", db, "--as-of", "2026-04-30", "--customer", "acme").stdout
    assert "acme" in table and "2 h 45 min" in table and "165.00" not in table  # people read hours


def test_imports_and_undo(tmp_path, export):
    db = tmp_path / "db.duckdb"
    cli("import", export, "--db", db)
    write_export(tmp_path / "more", entries=[entry("e9", "2026-02-10T10:00", 20)])
    cli("import", tmp_path / "more", "--db", db)
    listing = cli("imports", "--db", db).stdout
    assert listing.splitlines()[0] == "times in America/New_York"     # billing.toml's zone
    assert listing.splitlines()[1].lstrip().startswith("2 ") and "1 added" in listing
    assert "undone" in cli("undo", "2", "--db", db).stdout
    assert "UNDONE" in cli("imports", "--db", db).stdout
    assert "2026-02-10" not in cli("report", "daily", "--db", db, "--as-of", "2026-04-30", "--format", "csv").stdout
    rejects = cli("rejects", "1", "--db", db).stdout
    assert "line 6" in rejects


@pytest.mark.parametrize("args, message", [
    (["import", "/nonexistent/folder", "--db", "{db}"], "no such folder"),
    (["report", "daily", "--db", "{tmp}/missing.duckdb"], "no such database"),
    (["report", "daily", "--db", "{db}", "--policy", "{tmp}/nope.toml"], "policy file not found"),
    (["undo", "99", "--db", "{db}"], "no such import"),
])
def test_errors_are_one_sentence_with_exit_1(tmp_path, export, args, message):
    db = tmp_path / "db.duckdb"
    cli("import", export, "--db", db)
    out = cli(*[a.format(db=db, tmp=tmp_path) for a in args], ok=False)
    assert out.returncode == 1 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_bad_policy_value_names_the_key(tmp_path, export):
    db = tmp_path / "db.duckdb"
    cli("import", export, "--db", db)
    bad = write_csv(tmp_path / "bad.toml", 'rounding_increment_minutes = "30"\n')
    out = cli("report", "daily", "--db", db, "--policy", bad, ok=False)
    assert "rounding_increment_minutes" in out.stderr
    unknown = write_csv(tmp_path / "unknown.toml", "rounding = 15\n")
    assert "unknown setting 'rounding'" in cli("report", "daily", "--db", db, "--policy", unknown, ok=False).stderr


def test_demo_writes_an_export_that_imports_without_rejects(tmp_path):
    cli("demo", "--out", tmp_path / "demo", "--today", "2026-11-26")
    out = cli("import", tmp_path / "demo", "--db", tmp_path / "demo.duckdb")
    assert ", 0 rejected" in out.stdout.splitlines()[0]
    summary = cli("report", "summary", "--db", tmp_path / "demo.duckdb", "--as-of", "2026-11-26", "--format", "csv")
    assert len(summary.stdout.splitlines()) > 30


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path, export):
    """`report daily | head -1`: the reader closes the pipe; the command ends quietly, exit 0."""
    db = tmp_path / "db.duckdb"
    cli("import", export, "--db", db)
    rows = [entry(f"x{i}", f"2026-03-{1 + i % 28:02d}T09:00", 10, customer=f"c{i:05d}") for i in range(3000)]
    cli("import", write_export(tmp_path / "more", entries=rows), "--db", db)
    proc = subprocess.Popen([sys.executable, "-m", "billing", "report", "daily", "--db", str(db), "--as-of",
                             "2026-04-30", "--format", "csv"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"customer_id,day,")
    proc.stdout.close()  # like `head -1`
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and err == ""


def test_the_whole_report_reaches_a_pipe(tmp_path, export):
    """The process ends without the interpreter's teardown: everything written is flushed first."""
    db = tmp_path / "db.duckdb"
    rows = [entry(f"x{i}", f"2026-03-{1 + i % 28:02d}T09:00", 10, customer=f"c{i:05d}") for i in range(3000)]
    cli("import", write_export(tmp_path / "more", entries=rows), "--db", db)
    out = cli("report", "daily", "--db", db, "--as-of", "2026-04-30", "--format", "csv").stdout
    lines = out.splitlines()
    assert len(lines) == 3001 and lines[-1].startswith("c02999,2026-03-")


def test_several_reports_from_one_computation_go_to_a_folder(tmp_path, export):
    db = tmp_path / "db.duckdb"
    cli("import", export, "--db", db)
    args = ("--db", db, "--as-of", "2026-04-30", "--format", "csv")
    out = cli("report", "daily", "blocks", "summary", *args, "--out", tmp_path / "reports")
    assert out.stdout.splitlines() == [f"{tmp_path / 'reports' / n}.csv: {k} rows"
                                       for n, k in (("daily", 4), ("blocks", 2), ("summary", 1))]
    for name in ("daily", "blocks", "summary"):
        assert (tmp_path / "reports" / f"{name}.csv").read_text() == cli("report", name, *args).stdout
    several = cli("report", "daily", "summary", "--db", db, ok=False)
    assert several.returncode == 1 and "need a folder to go to: add --out DIR" in several.stderr
    (tmp_path / "file").write_text("x")
    blocked = cli("report", "daily", "summary", *args, "--out", tmp_path / "file", ok=False)
    assert blocked.returncode == 1 and "cannot write the reports there" in blocked.stderr


def test_imports_shows_times_in_the_policys_zone(tmp_path, export):
    """The database records UTC; people read the policy's zone, named once."""
    import duckdb
    from datetime import timedelta

    db = tmp_path / "db.duckdb"
    cli("import", export, "--db", db)
    with duckdb.connect(str(db), read_only=True) as con:
        utc = con.execute("SELECT imported_at FROM imports").fetchone()[0]
    tokyo = write_csv(tmp_path / "tokyo.toml", 'timezone = "Asia/Tokyo"\n')   # UTC+9, no summer time
    lines = cli("imports", "--db", db, "--policy", tokyo).stdout.splitlines()
    assert lines[0] == "times in Asia/Tokyo"
    assert lines[1].split()[1:3] == (utc + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M").split()
    assert "UTC" not in lines[1]


@pytest.mark.parametrize("report, fmt", [("daily", "table"), ("blocks", "csv"), ("summary", "json"),
                                         ("review", "table")])
def test_an_unknown_customer_is_an_error_that_names_it(tmp_path, export, report, fmt):
    db = tmp_path / "db.duckdb"
    cli("import", export, "--db", db)
    out = cli("report", report, "--db", db, "--customer", "acne", "--format", fmt, ok=False)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith("error: --customer acne: no customer 'acne' in ") and out.stderr.count("\n") == 1
    assert "(no rows)" not in out.stdout


def test_a_customers_name_given_as_customer_points_at_its_id(tmp_path, export):
    db = tmp_path / "db.duckdb"
    cli("import", export, "--db", db)
    write_export(tmp_path / "names", customers=[{"customer_id": "acme", "customer_name": "Acme Ltd"}])
    cli("import", tmp_path / "names", "--db", db)
    out = cli("report", "blocks", "--db", db, "--customer", "acme ltd", ok=False)
    assert out.returncode == 1 and "Did you mean acme (Acme Ltd)?" in out.stderr


def test_the_table_names_each_customer_beside_its_id_and_the_csv_keeps_formats_md(tmp_path, export, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    db = tmp_path / "db.duckdb"
    cli("import", export, "--db", db)
    write_export(tmp_path / "names", customers=[{"customer_id": "acme", "customer_name": "Acme Ltd"}])
    cli("import", tmp_path / "names", "--db", db)
    for report in ("daily", "blocks", "summary"):
        table = cli("report", report, "--db", db, "--as-of", "2026-04-30").stdout.splitlines()
        head = table[0].split()
        assert head[head.index("customer") + 1] == "name", table[0]
        rows = table[2:next(i for i, line in enumerate(table) if line.startswith(("(", "Left out")))]
        assert rows and all("acme" in row and "Acme Ltd" in row for row in rows), table
        first = cli("report", report, "--db", db, "--as-of", "2026-04-30", "--format", "csv").stdout.splitlines()[0]
        assert "name" not in first   # FORMATS.md's columns, unchanged
    # A long name is cut with "…" so the table stays a table (80 wide: not a terminal).
    long = "Aktiengesellschaft für sehr lange Firmennamen und Söhne"
    write_export(tmp_path / "long", customers=[{"customer_id": "acme", "customer_name": long}])
    cli("import", tmp_path / "long", "--db", db)
    row = cli("report", "summary", "--db", db, "--as-of", "2026-04-30").stdout.splitlines()[2]
    assert row.startswith("acme      Aktiengesellschaft") and "…" in row and long not in row and len(row) <= 80


def test_close_reopen_and_closings(tmp_path, export):
    db = tmp_path / "db.duckdb"
    policy = write_csv(tmp_path / "p.toml", 'timezone = "UTC"\n')
    cli("import", export, "--db", db)
    out = cli("close", "--through", "2026-01-31", "--by", "Lead", "--reason", "January sent", "--db", db,
              "--policy", policy)
    assert "closed through 2026-01-31" in out.stdout
    refused = cli("close", "--through", "2026-01-15", "--by", "Lead", "--db", db, "--policy", policy, ok=False)
    assert refused.returncode == 1 and "already closed through 2026-01-31" in refused.stderr
    # A late entry for Jan 20 posts on Feb 1 (R12), labelled.
    write_export(tmp_path / "late", entries=[entry("late1", "2026-01-20T10:00", 10)])
    cli("import", tmp_path / "late", "--db", db)
    daily = cli("report", "daily", "--db", db, "--as-of", "2026-04-30", "--policy", policy, "--format", "csv").stdout
    assert "acme,2026-02-01,10.00,30.00,0.00,0.00,30.00,30.00,0.00,0.00,2026-01-20" in daily.splitlines()
    listing = cli("closings", "--db", db, "--policy", policy).stdout
    assert "closed through 2026-01-31 (in force), by Lead" in listing and "January sent" in listing
    assert json.loads(cli("closings", "--db", db, "--format", "json").stdout)[0]["in_force"] is True
    assert "reopened from 2026-01-01" in cli("reopen", "--from", "2026-01-01", "--by", "Lead", "--db", db,
                                             "--policy", policy).stdout
    daily = cli("report", "daily", "--db", db, "--as-of", "2026-04-30", "--policy", policy, "--format", "csv").stdout
    # Reopened: Jan 20 is a day of its own again; P1 was used up on Jan 14, so it is uncovered.
    assert "acme,2026-01-20,10.00,30.00,0.00,0.00,30.00,0.00,30.00,0.00," in daily.splitlines()


def test_rejects_of_an_import_that_does_not_exist_is_an_error(tmp_path, export):
    db = tmp_path / "db.duckdb"
    cli("import", export, "--db", db)
    out = cli("rejects", "7", "--db", db, ok=False)
    assert out.returncode == 1 and "there is no import 7" in out.stderr
