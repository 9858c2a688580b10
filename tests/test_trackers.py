"""Importing tracker exports (issue 4): each fixture maps to exactly the expected canonical
rows, one bad row per file is rejected with its line and reason, and a re-import of an
edited export replaces the edited entry and removes the deleted one."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from billing.trackers import (
    TrackerError, convert, detect_preset, import_tracker_file, load_mapping)
from billing.trackers.mapping import mapping_from_dict
from billing.trackers.values import (
    parse_bool, parse_date, parse_duration, parse_number, parse_time)
from billing.canonical import minutes_text
from billing.policy import US_PER_MINUTE, Policy

FIXTURES = Path(__file__).parent / "fixtures" / "trackers"
CUSTOMERS = {"Acme Inc": "acme", "Acme Inc.": "acme", "Globex": "globex"}


def run(name: str, tmp_path: Path, preset: str | None = None, timezone: str | None = None,
        customers: dict | None = None, date_order: str | None = None, **meaning):
    mapping = load_mapping(preset or detect_preset(FIXTURES / name)).copy()
    mapping.customers.update(CUSTOMERS if customers is None else customers)
    mapping.meaning.update(meaning)
    return convert(FIXTURES / name, mapping, timezone, tmp_path / "out", date_order=date_order)


def written(conversion, filename: str = "time_entries.csv") -> list[dict]:
    with open(conversion.out_dir / filename, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def canonical(rows: list[dict]) -> list[tuple]:
    """(line, customer_id, staff, started_at, minutes, tier, activity, session?, requested, notes)."""
    return [(int(r["_source_line"]), r["customer_id"], r["staff"], r["started_at"], r["minutes"],
             r["tier"], r["activity"], bool(r["appointment_id"]), r["customer_requested"], r["notes"])
            for r in rows]


# --- each tracker and header variant -----------------------------------------------

CASES = {
    # Toggl, classic header (User, End date/End time, Amount (USD)), minimal quoting, a
    # multi-line description, an entry past midnight, two identical rows, a 1-second entry.
    "toggl_end.csv": dict(
        preset="toggl", timezone="Europe/Berlin",
        rows=[
            (2, "acme", "Ann Lee", "2024-03-04T09:00:00+01:00", "5", "one_on_one", "setup", False, "false",
             "Install agent, part 1"),
            (3, "acme", "Bob Roe", "2024-03-04T23:30:00+01:00", "45", "one_on_one", "", True, "false",
             "Multi-line\nnote"),
            (5, "globex", "Bob Roe", "2024-03-05T10:00:00+01:00", "40", "general", "", False, "false", "Chat"),
            (6, "globex", "Bob Roe", "2024-03-05T10:00:00+01:00", "40", "general", "", False, "false", "Chat"),
            # "ACME  inc" is Acme Inc written another way: the customer map's key matches it.
            (7, "acme", "Ann Lee", "2024-03-06T14:00:00+01:00", "0.016667", "one_on_one", "status_call",
             False, "true", "Status call"),
        ],
        reject=(8, "Billable", "'Maybe' is neither a yes"),
        period=(date(2024, 3, 4), date(2024, 3, 6)), unmapped=[]),
    # Toggl, newer header: Member, Stop time (no stop date), reordered, Amount (EUR); BOM,
    # ';', full quoting, day-first dates decided by 13/03, 12-hour times, 47:06 min, a
    # night past midnight, and the night clocks went forward (2 wall hours, 1 real hour).
    "toggl_stop.csv": dict(
        preset="toggl", timezone="Europe/Berlin",
        rows=[
            (2, "Initech", "Cleo Park", "2024-03-13T09:00:00+01:00", "47.1", "one_on_one", "kickoff", False,
             "false", "Onboarding call"),
            (3, "Initech", "Cleo Park", "2024-04-03T23:30:00+02:00", "45", "one_on_one", "", False, "false",
             "Late fix"),
            (4, "Initech", "Dan Wu", "2024-04-04T13:00:00+02:00", "60", "general", "", False, "false", "Tickets"),
            (5, "Initech", "Dan Wu", "2024-03-31T01:30:00+01:00", "60", "one_on_one", "", False, "false",
             "Across the clock change"),
        ],
        reject=(6, "Start time", "'25:00 PM' is not a 12-hour time"),
        period=(date(2024, 3, 13), date(2024, 4, 5)), unmapped=["Initech"]),
    # Clockify with Task, MM/DD/YYYY decided by 03/15, 12-hour times with seconds, a client
    # with a comma, a session project, and America/New_York across its DST change.
    "clockify_task.csv": dict(
        preset="clockify", timezone="America/New_York", session_projects=["Sessions"],
        rows=[
            (2, "acme", "Ann Lee", "2024-03-15T09:00:00-04:00", "90", "one_on_one", "research", False,
             "false", "Research logs"),
            (3, "acme", "Ann Lee", "2024-03-04T14:00:00-05:00", "60", "one_on_one", "", True, "true",
             "Weekly session"),
            (4, "Globex, LLC", "Bob Roe", "2024-03-04T23:59:00-05:00", "30", "general", "", False, "false",
             "Chat"),
            # No client (someone tracking alone): the project is the customer (issue 9).
            (5, "Support", "Bob Roe", "2024-03-05T10:00:00-05:00", "60", "one_on_one", "", False, "false",
             "No client here"),
        ],
        reject=None,
        period=(date(2024, 3, 4), date(2024, 3, 15)), unmapped=["Globex, LLC", "Support"]),
    # Clockify with Activity instead of Task, no Group/Email/End columns: BOM, ';', decimal
    # comma in Duration (decimal), DD.MM.YYYY, 24-hour times without seconds, Ja/Nein.
    "clockify_activity.csv": dict(
        preset="clockify", timezone=None,
        rows=[
            (2, "acme", "Eva Schmidt", "2024-03-14T09:15:00", "75", "one_on_one", "monitoring", False,
             "false", "Monitoring setup"),
            (3, "acme", "Eva Schmidt", "2024-03-05T13:00:00", "30", "general", "testing", False, "false",
             "Testing"),
        ],
        reject=(4, "Duration (decimal)", "'1.5.' is not a duration"),
        period=(date(2024, 3, 5), date(2024, 3, 14)), unmapped=[]),
    # Harvest, full header: dates without a time (each its written business day, R1),
    # decimal hours, First Name + Last Name, a client written two ways, 30 h is too long.
    "harvest.csv": dict(
        preset="harvest", timezone="Europe/Berlin",
        rows=[
            (2, "acme", "Ann Lee", "2024-03-04T00:00:00", "15", "one_on_one", "project_management", False,
             "false", "Weekly plan"),
            (3, "acme", "Bob Roe", "2024-03-04T00:00:00", "90", "one_on_one", "status_call", False, "false",
             'Call with "ops"'),
            (4, "globex", "Ann Lee", "2024-03-05T00:00:00", "6", "general", "General", False, "false",
             "Quick answer"),
        ],
        reject=(5, "Hours", "more than a day (1440)"),
        # The file covers the day of its rejected row too (its date could be read).
        period=(date(2024, 3, 4), date(2024, 3, 6)), unmapped=[]),
    # Harvest, fewer and reordered columns, full quoting, Hours as h:mm, no last name.
    "harvest_minimal.csv": dict(
        preset="harvest", timezone=None,
        rows=[
            (2, "acme", "Ann Lee", "2024-03-07T00:00:00", "120", "one_on_one", "setup", False, "false",
             "Installed"),
            (3, "acme", "Ann", "2024-03-07T00:00:00", "30", "one_on_one", "setup", False, "false",
             "no last name"),
        ],
        reject=(4, "Hours", "'abc' is not a duration"),
        period=(date(2024, 3, 7), date(2024, 3, 8)), unmapped=[]),
    # Kimai: From/To times on one Date (To before From = next day), h:mm durations, a
    # session tag and a customer-requested tag, a running timer is rejected.
    "kimai.csv": dict(
        preset="kimai", timezone="Europe/Berlin",
        rows=[
            (2, "acme", "ann", "2024-03-04T22:30:00+01:00", "105", "one_on_one", "setup", False, "false",
             "Overnight migration"),
            (3, "acme", "ann", "2024-03-05T09:00:00+01:00", "13", "one_on_one", "research", True, "true",
             "Short one"),
            (4, "globex", "bob", "2024-03-05T10:00:00+01:00", "60", "general", "Chat", False, "false", "Chat"),
        ],
        reject=(5, "Duration", "no end time and no duration"),
        period=(date(2024, 3, 4), date(2024, 3, 5)), unmapped=[]),
    # Kimai without a Billable column: the tier comes from projects set in the mapping
    # (R2); a project that no rule names is 1-on-1 work, as the summary says (issue 9). The
    # durations are decimal hours with a comma; 0,33 h with 12:00-12:20 is the exact 20 min.
    "kimai_semicolon.csv": dict(
        preset="kimai", timezone=None, one_on_one_projects=["Support"], general_projects=["Internal"],
        rows=[
            (2, "acme", "eva", "2024-03-14T08:00:00", "90", "one_on_one", "testing", False, "false",
             "Regression"),
            (3, "acme", "eva", "2024-03-15T12:00:00", "20", "general", "Chat", False, "false", "Chat"),
            (4, "acme", "eva", "2024-03-15T13:00:00", "60", "one_on_one", "Misc", False, "false", "Unclear"),
        ],
        reject=None,
        period=(date(2024, 3, 14), date(2024, 3, 15)), unmapped=[]),
    # solidtime: date and time in one cell, an entry past midnight, two identical rows.
    "solidtime.csv": dict(
        preset="solidtime", timezone="UTC",
        rows=[
            (2, "acme", "Ann Lee", "2024-03-04T09:00:00+00:00", "60", "one_on_one", "kickoff", False, "false",
             "Kickoff meeting"),
            (3, "acme", "Bob Roe", "2024-03-04T23:00:00+00:00", "150", "one_on_one", "monitoring", False,
             "false", "Overnight watch"),
            (4, "acme", "Bob Roe", "2024-03-05T08:00:00+00:00", "30", "general", "", False, "false", "Identical"),
            (5, "acme", "Bob Roe", "2024-03-05T08:00:00+00:00", "30", "general", "", False, "false", "Identical"),
        ],
        reject=(6, "Start", "'2024-02-30' is not a calendar date"),
        period=(date(2024, 3, 4), date(2024, 3, 5)), unmapped=[]),
    # solidtime, reordered with only Duration (decimal), CRLF, full quoting, ISO 'T',
    # true/false, an End written as a time only; a general session entry gets no appointment.
    "solidtime_quoted.csv": dict(
        preset="solidtime", timezone=None,
        rows=[
            (2, "acme", "Ann Lee", "2024-03-10T22:00:00", "75", "one_on_one", "testing", False, "false",
             "CRLF and full quoting"),
            (4, "acme", "Ann Lee", "2024-03-11T11:00:00", "90", "general", "", False, "false", "End only a time"),
        ],
        reject=(3, None, "has 9 fields but the header has 10"),
        period=(date(2024, 3, 10), date(2024, 3, 11)), unmapped=[]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_maps_to_exactly_the_expected_rows(name, tmp_path):
    case = dict(CASES[name])
    expected, reject, period, unmapped = (case.pop(k) for k in ("rows", "reject", "period", "unmapped"))
    preset, timezone = case.pop("preset"), case.pop("timezone")
    assert detect_preset(FIXTURES / name) == preset
    conversion = run(name, tmp_path, preset, timezone, **case)
    assert not conversion.needs_date_order
    assert canonical(written(conversion)) == expected
    assert conversion.period == period
    assert conversion.unmapped_clients == unmapped
    if reject is None:
        assert conversion.rejects == []
    else:
        assert [(r[0], r[1], r[2]) for r in conversion.rejects] == [(name, reject[0], reject[1])]
        assert reject[2] in conversion.rejects[0][3]
        raw = conversion.rejects[0][4]
        assert raw and raw.splitlines()[0] == (FIXTURES / name).read_text(
            encoding="utf-8-sig").splitlines()[reject[0] - 1]
    assert list(conversion.preview["line"]) == [row[0] for row in expected]


def test_custom_mapping_file(tmp_path):
    """A tool of our own: joined name columns, day-first dates, minutes with a decimal
    comma and thousands mark, mm:ss 'min' and h:mm durations, French yes/no."""
    path = FIXTURES / "custom.csv"
    assert detect_preset(path) is None
    conversion = convert(path, load_mapping(FIXTURES / "custom_tool.toml"), None, tmp_path)
    assert canonical(written(conversion)) == [
        (2, "acme", "Ann Lee", "2024-03-04T09:00:00", "18.416667", "one_on_one", "research", False, "false",
         "Logs"),
        (3, "acme", "Ann Lee", "2024-03-05T00:00:00", "1.5", "one_on_one", "testing", False, "false",
         "Date only"),
        (4, "acme", "Ann Lee", "2024-03-05T10:00:00", "1234.5", "general", "testing", False, "false",
         "Thousands mark"),
        (5, "acme", "Ann Lee", "2024-03-06T11:00:00", "13", "one_on_one", "kickoff", False, "false",
         "Hours and minutes"),
    ]
    assert [r[1:3] for r in conversion.rejects] == [(6, "Abrechenbar")]
    assert "'peut-être' is neither a yes" in conversion.rejects[0][3]


# --- sessions (R4), ids, date order ------------------------------------------------

def test_session_entries_get_a_completed_appointment_per_customer_and_day(tmp_path):
    conversion = run("clockify_task.csv", tmp_path, timezone="America/New_York",
                     session_projects=["Sessions"])
    (appointment,) = written(conversion, "appointments.csv")
    entries = {int(r["_source_line"]): r for r in written(conversion)}
    assert appointment["appointment_id"] == entries[3]["appointment_id"]
    assert (appointment["customer_id"], appointment["status"], appointment["scheduled_start"],
            appointment["scheduled_minutes"], appointment["staff"]) == (
        "acme", "completed", "2024-03-04T14:00:00-05:00", "60", "Ann Lee")
    assert entries[2]["appointment_id"] == "" and entries[4]["appointment_id"] == ""


def test_no_session_entries_means_no_appointments_file(tmp_path):
    conversion = run("clockify_task.csv", tmp_path, timezone="America/New_York",
                     session_projects=["Sessions"])
    assert (conversion.out_dir / "appointments.csv").exists()
    again = run("harvest.csv", tmp_path)  # same out folder, nothing session-like
    assert again.appointments == 0 and not (again.out_dir / "appointments.csv").exists()


def test_ids_are_stable_distinct_for_identical_rows_and_follow_content(tmp_path):
    first = written(run("solidtime.csv", tmp_path / "a", timezone="UTC"))
    second = written(run("solidtime.csv", tmp_path / "b", timezone="UTC"))
    ids = [r["entry_id"] for r in first]
    assert ids == [r["entry_id"] for r in second]
    assert len(set(ids)) == len(ids) == 4  # rows 4 and 5 are identical yet distinct
    assert ids[3] == ids[2] + "-2"
    edited = tmp_path / "solidtime.csv"
    edited.write_text((FIXTURES / "solidtime.csv").read_text().replace("Kickoff meeting", "Kickoff call"))
    mapping = load_mapping("solidtime")
    mapping.customers.update(CUSTOMERS)
    changed = [r["entry_id"] for r in written(convert(edited, mapping, "UTC", tmp_path / "c"))]
    assert changed[0] != ids[0] and changed[1:] == ids[1:]


def test_ambiguous_dates_are_asked_and_then_read_as_told(tmp_path):
    conversion = run("clockify_ambiguous.csv", tmp_path)
    assert conversion.needs_date_order and conversion.period is None
    assert conversion.ambiguous_dates == ["03/04/2024", "03/04/2024", "04/03/2024"]
    assert not (conversion.out_dir / "time_entries.csv").exists()
    as_dmy = run("clockify_ambiguous.csv", tmp_path, date_order="dmy")
    assert [r["started_at"] for r in written(as_dmy)] == ["2024-04-03T09:00:00", "2024-03-04T09:00:00"]
    as_mdy = run("clockify_ambiguous.csv", tmp_path, date_order="mdy")
    assert [r["started_at"] for r in written(as_mdy)] == ["2024-03-04T09:00:00", "2024-04-03T09:00:00"]


def test_mixed_date_orders_stop_the_conversion(tmp_path):
    path = tmp_path / "mixed.csv"
    lines = (FIXTURES / "clockify_ambiguous.csv").read_text().splitlines()
    lines[1] = lines[1].replace("03/04/2024", "13/04/2024")
    lines[2] = lines[2].replace("04/03/2024", "04/13/2024")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TrackerError, match=r"mix day-first \(line 2: 13/04/2024\) and month-first \(line 3"):
        convert(path, load_mapping("clockify"), None, tmp_path / "out")


# --- whole-file errors ---------------------------------------------------------------

def test_missing_column_is_one_sentence_naming_file_and_field(tmp_path):
    path = tmp_path / "toggl.csv"
    path.write_text("User,Description,Start date,Start time,End time,Duration\n"
                    "Ann,x,2024-03-04,09:00,10:00,1:00:00\n")
    with pytest.raises(TrackerError) as err:
        convert(path, load_mapping("toggl"), None, tmp_path / "out")
    assert str(err.value) == ("toggl.csv: line 1: the header has no column for client ('Client' or 'Project') "
                              "(mapping 'toggl'); check the export or the mapping.")


def test_not_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((FIXTURES / "toggl_end.csv").read_bytes().replace(b"Ann Lee,ann", b"Ren\xe9,ann", 1))
    with pytest.raises(TrackerError, match=r"latin1.csv: line 2 is not UTF-8"):
        convert(path, load_mapping("toggl"), None, tmp_path / "out")


def test_bad_mapping_names_the_key():
    with pytest.raises(TrackerError, match="unknown column field 'staf'"):
        mapping_from_dict({"columns": {"staf": "User"}}, "m.toml")
    with pytest.raises(TrackerError, match="format.date_order must be one of"):
        mapping_from_dict({"format": {"date_order": "dd/mm"}}, "m.toml")
    with pytest.raises(TrackerError, match="meaning.billable_yes must be one_on_one or general"):
        mapping_from_dict({"meaning": {"billable_yes": "billable"}}, "m.toml")
    with pytest.raises(TrackerError, match="no such mapping file or preset"):
        load_mapping("toggle")


def test_bad_timezone(tmp_path):
    with pytest.raises(TrackerError, match="'Mars/Base' is not one that zoneinfo knows"):
        convert(FIXTURES / "kimai.csv", load_mapping("kimai"), "Mars/Base", tmp_path)


def test_edited_mapping_round_trips_through_toml(tmp_path):
    mapping = load_mapping(FIXTURES / "custom_tool.toml")
    mapping.customers["Acme, Inc"] = "acme"
    saved = tmp_path / "saved.toml"
    saved.write_text(mapping.to_toml(), encoding="utf-8")
    again = load_mapping(saved)
    assert (again.columns, again.format, again.yes, again.no, again.meaning, again.customers) == (
        mapping.columns, mapping.format, mapping.yes, mapping.no, mapping.meaning, mapping.customers)


# --- cells ------------------------------------------------------------------------

@pytest.mark.parametrize("text, minutes", [
    ("1:00:01", "60.016667"), ("0:13", "13"), ("18:25 min", "18.416667"), ("1.5", "90"),
    ("0.79 h", "47.4"), ("45 min", "45"), ("1h 30m", "90"), ("25:00:00", "1500"), ("0:00:01", "0.016667"),
])
def test_durations(text, minutes):
    assert minutes_text(parse_duration(text)) == minutes


def test_durations_with_decimal_comma_and_units():
    assert parse_duration("1,5", decimal=",") == 90 * US_PER_MINUTE
    assert parse_duration("1.234,5", unit="minutes", decimal=",", thousands=".") == 12345 * US_PER_MINUTE // 10
    assert parse_duration("90", unit="seconds") == 90 * 1_000_000
    for bad in ("1,5", "abc", "1:75", "", "1e1"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    with pytest.raises(ValueError):
        parse_duration("1.5", style="hms")


def test_numbers_dates_times_booleans():
    assert str(parse_number("1,234.5", ".", ",")) == "1234.5"
    assert str(parse_number("1 234,5", ",", " ")) == "1234.5"
    for bad in ("1,5", "12,34.5", "NaN", "1e3", "."):
        with pytest.raises(ValueError):
            parse_number(bad, ".", ",")
    assert parse_date("2024-03-04", None) == date(2024, 3, 4)
    assert parse_date("04.03.2024", "dmy") == date(2024, 3, 4)
    assert parse_date("03/04/2024", "mdy") == date(2024, 3, 4)
    with pytest.raises(ValueError, match="date order must be chosen"):
        parse_date("03/04/2024", None)
    assert parse_time("12:05 AM").hour == 0 and parse_time("12:05 p.m.").hour == 12
    assert parse_time("9:05").minute == 5 and parse_time("09:05:07").second == 7
    with pytest.raises(ValueError):
        parse_time("9:05 PM", "24h")
    with pytest.raises(ValueError):
        parse_time("21:05", "12h")
    assert parse_bool(" JA ", ["ja"], ["nein"]) is True and parse_bool("Nein", ["ja"], ["nein"]) is False


# --- end to end with the engine (period import) ----------------------------------------

def _rows(db, table="time_entries", cols="entry_id, customer_id, minutes_us, notes"):
    from billing.store import open_db
    with open_db(db, read_only=True) as con:
        return con.execute(f"SELECT {cols} FROM {table} ORDER BY 1").fetchall()


def test_reimporting_an_edited_export_replaces_the_edit_and_removes_the_deleted(tmp_path):
    db = tmp_path / "h.duckdb"
    policy = Policy(timezone="Europe/Berlin")
    first = import_tracker_file(db, FIXTURES / "toggl_end.csv", "toggl", timezone="Europe/Berlin",
                                customer_map=CUSTOMERS, policy=policy)
    assert first.result.added == 6  # 5 entries + the derived session appointment
    assert [(r.file, r.line, r.column) for r in first.rejects] == [("toggl_end.csv", 8, "Billable")]
    before = _rows(db)
    assert len(before) == 5

    # In the tracker: the 5-minute entry became 10 minutes, one identical Chat row was
    # deleted, and the session entry (the only one that day) was deleted.
    lines = (FIXTURES / "toggl_end.csv").read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace("09:05:00,00:05:00", "09:10:00,00:10:00")
    edited = tmp_path / "toggl_end.csv"
    edited.write_text("".join(lines[:2] + lines[4:5] + lines[6:]))

    preview = import_tracker_file(db, edited, "toggl", timezone="Europe/Berlin", customer_map=CUSTOMERS,
                                  policy=policy, dry_run=True)
    assert (preview.result.added, preview.result.removed) == (1, 3)
    assert _rows(db) == before  # a dry run changes nothing

    second = import_tracker_file(db, edited, "toggl", timezone="Europe/Berlin", customer_map=CUSTOMERS,
                                 policy=policy)
    after = _rows(db)
    assert sorted((c, m // US_PER_MINUTE, n) for _, c, m, n in after) == [
        ("acme", 0, "Status call"), ("acme", 10, "Install agent, part 1"), ("globex", 40, "Chat")]
    # The untouched rows keep their ids (content-derived); only the edit got a new one.
    kept = {i for i, *_ in before} & {i for i, *_ in after}
    assert len(kept) == 2 and second.result.added == 1 and second.result.removed == 3
    # the edited entry's old version and the two deleted ones are kept in the history
    removed = {i for i, change in _rows(db, "time_entries_history", "entry_id, change") if change == "removed"}
    assert removed == {i for i, *_ in before} - kept

    third = import_tracker_file(db, edited, "toggl", timezone="Europe/Berlin", customer_map=CUSTOMERS,
                                policy=policy)
    assert (third.result.added, third.result.removed, third.result.unchanged) == (0, 0, 3)


def test_auto_detection_and_unknown_header(tmp_path):
    db = tmp_path / "h.duckdb"
    outcome = import_tracker_file(db, FIXTURES / "kimai.csv", None, timezone="Europe/Berlin",
                                  customer_map=CUSTOMERS, policy=Policy())
    assert outcome.conversion.tracker == "kimai" and outcome.result.added == 4
    with pytest.raises(TrackerError, match="matches none of the presets"):
        import_tracker_file(db, FIXTURES / "custom.csv", "auto")
    with pytest.raises(TrackerError, match="could be day/month or month/day"):
        import_tracker_file(db, FIXTURES / "clockify_ambiguous.csv", "clockify", policy=Policy())


def test_missing_start_and_duration_columns_are_named(tmp_path):
    path = tmp_path / "kimai.csv"
    path.write_text("User,Customer,Project,Activity\nann,Acme Inc,Support,Setup\n")
    with pytest.raises(TrackerError) as err:
        convert(path, load_mapping("kimai"), None, tmp_path / "out")
    assert str(err.value) == (
        "kimai.csv: line 1: the header has no column for the start ('Date' or 'Datum' or 'Fecha' …); the "
        "duration or end ('Duration' or 'Dauer' or 'Durée' … or 'To' or 'Bis' or 'À' …) (mapping 'kimai'); "
        "check the export or the mapping.")


def test_entry_ids_are_the_sha256_of_the_rows_content_as_before(tmp_path):
    """Ids must not change between versions (a re-import would otherwise add every entry
    again): tracker name, staff, email, client, project, task, description, the written
    start, whether it had a time, the µs worked, the billable flag and the tags, joined by
    U+001F; the first 16 hex digits of their sha256."""
    import hashlib

    rows = written(run("toggl_end.csv", tmp_path, "toggl", "Europe/Berlin"))
    first = "\x1f".join(["toggl", "Ann Lee", "ann@example.com", "Acme Inc", "Support", "Setup",
                         "Install agent, part 1", "2024-03-04T09:00:00", "True", str(5 * 60_000_000), "True", ""])
    assert rows[0]["entry_id"] == "toggl-" + hashlib.sha256(first.encode()).hexdigest()[:16]
    status = "\x1f".join(["toggl", "Ann Lee", "ann@example.com", "ACME  inc", "Support", "", "Status call",
                          "2024-03-06T14:00:00", "True", "1000000", "True", "customer requested, status call"])
    assert rows[4]["entry_id"] == "toggl-" + hashlib.sha256(status.encode()).hexdigest()[:16]
    harvest = written(run("harvest.csv", tmp_path / "h", "harvest", "Europe/Berlin"))
    # A date without a time of day: midnight, "False", and no billable flag text when absent.
    assert harvest[0]["started_at"] == "2024-03-04T00:00:00"


def test_a_date_impossible_in_either_order_is_not_a_calendar_date():
    # 32.03.2024 is neither day/month nor month/day: asking for the order would not help.
    with pytest.raises(ValueError, match="'32.03.2024' is not a calendar date"):
        parse_date("32.03.2024", None)
    with pytest.raises(ValueError, match="could be day/month or month/day"):
        parse_date("03.04.2024", None)
