"""Imports that add up and never remove what the user did not ask to remove.

Covers the removal scope of tracker and canonical period imports (per-person and
per-client exports add up, a whole-team export still removes), the removals shown before
anything is saved, the period's days read in the export's own zone (R1), tracker clients
matched to known customers by name, a tracker file none of whose rows converts, and a
header that is not UTF-8. Every expected value is worked out by hand in the comments.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from billing.errors import HourbankError
from billing.load import import_export
from billing.policy import Policy
from billing.store import open_db
from tests.builders import entry, write_csv, write_export

ROOT = Path(__file__).resolve().parent.parent
GOOD_ROW = b"e1,acme,Ann,2026-03-02T09:00:00,10,one_on_one\n"


def rows(db, sql, params=None):
    with open_db(db, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


# --------------------------------------------------------------------------- 6: header bytes
@pytest.mark.parametrize("header", [
    b"entry_id,customer_id,staff,started_at,minutes,tier\xe9r\n",       # inside the last name
    b"entry_id,customer_id,staff,started_at,minutes,tier,not\xe9\n",   # the header's very last byte
    b"entry_id,customer_id,staff,started_at,minutes,tier,not\xe9\r\n",  # ... before CR LF
    b'"entry_id","customer_id","staff","started_at","minutes","tier","n\xe9"\n',  # quoted
])
def test_a_header_byte_that_is_not_utf8_refuses_the_file_naming_it_and_the_line(tmp_path, header):
    write_csv(tmp_path / "x" / "time_entries.csv", header + GOOD_ROW)
    db = tmp_path / "db.duckdb"
    with pytest.raises(HourbankError) as err:
        import_export(db, tmp_path / "x", policy=Policy())
    message = str(err.value)
    assert message.startswith("time_entries.csv: line 1 (the header) is not UTF-8 text") and "0xe9" in message
    assert "\n" not in message
    if db.exists():
        assert rows(db, "SELECT count(*) FROM time_entries") == [(0,)]


def test_a_character_cut_by_the_read_chunk_is_still_fine(tmp_path):
    """A quoted header is read from the whole first 1 MiB chunk; in a longer file that chunk
    may end inside a data row's 'é' (2 bytes). Here the chunk's last byte is the first byte
    of an 'é': the file loads, both rows."""
    head = b'"entry_id","customer_id","staff","started_at","minutes","tier","notes"\n'
    first = b"e1,acme,Ann,2026-03-02T09:00:00,10,one_on_one,"
    second = b"\ne2,acme,Ann,2026-03-02T10:00:00,10,one_on_one,caf\xc3\xa9\n"
    pad = (1 << 20) - len(head) - len(first) - len(b"\ne2,acme,Ann,2026-03-02T10:00:00,10,one_on_one,caf") - 1
    text = head + first + b"x" * pad + second
    assert text[(1 << 20) - 1:(1 << 20) + 1] == "é".encode()   # cut by the chunk
    write_csv(tmp_path / "x" / "time_entries.csv", text)
    db = tmp_path / "db.duckdb"
    result = import_export(db, tmp_path / "x", policy=Policy())
    assert (result.added, result.rejected) == (2, 0)
    assert rows(db, "SELECT notes FROM time_entries WHERE entry_id = 'e2'") == [("café",)]


# --------------------------------------------------------------------------- tracker files
TOGGL_HEADER = "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags\n"
HARVEST_HEADER = "Date,Client,Project,Task,Notes,Hours,Billable?,First Name,Last Name\n"


def toggl(path: Path, *rows) -> Path:
    """rows: (user, client, description, 'YYYY-MM-DD HH:MM', minutes[, billable])."""
    from datetime import datetime, timedelta

    lines = [TOGGL_HEADER]
    for user, client, note, start, minutes, *billable in rows:
        a = datetime.fromisoformat(start)
        b = a + timedelta(minutes=minutes)
        lines.append(f"{user},{user.split()[0].lower()}@example.com,{client},Support,,{note},"
                     f"{billable[0] if billable else 'Yes'},{a:%Y-%m-%d},{a:%H:%M:%S},{b:%Y-%m-%d},{b:%H:%M:%S},"
                     f"{minutes // 60:02d}:{minutes % 60:02d}:00,\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def harvest(path: Path, *rows) -> Path:
    """rows: (first name, last name, client, notes, 'YYYY-MM-DD', hours text)."""
    lines = [HARVEST_HEADER] + [f"{day},{client},Support,Setup,{note},{hours},Yes,{first},{last}\n"
                                for first, last, client, note, day, hours in rows]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def stored(db) -> list[tuple]:
    """(notes, staff, customer_id, minutes) of every stored tracker entry, sorted."""
    return sorted((n, s, c, m // 60_000_000) for n, s, c, m in rows(
        db, "SELECT notes, staff, customer_id, minutes_us FROM time_entries WHERE entry_id LIKE '%-%'"))


def imp(db, path, preset="toggl", **kw):
    from billing.trackers import import_tracker_file

    kw.setdefault("policy", Policy(timezone="UTC"))
    kw.setdefault("timezone", "UTC")
    return import_tracker_file(db, path, preset, **kw)


# --------------------------------------------------------------------------- 1: scope
def test_per_person_toggl_exports_of_the_same_days_add_up_and_each_removes_only_its_own(tmp_path):
    db = tmp_path / "h.duckdb"
    ann = imp(db, toggl(tmp_path / "ann.csv", ("Ann Lee", "Acme", "ann-mon", "2026-03-02 09:00", 30),
                        ("Ann Lee", "Globex", "ann-tue", "2026-03-03 10:00", 15)))
    bob = imp(db, toggl(tmp_path / "bob.csv", ("Bob Roe", "Acme", "bob-mon", "2026-03-02 11:00", 45),
                        ("Bob Roe", "Globex", "bob-tue", "2026-03-03 11:00", 20)))
    # Bob's file covers the same two days as Ann's and lacks her two entries: none removed.
    assert (ann.result.added, bob.result.added, bob.result.removed) == (2, 2, 0)
    assert bob.result.scope.kind == "staff" and bob.result.scope.staff == ("Bob Roe",)
    assert bob.result.scope.sentence() == (
        "this file has one staff member, Bob Roe: treated as Bob Roe's own export; only Bob Roe's entries "
        "can be removed; if it is the whole team's, use --scope team.")
    assert stored(db) == [("ann-mon", "Ann Lee", "Acme", 30), ("ann-tue", "Ann Lee", "Globex", 15),
                          ("bob-mon", "Bob Roe", "Acme", 45), ("bob-tue", "Bob Roe", "Globex", 20)]
    # Ann deletes her Tuesday entry, logs another one for Globex that day and exports again
    # (one staff member, two customers: her own export): only ann-tue goes, Bob's stay.
    again = imp(db, toggl(tmp_path / "ann2.csv", ("Ann Lee", "Acme", "ann-mon", "2026-03-02 09:00", 30),
                          ("Ann Lee", "Globex", "ann-tue-new", "2026-03-03 16:00", 5)))
    assert (again.result.added, again.result.removed, again.result.unchanged) == (1, 1, 1)
    (gone,) = again.result.removals
    assert (gone.table, gone.day.isoformat(), gone.staff, gone.customer_id, gone.minutes) == (
        "time_entries", "2026-03-03", "Ann Lee", "Globex", "15")
    assert gone.id.startswith("toggl-")
    assert [n for n, *_ in stored(db)] == ["ann-mon", "ann-tue-new", "bob-mon", "bob-tue"]
    # The scope is in the import log.
    (notes,) = rows(db, "SELECT notes FROM imports WHERE import_id = ?", [again.result.import_id])[0]
    import json
    assert json.loads(notes)["scope"] == {"asked": "auto", "used": "staff", "add_only": False,
                                          "staff": ["Ann Lee"], "customers": None}


def test_a_whole_team_export_still_removes_what_was_deleted_in_the_tracker(tmp_path):
    db = tmp_path / "h.duckdb"
    imp(db, toggl(tmp_path / "ann.csv", ("Ann Lee", "Acme", "ann-mon", "2026-03-02 09:00", 30)))
    imp(db, toggl(tmp_path / "cleo.csv", ("Cleo Park", "Globex", "cleo-mon", "2026-03-02 12:00", 10)))
    # The team's export: two staff, two customers; Cleo's entry was deleted in the tracker.
    team = imp(db, toggl(tmp_path / "team.csv", ("Ann Lee", "Acme", "ann-mon", "2026-03-02 09:00", 30),
                         ("Bob Roe", "Globex", "bob-mon", "2026-03-02 11:00", 45)))
    assert team.result.scope.kind == "team" and team.result.removed == 1
    assert [(r.staff, r.customer_id, r.minutes) for r in team.result.removals] == [("Cleo Park", "Globex", "10")]
    assert team.result.scope.sentence().startswith("this file has 2 staff members and 2 customers: treated as "
                                                   "the whole team's export")
    # A one-person file forced to be the team's (--scope team) removes others' entries too.
    forced = imp(db, toggl(tmp_path / "t2.csv", ("Ann Lee", "Acme", "ann-mon", "2026-03-02 09:00", 30)),
                 scope="team", dry_run=True)
    assert [r.staff for r in forced.result.removals] == ["Bob Roe"]
    # add-only removes nothing, whatever the scope.
    assert imp(db, tmp_path / "t2.csv", scope="team", add_only=True, dry_run=True).result.removed == 0


def test_per_client_harvest_exports_add_up(tmp_path):
    db = tmp_path / "h.duckdb"
    # Two staff, one client each file: the customer scope. 0.5 h = 30 min, 0.25 h = 15 min.
    a = imp(db, harvest(tmp_path / "acme.csv", ("Ann", "Lee", "Acme", "a1", "2026-03-02", "0.5"),
                        ("Bob", "Roe", "Acme", "a2", "2026-03-03", "0.25")), preset="harvest")
    g = imp(db, harvest(tmp_path / "globex.csv", ("Ann", "Lee", "Globex", "g1", "2026-03-02", "1"),
                        ("Bob", "Roe", "Globex", "g2", "2026-03-03", "0.1")), preset="harvest")
    assert (g.result.scope.kind, g.result.scope.customers, g.result.removed) == ("customers", ("Globex",), 0)
    assert "this file has one customer, Globex" in g.result.scope.sentence()
    assert stored(db) == [("a1", "Ann Lee", "Acme", 30), ("a2", "Bob Roe", "Acme", 15),
                          ("g1", "Ann Lee", "Globex", 60), ("g2", "Bob Roe", "Globex", 6)]
    # Acme's file again, a2 deleted and a3 logged by Bob: a2 goes, Globex's stay.
    a2 = imp(db, harvest(tmp_path / "acme2.csv", ("Ann", "Lee", "Acme", "a1", "2026-03-02", "0.5"),
                         ("Bob", "Roe", "Acme", "a3", "2026-03-03", "0.25")), preset="harvest")
    assert [(r.staff, r.customer_id, r.minutes) for r in a2.result.removals] == [("Bob Roe", "Acme", "15")]
    assert [n for n, *_ in stored(db)] == ["a1", "a3", "g1", "g2"]
    # A per-person per-client file: both restrictions at once.
    one = imp(db, harvest(tmp_path / "one.csv", ("Ann", "Lee", "Globex", "g1", "2026-03-02", "1"),
                          ("Ann", "Lee", "Globex", "g9", "2026-03-03", "1")), preset="harvest", dry_run=True)
    assert one.result.scope.kind == "staff+customers" and one.result.removed == 0  # Bob's g2 is not Ann's
    assert "only Ann Lee's entries for Globex can be removed" in one.result.scope.sentence()


def test_a_canonical_period_import_is_whole_team_by_default_and_takes_the_same_options(tmp_path):
    db = tmp_path / "h.duckdb"
    import_export(db, write_export(tmp_path / "a", entries=[
        entry("e1", "2026-03-02T09:00", 10, staff="Ann"), entry("e2", "2026-03-02T10:00", 20, staff="Bob")]),
        policy=Policy())
    only_ann = write_export(tmp_path / "b", entries=[entry("e1", "2026-03-02T09:00", 10, staff="Ann")])
    period = (date(2026, 3, 1), date(2026, 3, 31))
    team = import_export(db, only_ann, period=period, policy=Policy(), dry_run=True)
    assert (team.scope.kind, [r.id for r in team.removals]) == ("team", ["e2"])
    auto = import_export(db, only_ann, period=period, policy=Policy(), dry_run=True, scope="auto")
    assert (auto.scope.kind, auto.removed) == ("staff+customers", 0)
    staff = import_export(db, only_ann, period=period, policy=Policy(), dry_run=True, scope="staff")
    assert (staff.scope.staff, staff.removed) == (("Ann",), 0)
    assert import_export(db, only_ann, period=period, policy=Policy(), add_only=True).removed == 0
    assert rows(db, "SELECT entry_id FROM time_entries ORDER BY 1") == [("e1",), ("e2",)]


# --------------------------------------------------------------------------- 2: the key
def test_an_import_told_what_its_preview_removed_refuses_when_that_changed(tmp_path):
    db = tmp_path / "h.duckdb"
    period = (date(2026, 3, 1), date(2026, 3, 31))
    import_export(db, write_export(tmp_path / "a", entries=[entry("e1", "2026-03-02T09:00", 10),
                                                            entry("e2", "2026-03-03T09:00", 10)]), policy=Policy())
    export = write_export(tmp_path / "b", entries=[entry("e1", "2026-03-02T09:00", 10)])
    preview = import_export(db, export, period=period, policy=Policy(), dry_run=True)
    assert [r.id for r in preview.removals] == ["e2"] and preview.removal_key
    # Meanwhile another import adds e3 in the period: the real import would remove e2 and e3.
    import_export(db, write_export(tmp_path / "c", entries=[entry("e3", "2026-03-04T09:00", 10)]), policy=Policy())
    with pytest.raises(HourbankError, match="the data changed since the preview: this import would now remove 2"):
        import_export(db, export, period=period, policy=Policy(), expect_removals=preview.removal_key)
    assert rows(db, "SELECT count(*) FROM time_entries") == [(3,)]
    again = import_export(db, export, period=period, policy=Policy(), dry_run=True)
    done = import_export(db, export, period=period, policy=Policy(), expect_removals=again.removal_key)
    assert sorted(r.id for r in done.removals) == ["e2", "e3"]


# --------------------------------------------------------------------------- 3: edges and zones
def test_a_utc_export_covers_utc_days_under_a_new_york_policy_on_both_edges(tmp_path):
    """Policy zone America/New_York (UTC-5 in early March 2026), a Toggl export in UTC.

    Stored first (whole team): A 2026-03-02 00:30Z (New York: 1 March 19:30), B 03-02 12:00Z,
    C 03-04 12:00Z, D 03-04 23:30Z (New York: 4 March 18:30), E 03-05 02:00Z (New York: 4 March
    21:00). The next export has B and C only: its days are 2..4 March *UTC*, i.e. the instants
    [03-02 00:00Z, 03-05 00:00Z). A and D were deleted in the tracker and go; E is after the
    file's last UTC day and stays (read as New York days, A would have stayed billed and E
    would have gone)."""
    db = tmp_path / "h.duckdb"
    ny = Policy(timezone="America/New_York")
    rows_ = [("Ann Lee", "Acme", "A", "2026-03-02 00:30", 10), ("Bob Roe", "Globex", "B", "2026-03-02 12:00", 10),
             ("Ann Lee", "Acme", "C", "2026-03-04 12:00", 10), ("Bob Roe", "Globex", "D", "2026-03-04 23:30", 10),
             ("Ann Lee", "Acme", "E", "2026-03-05 02:00", 10)]
    assert imp(db, toggl(tmp_path / "first.csv", *rows_), policy=ny).result.added == 5
    second = imp(db, toggl(tmp_path / "second.csv", rows_[1], rows_[2]), policy=ny)
    assert (second.result.period, second.result.period_zone) == ((date(2026, 3, 2), date(2026, 3, 4)), "UTC")
    assert second.result.scope.kind == "team"
    # Each removal is listed with its business day in the policy zone (R1): A is 1 March there.
    assert [(r.day.isoformat(), r.staff) for r in second.result.removals] == [
        ("2026-03-01", "Ann Lee"), ("2026-03-04", "Bob Roe")]
    assert [n for n, *_ in stored(db)] == ["B", "C", "E"]


def test_a_given_period_wins_over_the_files_span_and_is_said(tmp_path):
    db = tmp_path / "h.duckdb"
    imp(db, toggl(tmp_path / "a.csv", ("Ann Lee", "Acme", "sun", "2026-03-01 23:50", 10),
                  ("Bob Roe", "Globex", "mon", "2026-03-02 09:00", 10),
                  ("Ann Lee", "Globex", "tue", "2026-03-03 00:05", 10)))
    only_mon = toggl(tmp_path / "b.csv", ("Bob Roe", "Globex", "mon", "2026-03-02 09:00", 10),
                     ("Ann Lee", "Acme", "mon2", "2026-03-02 10:00", 10))
    # The file's own span is 2 March only: sun and tue, deleted on the edges, would stay.
    assert imp(db, only_mon, dry_run=True).result.removed == 0
    given = imp(db, only_mon, period=(date(2026, 3, 1), date(2026, 3, 3)))
    assert sorted(r.day.isoformat() for r in given.result.removals) == ["2026-03-01", "2026-03-03"]
    assert "the period 2026-03-01..2026-03-03 given is used, not the file's own first to last day " \
           "(2026-03-02..2026-03-02)." in given.result.notices
    assert given.result.period == (date(2026, 3, 1), date(2026, 3, 3))
    assert [n for n, *_ in stored(db)] == ["mon", "mon2"]


# --------------------------------------------------------------------------- 4: names
def test_tracker_clients_are_matched_to_known_customers_by_name(tmp_path):
    db = tmp_path / "h.duckdb"
    import_export(db, write_export(tmp_path / "c", customers=[
        {"customer_id": "acme", "customer_name": "Acme Inc"}, {"customer_id": "beta", "customer_name": "Beta LLC"},
        {"customer_id": "twin1", "customer_name": "Twin Co"}, {"customer_id": "twin2", "customer_name": "twin  co"}],
        entries=[entry("x1", "2026-01-05T09:00", 10, customer="glob", customer_name="Globex Corp")]), policy=Policy())
    path = toggl(tmp_path / "t.csv", ("Ann Lee", "ACME  inc", "1", "2026-03-02 09:00", 10),   # customers.csv name
                 ("Ann Lee", "globex corp", "2", "2026-03-02 10:00", 10),   # a stored entry's customer_name
                 ("Ann Lee", "beta", "3", "2026-03-02 11:00", 10),          # an existing id stays that id
                 ("Ann Lee", "Twin Co", "4", "2026-03-02 12:00", 10),       # two customers have that name
                 ("Ann Lee", "Newco", "5", "2026-03-02 13:00", 10))
    preview = imp(db, path, dry_run=True)
    assert preview.matched_customers == {"ACME inc": "acme", "globex corp": "glob"}
    assert preview.ambiguous_clients == {"Twin Co": ["twin1", "twin2"]}
    assert preview.result.new_customers == ["Newco", "Twin Co"]
    assert ("client 'Twin Co' was not matched by name: customers twin1 and twin2 all have that name; it "
            "becomes customer 'Twin Co' unless the customer map says which.") in preview.result.notices
    assert "client 'ACME inc' is customer acme (the same name)." in preview.result.notices
    # An explicit customer-map entry wins over the name.
    done = imp(db, path, customer_map={"Acme Inc": "acme-explicit", "Twin Co": "twin2"})
    assert done.result.new_customers == ["Newco", "acme-explicit"]
    assert sorted((n, c) for n, _, c, _ in stored(db)) == [
        ("1", "acme-explicit"), ("2", "glob"), ("3", "beta"), ("4", "twin2"), ("5", "Newco")]


# --------------------------------------------------------------------------- 5: no row converts
def test_a_tracker_file_none_of_whose_rows_converts_is_recorded_with_its_rejects_and_removes_nothing(tmp_path):
    db = tmp_path / "h.duckdb"
    imp(db, toggl(tmp_path / "a.csv", ("Ann Lee", "Acme", "kept", "2026-03-02 09:00", 10),
                  ("Bob Roe", "Globex", "kept2", "2026-03-03 09:00", 10)))
    bad = toggl(tmp_path / "bad.csv", ("Ann Lee", "Acme", "x", "2026-03-02 09:00", 10, "Maybe"),
                ("Bob Roe", "Acme", "y", "2026-03-03 09:00", 10, "Perhaps"))
    done = imp(db, bad, period=(date(2026, 3, 1), date(2026, 3, 31)), scope="team")
    assert done.nothing_read and (done.result.added, done.result.removed, done.result.rejected) == (0, 0, 2)
    assert done.result.scope is None   # nothing can be removed: no period applies
    assert [(r.file, r.line, r.column) for r in done.rejects] == [("bad.csv", 2, "Billable"), ("bad.csv", 3, "Billable")]
    assert rows(db, "SELECT file, line, \"column\" FROM rejects WHERE import_id = ? ORDER BY line",
                [done.result.import_id]) == [("bad.csv", 2, "Billable"), ("bad.csv", 3, "Billable")]
    assert rows(db, "SELECT added, rejected FROM imports WHERE import_id = ?", [done.result.import_id]) == [(0, 2)]
    assert [n for n, *_ in stored(db)] == ["kept", "kept2"]
    assert any("--date-order" in h for h in done.hints) and any("clockify" in h for h in done.hints)


# --------------------------------------------------------------------------- 2 + 5: the command line
def cli(*args, stdin=None):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "billing", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, stdin=stdin if stdin is not None else subprocess.DEVNULL)


def at_a_terminal(answer: str, *args):
    """Run the command with stdin a real terminal (a pty) on which ``answer`` is typed."""
    import os
    import subprocess
    import sys

    master, slave = os.openpty()
    try:
        os.write(master, answer.encode())
        out = subprocess.run([sys.executable, "-m", "billing", *map(str, args)], cwd=ROOT, capture_output=True,
                             text=True, stdin=slave, timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    return out


@pytest.fixture
def two_files(tmp_path):
    """A database with Ann's export (two entries) and the same export with her Tuesday one deleted.
    policy UTC, the files in UTC."""
    (tmp_path / "p.toml").write_text('timezone = "UTC"\n')
    db = tmp_path / "h.duckdb"
    first = toggl(tmp_path / "ann.csv", ("Ann Lee", "Acme", "mon", "2026-03-02 09:00", 30),
                  ("Ann Lee", "Globex", "tue", "2026-03-03 10:00", 15))
    second = toggl(tmp_path / "ann2.csv", ("Ann Lee", "Acme", "mon", "2026-03-02 09:00", 30),
                   ("Ann Lee", "Globex", "tue2", "2026-03-03 16:00", 5))
    out = cli("import", first, "--from", "toggl", "--timezone", "UTC", "--db", db, "--policy", tmp_path / "p.toml")
    assert out.returncode == 0, out.stderr
    return db, second, ["--from", "toggl", "--timezone", "UTC", "--db", db, "--policy", tmp_path / "p.toml"]


def _tue_id(db):
    return rows(db, "SELECT entry_id FROM time_entries WHERE notes = 'tue'")[0][0]


def test_cli_dry_run_lists_what_would_be_removed(two_files):
    db, second, opts = two_files
    tue = _tue_id(db)
    out = cli("import", second, *opts, "--dry-run")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == ("dry run, nothing saved: 1 added, 0 replaced, 1 removed, 1 unchanged, 0 rejected "
                        "(period 2026-03-02..2026-03-03, days of UTC)")
    assert "scope: this file has one staff member, Ann Lee: treated as Ann Lee's own export" in out.stdout
    at = lines.index("would be removed (1): id, day, staff, customer, time")
    assert lines[at + 1] == f"  {tue}  2026-03-03  Ann Lee  Globex  15 min"
    assert "undo:" not in out.stdout
    assert _tue_id(db) == tue   # nothing saved


def test_cli_at_a_terminal_asks_before_removing_and_no_saves_nothing(two_files):
    db, second, opts = two_files
    tue = _tue_id(db)
    no = at_a_terminal("n\n", "import", second, *opts)
    assert no.returncode == 1
    assert "this import would make: 1 added" in no.stdout and "dry run" not in no.stdout
    assert "Remove this 1 entry and import? [y/N]" in no.stdout and f"{tue}  2026-03-03  Ann Lee  Globex  15 min" in no.stdout
    assert no.stderr.startswith("nothing saved: the 1 entry was not removed and nothing was imported")
    assert rows(db, "SELECT count(*) FROM imports") == [(1,)] and _tue_id(db) == tue
    yes = at_a_terminal("y\n", "import", second, *opts)
    assert yes.returncode == 0, yes.stderr
    assert "import 2: 1 added, 0 replaced, 1 removed" in yes.stdout and "undo: python -m billing undo 2" in yes.stdout
    assert rows(db, "SELECT notes FROM time_entries ORDER BY notes") == [("mon",), ("tue2",)]


def test_cli_yes_and_no_terminal_import_without_asking_and_print_the_removals_with_undo(two_files, tmp_path):
    db, second, opts = two_files
    asked = at_a_terminal("", "import", second, *opts, "--yes")
    assert asked.returncode == 0, asked.stderr
    assert "[y/N]" not in asked.stdout and "removed (1): id, day, staff, customer, time" in asked.stdout
    assert cli("undo", "2", "--db", db).returncode == 0
    piped = cli("import", second, *opts)      # stdin is not a terminal: proceeds
    assert piped.returncode == 0 and "[y/N]" not in piped.stdout
    assert "removed (1): id, day, staff, customer, time" in piped.stdout
    assert "undo: python -m billing undo 3" in piped.stdout
    # Add only: nothing removed, nothing asked, even at a terminal.
    cli("undo", "3", "--db", db)
    added = at_a_terminal("", "import", second, *opts, "--add-only")
    assert added.returncode == 0 and "[y/N]" not in added.stdout
    assert "add only (--add-only): nothing is removed." in added.stdout
    assert rows(db, "SELECT notes FROM time_entries ORDER BY notes") == [("mon",), ("tue",), ("tue2",)]


def test_cli_scope_team_on_a_one_person_file_and_scope_without_period_on_a_folder(two_files, tmp_path):
    db, _, opts = two_files
    bob = toggl(tmp_path / "bob.csv", ("Bob Roe", "Acme", "bob", "2026-03-02 11:00", 45),
                ("Bob Roe", "Acme", "bob2", "2026-03-03 11:00", 45))
    out = cli("import", bob, *opts, "--scope", "team", "--dry-run")
    assert "would be removed (2)" in out.stdout and "scope: scope team: treated as the whole team's" in out.stdout
    folder = write_export(tmp_path / "x", entries=[entry("e1", "2026-03-02T09:00", 10)])
    refused = cli("import", folder, "--db", db, "--scope", "staff")
    assert refused.returncode == 1 and "--scope limits what a period import removes" in refused.stderr


def test_cli_a_tracker_file_with_no_good_row_says_why_records_it_and_exits_1(two_files, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")   # `rejects` fits the terminal: one reject a line here
    db, _, opts = two_files
    bad = toggl(tmp_path / "bad.csv", ("Ann Lee", "Acme", "x", "2026-03-02 09:00", 10, "Maybe"),
                ("Ann Lee", "Acme", "y", "2026-03-03 09:00", 10, "Perhaps"),
                ("Ann Lee", "Acme", "z", "2026-03-03 10:00", 10, "Perhaps"))
    out = cli("import", bad, *opts)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert "  bad.csv, line 2, column 'Billable': 'Maybe' is neither a yes (yes, y, true, 1…) nor a no value" in lines
    assert "  3 × column 'Billable': '…' is neither a yes (yes, y, true, 1…) nor a no value" in lines
    assert any(l.startswith("to change: ") and "--date-order" in l for l in lines)
    assert any(l.startswith("to change: ") and "--from" in l and "clockify" in l for l in lines)
    assert lines[-1] == "nothing imported: no row of bad.csv could be read; its rejects are recorded as import 2."
    listed = cli("rejects", "--db", db)
    assert listed.stdout.splitlines() == [
        "bad.csv, line 2, column 'Billable': 'Maybe' is neither a yes (yes, y, true, 1…) nor a no value",
        "bad.csv, line 3, column 'Billable': 'Perhaps' is neither a yes (yes, y, true, 1…) nor a no value",
        "bad.csv, line 4, column 'Billable': 'Perhaps' is neither a yes (yes, y, true, 1…) nor a no value"]
    assert rows(db, "SELECT notes FROM time_entries ORDER BY 1") == [("mon",), ("tue",)]


def test_a_rejected_row_keeps_the_stored_entry_it_may_be_the_new_version_of(tmp_path):
    """Nothing the user did not ask to remove is removed: Ann's 2024-03-04 entry was edited in
    the tracker and its new row is unreadable (Billable 'Maybe'); the old version stays, Bob's
    deleted entry goes, and the summary says why the first one was kept."""
    from billing.trackers import import_tracker_file
    from billing.policy import Policy
    from billing.store import open_db

    header = "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags\n"
    first = tmp_path / "week.csv"
    first.write_text(header
                     + "Ann Lee,a@x,Acme,Support,,Fix,Yes,2024-03-04,09:00:00,2024-03-04,09:30:00,00:30:00,\n"
                     + "Bob Roe,b@x,Acme,Support,,Call,Yes,2024-03-05,10:00:00,2024-03-05,10:45:00,00:45:00,\n",
                     encoding="utf-8")
    db = tmp_path / "h.duckdb"
    import_tracker_file(db, first, "toggl", policy=Policy())
    again = tmp_path / "week2.csv"
    again.write_text(header
                     + "Ann Lee,a@x,Acme,Support,,Fix,Maybe,2024-03-04,09:00:00,2024-03-04,09:40:00,00:40:00,\n"
                     + "Cy Doe,c@x,Acme,Support,,New,Yes,2024-03-05,11:00:00,2024-03-05,11:15:00,00:15:00,\n",
                     encoding="utf-8")
    done = import_tracker_file(db, again, "toggl", policy=Policy(), scope="team")
    with open_db(db, read_only=True) as con:
        left = sorted(con.execute("SELECT staff, minutes_us // 60000000 FROM time_entries").fetchall())
    assert left == [("Ann Lee", 30), ("Cy Doe", 15)]  # Bob's deleted 45 min are gone
    assert done.result.removed == 1
    assert any("1 stored entry is kept" in n for n in done.result.notices), done.result.notices
