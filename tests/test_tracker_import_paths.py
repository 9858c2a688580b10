"""Every way in takes a tracker's spreadsheet or CSV as it was downloaded (issue 9): the
command line without --from, the Import page's upload, and the summary's notes."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, time, timedelta
from pathlib import Path

import pytest

from billing import importing
from billing.store import open_db

ROOT = Path(__file__).resolve().parent.parent
KIMAI_HEADER = ["Datum", "Von", "Bis", "Dauer", "Benutzer", "Kunde", "Projekt", "Tätigkeit", "Beschreibung",
                "Abrechenbar"]


def kimai_xlsx(path: Path) -> Path:
    """A German Kimai XLSX export: typed cells, and the totals row Kimai adds at the end."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(KIMAI_HEADER)
    sheet.append([date(2024, 3, 4), time(9, 0), time(9, 45), timedelta(minutes=45), "ann", "Acme", "Support",
                  "Setup", "Agent installiert", 1])
    sheet.append([date(2024, 3, 5), time(13, 0), time(14, 30), timedelta(minutes=80), "bob", "Globex", "Support",
                  "Research", "mit Pause", 1])
    sheet.append([date(2024, 3, 5), time(16, 0), time(16, 20), timedelta(minutes=20), "bob", "Globex", "Intern",
                  "Chat", "", None])
    sheet.append([None, None, None, timedelta(minutes=145), None, None, None, None, None, None])  # totals
    for row in range(2, 6):
        sheet.cell(row=row, column=4).number_format = "[h]:mm"
    book.save(path)
    return path


def cli(*args):
    out = subprocess.run([sys.executable, "-m", "billing", *map(str, args)], cwd=ROOT, capture_output=True,
                         text=True)
    assert "Traceback" not in out.stderr
    return out


def test_command_line_recognises_a_spreadsheet_without_from(tmp_path):
    path = kimai_xlsx(tmp_path / "kimai_export.xlsx")
    db = tmp_path / "h.duckdb"
    out = cli("import", path, "--db", db, "--yes")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 added" in out.stdout and "0 rejected" in out.stdout
    # Kimai's XLSX ends with a totals row: skipped and said, not a reject.
    assert "1 totals row at the end of the file (row 5) was skipped" in out.stdout
    with open_db(db, read_only=True) as con:
        rows = con.execute("SELECT staff, customer_id, minutes_us // 60000000, tier FROM time_entries "
                           "ORDER BY started_at").fetchall()
    # The Duration is what was worked: Bob's 13:00-14:30 with 1:20 is 80 min (a 10 min break);
    # Abrechenbar 1 is 1-on-1, empty is General Support (R2).
    assert rows == [("ann", "Acme", 45, "one_on_one"), ("bob", "Globex", 80, "one_on_one"),
                    ("bob", "Globex", 20, "general")]


def test_a_file_no_preset_recognises_says_so(tmp_path):
    path = tmp_path / "mystery.csv"
    path.write_text("Who,When,How long\nann,2024-03-04,1h\n", encoding="utf-8")
    out = cli("import", path, "--db", tmp_path / "h.duckdb")
    assert out.returncode == 1
    assert "mystery.csv: the header row matches none of the presets" in out.stderr


def test_the_import_page_stages_a_spreadsheet_as_a_tracker_export(tmp_path):
    path = kimai_xlsx(tmp_path / "export.xlsx")
    staged = importing.stage_uploads([("export.xlsx", path.read_bytes())], tmp_path / "staged")
    assert staged.tracker_file.name == "export.xlsx" and staged.tracker_preset == "kimai"
    with pytest.raises(importing.UploadError, match="notes.pdf: only CSV files, one .zip of them, or a tracker"):
        importing.stage_uploads([("notes.pdf", b"%PDF")], tmp_path / "other")


def test_the_summary_carries_the_converters_notes(tmp_path):
    path = tmp_path / "toggl.csv"
    path.write_text(
        "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags\n"
        "Ann Lee,a@x,,Website,,Fix,Yes,2024-03-04,09:00:00,2024-03-04,09:30:00,00:30:00,\n"
        "Ann Lee,a@x,Acme,Support,,Call,Yes,2024-03-05,10:00:00,2024-03-05,10:45:00,00:45:00,\n",
        encoding="utf-8")
    out = cli("import", path, "--from", "toggl", "--db", tmp_path / "h.duckdb")
    assert out.returncode == 0, out.stderr
    assert "note: 1 row has no Client: the Project is used as the customer" in out.stdout


def test_a_worklog_id_makes_an_edit_replace_its_earlier_version(tmp_path):
    """Jira's Worklog Id is the entry's id: a worklog edited in Jira (1h -> 1h 30m) is
    'replaced' on re-import, with its earlier version kept in the history."""
    from billing.policy import Policy
    from billing.trackers import import_tracker_file

    header = "Worklog Id,Issue Key,Summary,Author,Started,Time Spent,Comment\n"
    first = tmp_path / "worklogs.csv"
    first.write_text(header + "10001,SUP-12,Printer,Ann Lee,2024-03-04 09:00,1h,Fixed\n"
                     "10002,SUP-13,Mail,Bob Roe,2024-03-04 10:00,30m,Set up\n", encoding="utf-8")
    db = tmp_path / "h.duckdb"
    done = import_tracker_file(db, first, "jira", policy=Policy())
    assert done.result.added == 2
    first.write_text(header + "10001,SUP-12,Printer,Ann Lee,2024-03-04 09:00,1h 30m,Fixed\n"
                     "10002,SUP-13,Mail,Bob Roe,2024-03-04 10:00,30m,Set up\n", encoding="utf-8")
    again = import_tracker_file(db, first, "jira", policy=Policy())
    assert (again.result.added, again.result.replaced, again.result.removed, again.result.unchanged) == (0, 1, 0, 1)
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT entry_id, minutes_us // 60000000 FROM time_entries ORDER BY 1").fetchall() == [
            ("jira-id-10001", 90), ("jira-id-10002", 30)]
        assert con.execute("SELECT minutes_us // 60000000 FROM time_entries_history").fetchall() == [(60,)]


def test_a_redmine_export_in_its_default_latin_1_is_read(tmp_path):
    """Redmine writes CSV in its language's encoding (ISO-8859-1 for German) unless told
    otherwise: the preset reads it, and the summary says so."""
    from billing.trackers import convert, load_mapping

    path = tmp_path / "zeiten.csv"
    path.write_bytes("Projekt;Datum;Benutzer;Aktivität;Ticket;Kommentar;Stunden\n"
                     "Bäckerei Kraus;04.03.2024;Jürgen Müller;Support;#12;Kassenfehler;0,75\n".encode("latin-1"))
    conversion = convert(path, load_mapping("redmine"), None, tmp_path / "out")
    assert conversion.rejects == [] and conversion.customers == ["Bäckerei Kraus"]
    assert conversion.staff == ["Jürgen Müller"]
    assert any("read as cp1252" in n for n in conversion.notes)
    assert list(conversion.preview["minutes"]) == ["45"]


def test_the_same_file_stores_the_same_instants_from_the_command_line_and_the_page(tmp_path):
    """Without --timezone the file's times are the policy zone's (R1), as the Import page sends
    it: a re-import from the other way changes nothing."""
    from billing import importing
    from billing.policy import Policy

    path = tmp_path / "toggl.csv"
    path.write_text(
        "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags\n"
        "Ann Lee,a@x,Acme,Support,,Fix,Yes,2024-03-04,09:00:00,2024-03-04,09:30:00,00:30:00,\n", encoding="utf-8")
    db = tmp_path / "h.duckdb"
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('timezone = "America/New_York"\n', encoding="utf-8")
    out = cli("import", path, "--db", db, "--policy", policy_file)
    assert out.returncode == 0, out.stderr
    staged = importing.stage_uploads([("toggl.csv", path.read_bytes())], tmp_path / "staged")
    again = importing.run_import(db, staged, Policy(timezone="America/New_York"), dry_run=True,
                                 timezone_name="America/New_York")
    assert (again.added, again.replaced, again.unchanged) == (0, 0, 1)
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT started_at, started_at_offset FROM time_entries").fetchall()[0][1] == -5 * 3600


@pytest.mark.parametrize("header, decimal, yes", [
    # Clockify's own web-app translations (clockify/browser-extension tools/web-locales): de, fr.
    ("Projekt,Kunde,Beschreibung,Aufgabe,Benutzer,Gruppe,E-Mail,Tags,Abrechenbar,Startdatum,Startzeit,Enddatum,"
     "Endzeit,Dauer (h),Dauer (dezimal)", "1,25", "Ja"),
    ("Projet,Client,Description,Tâche,Utilisateur,Groupe,Email,Balises,Facturable,Date de début,Heure de début,"
     "Date de fin,Heure de fin,Durée (h),Durée (décimal)", "1.25", "Oui"),
])
def test_clockify_in_german_and_french(tmp_path, header, decimal, yes):
    from billing.trackers import convert, detect_preset, load_mapping

    path = tmp_path / "clockify.csv"
    path.write_text(header + "\n" + f'Web,Acme,Fix,,Eva,,e@x,,{yes},13.03.2024,09:00,13.03.2024,10:15,01:15:00,"{decimal}"\n',
                    encoding="utf-8")
    assert detect_preset(path) == "clockify"
    conversion = convert(path, load_mapping("clockify"), None, tmp_path / "out")
    assert conversion.rejects == []
    # 09:00-10:15 with 1:15 h is 75 minutes; Ja / Oui is a yes: 1-on-1 (R2).
    assert [(r.customer_id, r.staff, r.started_at, r.minutes, r.tier) for r in conversion.preview.itertuples()] == [
        ("Acme", "Eva", "2024-03-13T09:00:00", "75", "one_on_one")]
