"""Issue 9: tracker exports as the trackers really write them.

Each test builds a small export in the tracker's documented format (headers verbatim from
the presets' comments and the research notes, /work/research/headers.md) or reads a real
export (tests/fixtures/trackers/real, see SOURCES.md there), converts it with the preset,
and compares the canonical rows (FORMATS.md) with values worked out by hand in the comments.
"""
from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from billing.trackers import TrackerError, convert, detect_preset, load_mapping

REAL = Path(__file__).parent / "fixtures" / "trackers" / "real"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def conv(path: Path, preset, timezone: str | None = None, out: Path | None = None, **kw):
    """Convert with a preset name, mapping path or Mapping; (conversion, rows) where a row is
    (line, customer_id, staff, started_at, minutes, tier)."""
    mapping = preset if not isinstance(preset, (str, Path)) else load_mapping(preset)
    conversion = convert(path, mapping, timezone, out or path.parent / f"out-{path.stem}", **kw)
    with open(conversion.out_dir / "time_entries.csv", encoding="utf-8", newline="") as handle:
        rows = [(int(r["_source_line"]), r["customer_id"], r["staff"], r["started_at"], r["minutes"], r["tier"])
                for r in csv.DictReader(handle)]
    return conversion, rows


def rejects(conversion) -> list[tuple]:
    return [(line, column) for _, line, column, _, _ in conversion.rejects]


def reason(conversion, line: int) -> str:
    return next(r[3] for r in conversion.rejects if r[1] == line)


TOGGL = ("User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,"
         "Duration,Tags,Amount (USD)\n")


# --- 1. empty client: the project is the customer, per row; extends ------------------------

def test_toggl_empty_client_takes_the_project_per_row(tmp_path):
    path = write(tmp_path, "toggl.csv", TOGGL + (
        "Ann Lee,ann@example.com,,Website,,Fix,Yes,2024-03-04,09:00:00,2024-03-04,09:30:00,00:30:00,,\n"
        "Ann Lee,ann@example.com,Acme Inc,Website,,Fix,Yes,2024-03-04,10:00:00,2024-03-04,10:30:00,00:30:00,,\n"
        "Bob Roe,bob@example.com,,Helpdesk,,Chat,No,2024-03-04,11:00:00,2024-03-04,11:10:00,00:10:00,,\n"
        "Bob Roe,bob@example.com,,,,Nothing,No,2024-03-04,12:00:00,2024-03-04,12:10:00,00:10:00,,\n"))
    assert detect_preset(path) == "toggl"
    conversion, rows = conv(path, "toggl")
    # Per row: an empty Client falls back to that row's Project; a filled one is kept.
    assert rows == [
        (2, "Website", "Ann Lee", "2024-03-04T09:00:00", "30", "one_on_one"),
        (3, "Acme Inc", "Ann Lee", "2024-03-04T10:00:00", "30", "one_on_one"),
        (4, "Helpdesk", "Bob Roe", "2024-03-04T11:00:00", "10", "general"),
    ]
    # Neither Client nor Project: no customer to bill.
    assert rejects(conversion) == [(5, "Client")]
    assert "has no client (nor Project)" in reason(conversion, 5)
    assert any("2 rows have no Client: the Project is used as the customer" in n for n in conversion.notes)


def test_mapping_extends_a_preset_changing_one_key(tmp_path):
    mapping_file = write(tmp_path, "mine.toml",
                         'extends = "toggl"\n[columns]\nclient = ["Client", "Project", "Description"]\n')
    mapping = load_mapping(mapping_file)
    toggl = load_mapping("toggl")
    assert mapping.name == "toggl" and mapping.require == toggl.require and mapping.format == toggl.format
    assert mapping.columns == {**toggl.columns, "client": ["Client", "Project", "Description"]}
    path = write(tmp_path, "toggl.csv", TOGGL + (
        "Ann Lee,ann@example.com,,Website,,Fix,Yes,2024-03-04,09:00:00,2024-03-04,09:30:00,00:30:00,,\n"
        "Ann Lee,ann@example.com,,,,Solo work,Yes,2024-03-04,11:00:00,2024-03-04,11:45:00,00:45:00,,\n"))
    conversion, rows = conv(path, mapping_file)
    assert rows == [
        (2, "Website", "Ann Lee", "2024-03-04T09:00:00", "30", "one_on_one"),
        (3, "Solo work", "Ann Lee", "2024-03-04T11:00:00", "45", "one_on_one"),  # Description, the 3rd choice
    ]
    assert conversion.rejects == []


def test_bad_extends_is_an_error_naming_it(tmp_path):
    unknown = write(tmp_path, "unknown.toml", 'extends = "togl"\n')
    with pytest.raises(TrackerError, match=r"unknown.toml: 'extends' names 'togl'.*no such mapping file or preset"):
        load_mapping(unknown)
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(TrackerError, match=r"'extends' goes round in a circle \(b.toml -> a.toml -> b.toml\)"):
        load_mapping(tmp_path / "a.toml")
    itself = write(tmp_path, "self.toml", 'extends = "self.toml"\n')
    with pytest.raises(TrackerError, match=r"circle \(self.toml -> self.toml\)"):
        load_mapping(itself)


# --- 2. no Billable column; Billable No everywhere --------------------------------------------

KIMAI1 = "Date,From,To,Duration,Rate,User,Customer,Project,Activity,Description,Exported,Tags,Hourly rate,Fixed rate\n"


def test_kimai_1_without_billable_is_one_on_one_and_seconds(tmp_path):
    # Kimai's import documentation example: PhpSpreadsheet quotes every field.
    path = write(tmp_path, "kimai1.csv", (
        '"Date","From","To","Duration","Rate","User","Customer","Project","Activity","Description","Exported",'
        '"Tags","Hourly rate","Fixed rate"\n'
        '"2020-05-04","15:50","17:51","7260","231.92","ann","Acme Inc","Support","Setup","Install","No","","115",""\n'
        '"2020-05-05","09:00","09:45","2700","86.25","bob","Globex","Support","Chat","","No","","115",""\n'))
    assert detect_preset(path) == "kimai"
    conversion, rows = conv(path, "kimai")
    # 7260 s = 121 min (15:50-17:51); 2700 s = 45 min (09:00-09:45): seconds, not hours.
    assert rows == [
        (2, "Acme Inc", "ann", "2020-05-04T15:50:00", "121", "one_on_one"),
        (3, "Globex", "bob", "2020-05-05T09:00:00", "45", "one_on_one"),
    ]
    assert conversion.rejects == []
    assert any("no column that says whether work is billable" in n and "meaning.default_tier" in n
               for n in conversion.notes)
    assert any("read as seconds" in n for n in conversion.notes)


def test_kimai_2700_seconds_alone_without_an_end(tmp_path):
    # One row, no To: 2700 as hours (2,700 h) or minutes (45 h) is over a day; seconds: 45 min.
    path = write(tmp_path, "kimai1.csv", KIMAI1 + "2020-05-05,09:00,,2700,86.25,bob,Globex,Support,Chat,,No,,115,\n")
    conversion, rows = conv(path, "kimai")
    assert rows == [(2, "Globex", "bob", "2020-05-05T09:00:00", "45", "one_on_one")]


def test_default_tier_in_a_mapping_decides_without_billable(tmp_path):
    mapping_file = write(tmp_path, "k.toml", 'extends = "kimai"\n[meaning]\ndefault_tier = "general"\n')
    path = write(tmp_path, "kimai1.csv", KIMAI1 + "2020-05-05,09:00,09:45,2700,86.25,bob,Globex,Support,Chat,,No,,115,\n")
    conversion, rows = conv(path, mapping_file)
    assert rows == [(2, "Globex", "bob", "2020-05-05T09:00:00", "45", "general")]
    assert not any("no column that says whether work is billable" in n for n in conversion.notes)


KIMAI2_EN = ("Date,From,To,Duration,Currency,Price,Internal price,Hourly price,Fixed price,Name,User,E-mail,"
             "Staff number,Customer,Project,Activity,Description,Billable,Tags,Type,category,Account,"
             "Project number,VAT-ID,Order number\n")


def test_billable_no_on_every_row_is_all_general_with_a_note(tmp_path):
    path = write(tmp_path, "kimai.csv", TOGGL + (
        "Ann Lee,ann@example.com,Acme Inc,Web,,Fix,No,2024-03-04,09:00:00,2024-03-04,10:30:00,01:30:00,,\n"
        "Bob Roe,bob@example.com,Globex,Web,,Chat,No,2024-03-04,11:00:00,2024-03-04,11:15:00,00:15:00,,\n"))
    conversion, rows = conv(path, "toggl")
    assert rows == [
        (2, "Acme Inc", "Ann Lee", "2024-03-04T09:00:00", "90", "general"),
        (3, "Globex", "Bob Roe", "2024-03-04T11:00:00", "15", "general"),
    ]
    assert any("nothing in this file is billable" in n for n in conversion.notes)
    # One Yes row: no such note.
    path.write_text(path.read_text().replace(",Chat,No,", ",Chat,Yes,"))
    conversion, rows = conv(path, "toggl", out=tmp_path / "again")
    assert [r[5] for r in rows] == ["general", "one_on_one"]
    assert not any("nothing in this file is billable" in n for n in conversion.notes)


# --- 3. translated headers ---------------------------------------------------------------------

# Kimai 2.x headers per language (translations/messages.<lang>.xlf, headers.md), in the
# default template's column order.
KIMAI2 = {
    "de": "Datum,Von,Bis,Dauer,Währung,Preis,Interner Preis,Preis pro Stunde,Festpreis,Name,Benutzer,E-Mail,"
          "Personalnummer,Kunde,Projekt,Tätigkeit,Beschreibung,Abrechenbar,Schlagworte,Typ,category,"
          "Kundennummer,Projektnummer,Umsatzsteuer-ID,Bestellnummer",
    "fr": "Date,De,À,Durée,Devise,Taux,Taux interne,Taux horaire,Taux fixe,Nom,Nom d'utilisateur,Courriel,"
          "Numéro d'équipe,Client,Projet,Activité,Description,Facturable,Mots-clés,Type,category,Compte,"
          "Numéro de projet,ID de TVA,Numéro de commande",
    "es": "Fecha,De,Para,Duración,Moneda,Tarifa,Tarifa interna,Tarifa por hora,Tarifa fija,Nombre,Usuario,"
          "Correo electrónico,Número de personal,Cliente,Proyecto,Actividad,Descripción,Facturable,Etiquetas,"
          "Tipo,category,Cuenta,Número del proyecto,CIF / NIF,Número de pedido",
    "pt": "Data,De,Para,Duração,Moeda,Taxa,Taxa interna,Taxa horária,Taxa fixa,Nome,Nome do utilizador,Email,"
          "Número da equipa,Cliente,Projeto,Atividade,Descrição,Faturável,Etiquetas,Tipo,category,Conta,"
          "Número do projeto,ID do IVA,Número do pedido",
    "pt_BR": "Data,De,Para,Duração,Moeda,Preço,Preço interno,Preço por hora,Preço fixo,Nome,Nome do usuário,"
             "E-mail,Número da equipe,Cliente,Projeto,Atividade,Descrição,Faturável,Tags,Tipo,category,Conta,"
             "Numeração do projeto,IVA-ID,Número do pedido",
    "nl": "Datum,Van,Tot,Duur,Valuta,Bedrag,Intern tarief,Uurtarief,Vast bedrag,Naam,Gebruikersnaam,E-mail,"
          "Personeelsnummer,Klant,Project,Activiteit,Beschrijving,Factureerbaar,Labels,Type,category,Rekening,"
          "Projectnummer,Btw-nummer,Dossiernummer",
    "it": "Data,Da,A,Durata,Valuta,Prezzo,Costo interno,Tariffa oraria,Prezzo fisso,Nome,Utente,E-mail,"
          "Numero personale,Cliente,Progetto,Attività,Descrizione,Fatturabile,Etichette,Tipo,category,Account,"
          "Numero progetto,P.IVA,Numero d'ordine",
}


@pytest.mark.parametrize("lang", sorted(KIMAI2))
def test_kimai_2_in_each_language(lang, tmp_path):
    # Kimai >= 2.40: h:mm durations, Billable 1 or empty; username (not display name) is staff.
    path = write(tmp_path, f"kimai_{lang}.csv", KIMAI2[lang] + "\n" + (
        "2024-03-04,09:00,10:30,1:30,EUR,150.00,0,100.00,,Ann Lee,ann,ann@example.com,,Acme Inc,Support,Setup,"
        "Install,1,,work,,,,,\n"
        "2024-03-04,22:45,00:15,1:30,EUR,0,0,0,,Bob Roe,bob,bob@example.com,,Globex,Support,Chat,Chat,,,work,,,,,\n"))
    assert detect_preset(path) == "kimai"
    conversion, rows = conv(path, "kimai", "Europe/Berlin")
    # 22:45 -> 00:15 runs past midnight; the Duration 1:30 is what was worked.
    assert rows == [
        (2, "Acme Inc", "ann", "2024-03-04T09:00:00+01:00", "90", "one_on_one"),
        (3, "Globex", "bob", "2024-03-04T22:45:00+01:00", "90", "general"),
    ]
    assert conversion.rejects == []


@pytest.mark.parametrize("header, yes, no", [
    # Kimai 1.x wrote Billable and Exported as the language's words (headers.md: Ja/Nee, Sì/No).
    ("Datum,Van,Tot,Duur,Bedrag,Gebruiker,Naam,Klant,Project,Activiteit,Beschrijving,Gefactureerd,Declarabel,Labels",
     "Ja", "Nee"),
    ("Data,Da,A,Durata,Prezzo,Utente,Nome,Cliente,Progetto,Attività,Descrizione,Esportate,Fatturabile,Etichette",
     "Sì", "No"),
    ("Datum,Von,Bis,Dauer,Lohn,Benutzer,Name,Kunde,Projekt,Tätigkeit,Beschreibung,Exportiert,Abrechenbar,Schlagworte",
     "Ja", "Nein"),
    ("Data,De,Para,Duração,Taxa,Utilizador,Nome,Cliente,Projeto,Atividade,Descrição,Exportado,Faturável,Etiquetas",
     "Sim", "Não"),
])
def test_kimai_1_yes_no_words_of_each_language(header, yes, no, tmp_path):
    path = write(tmp_path, "kimai1.csv", header + "\n" + (
        f"2020-05-04,15:50,17:51,7260,231.92,ann,Ann Lee,Acme Inc,Support,Setup,Install,{no},{yes},\n"
        f"2020-05-05,09:00,09:45,2700,86.25,bob,Bob Roe,Globex,Support,Chat,,{no},{no},\n"))
    assert detect_preset(path) == "kimai"
    conversion, rows = conv(path, "kimai")
    assert conversion.rejects == []
    assert rows == [
        (2, "Acme Inc", "ann", "2020-05-04T15:50:00", "121", "one_on_one"),
        (3, "Globex", "bob", "2020-05-05T09:00:00", "45", "general"),
    ]


CLOCKIFY_ES = ('"Proyecto","Cliente","Descripción","Tarea","Usuario","Grupo","Correo electrónico","Etiquetas",'
               '"Facturable","Facturado","ID de factura","Fecha de inicio","Hora de inicio","Fecha de finalización",'
               '"Hora de finalización","Duración (h)","Duración (decimal)","Tarifa facturable (USD)",'
               '"Importe facturable (USD)","Date of creation"\n')


def test_clockify_spanish(tmp_path):
    path = write(tmp_path, "clockify_es.csv", CLOCKIFY_ES + (
        '"Web","Acme Inc","Fix","","Ana Ortega","","a@example.com","","Sí","No","","13/10/2023","18:10:00",'
        '"13/10/2023","19:55:00","01:45:00","1.75","0","0","13/10/2023"\n'
        '"Web","","Chat","","Ana Ortega","","a@example.com","","No","No","","02/10/2023","18:06:00","02/10/2023",'
        '"18:36:00","00:30:00","0.50","0","0","02/10/2023"\n'))
    assert detect_preset(path) == "clockify"
    conversion, rows = conv(path, "clockify")
    # 13/10 decides day-first; an empty Cliente takes the Proyecto.
    assert rows == [
        (2, "Acme Inc", "Ana Ortega", "2023-10-13T18:10:00", "105", "one_on_one"),
        (3, "Web", "Ana Ortega", "2023-10-02T18:06:00", "30", "general"),
    ]
    assert conversion.rejects == []


@pytest.mark.parametrize("header", [
    # the brief's Brazilian variant
    "Projeto,Cliente,Descrição,Tarefa,Usuário,Grupo,Email,Etiquetas,Faturável,Data de início,Hora de início,"
    "Data de término,Hora de término,Duração (h),Duração (decimal),Taxa faturável (BRL),Valor faturável (BRL)",
    # the Portuguese (pt-PT) one seen in a real-data script (headers.md)
    "Projeto,Cliente,Descrição,Tarefa,Do utilizador,Grupo,Email,Etiquetas,Faturável,Data de início,Hora de início,"
    "Data final,Fim do tempo,Duração (h),Duração (decimal),Taxa Faturável (USD),Valor Faturável (USD)",
])
def test_clockify_portuguese(header, tmp_path):
    path = write(tmp_path, "clockify_pt.csv", header + "\n" + (
        "Web,Acme Inc,Fix,,Ana Souza,,a@example.com,,Sim,10/13/2023,06:10 PM,10/13/2023,07:55 PM,01:45:00,1.75,0,0\n"
        "Web,Globex,Chat,,Ana Souza,,a@example.com,,Não,10/02/2023,11:06 PM,10/03/2023,12:36 AM,01:30:00,1.50,0,0\n"))
    assert detect_preset(path) == "clockify"
    conversion, rows = conv(path, "clockify")
    # 10/13 decides month-first; 11:06 PM -> 12:36 AM next day is 1:30.
    assert rows == [
        (2, "Acme Inc", "Ana Souza", "2023-10-13T18:10:00", "105", "one_on_one"),
        (3, "Globex", "Ana Souza", "2023-10-02T23:06:00", "90", "general"),
    ]
    assert conversion.rejects == []


def test_redmine_czech(tmp_path):
    path = write(tmp_path, "redmine_cs.csv", (
        "Projekt,Datum,Uživatel,Aktivita,Úkol,Komentář,Hodiny\n"
        "Acme Inc,2024-03-04,Jan Novák,Vývoj,Úkol #12: Oprava,Oprava chyby,1.50\n"
        "Globex,2024-03-05,Jan Novák,Podpora,,,0.25\n"))
    assert detect_preset(path) == "redmine"
    conversion, rows = conv(path, "redmine")
    # cs: ',' and a decimal point, ISO dates; 1.50 h = 90 min, 0.25 h = 15 min.
    assert rows == [
        (2, "Acme Inc", "Jan Novák", "2024-03-04T00:00:00", "90", "one_on_one"),
        (3, "Globex", "Jan Novák", "2024-03-05T00:00:00", "15", "one_on_one"),
    ]
    assert conversion.rejects == []


def test_redmine_german_semicolon_decimal_comma_dotted_dates(tmp_path):
    path = write(tmp_path, "redmine_de.csv", (
        "\ufeffProjekt;Datum;Benutzer;Aktivität;Ticket;Kommentar;Stunden\n"
        'Acme Inc;04.03.2024;Eva Schmidt;Entwicklung;Fehler #7: Absturz;"Fix; getestet";2,00\n'
        "Globex;05.03.2024;Eva Schmidt;Support;;;0,25\n"))
    assert detect_preset(path) == "redmine"
    conversion, rows = conv(path, "redmine")
    # Dotted dates are day-first (de default %d.%m.%Y), even when no day is over 12.
    assert not conversion.needs_date_order
    assert rows == [
        (2, "Acme Inc", "Eva Schmidt", "2024-03-04T00:00:00", "120", "one_on_one"),
        (3, "Globex", "Eva Schmidt", "2024-03-05T00:00:00", "15", "one_on_one"),
    ]


# --- 4. decimal comma in a comma-separated file ---------------------------------------------------

def test_quoted_decimal_comma_in_a_comma_separated_file(tmp_path):
    path = write(tmp_path, "harvest.csv", (
        "Date,Client,Project,Project Code,Task,Notes,Hours,Billable?,Invoiced?,Approved?,First Name,Last Name,"
        "Roles,Employee?,Billable Rate,Billable Amount,Cost Rate,Cost Amount,Currency,External Reference URL\n"
        '2024-03-04,Acme Inc,Support,,Setup,Install,"0,25",Yes,No,No,Ann,Lee,,Yes,"100,0","25,0","0,0","0,0",'
        "Euro - EUR,\n"
        '2024-03-05,Acme Inc,Support,,Setup,Install,"1,5",Yes,No,No,Ann,Lee,,Yes,"100,0","150,0","0,0","0,0",'
        "Euro - EUR,\n"))
    assert detect_preset(path) == "harvest"
    conversion, rows = conv(path, "harvest")
    # 0,25 h = 15 min; 1,5 h = 90 min.
    assert rows == [
        (2, "Acme Inc", "Ann Lee", "2024-03-04T00:00:00", "15", "one_on_one"),
        (3, "Acme Inc", "Ann Lee", "2024-03-05T00:00:00", "90", "one_on_one"),
    ]


# --- 5. timestamps ----------------------------------------------------------------------------------

JIRA = "Issue Key,Summary,Author,Started,Time Spent,Comment\n"


def test_jira_timestamps(tmp_path):
    path = write(tmp_path, "jira.csv", JIRA + (
        "SUP-1,Crash,Ann Lee,2023-01-20T18:25:30.148+0100,1h 35m,Looked\n"
        "SUP-2,Crash,Ann Lee,2016-04-05T09:23:52Z,1h,Looked\n"
        "SUP-3,Crash,Ann Lee,20160405T162205Z,30m,Looked\n"
        'SUP-4,Crash,Ann Lee,"Jan 20, 2023, 6:25 PM",2h,Looked\n'
        "SUP-5,Crash,Ann Lee,20/Jan/23 6:25 PM,45m,Looked\n"
        "SUP-6,Crash,Ann Lee,4. März 2024 10:00,1h,Looked\n"
        "SUP-7,Crash,Ann Lee,7/27/22 10:00,5700,Looked\n"))
    assert detect_preset(path) == "jira"
    conversion, rows = conv(path, "jira", "Europe/Berlin")
    # A written offset is kept (R1); wall times without one get Berlin's (CET +01, CEST +02 on 27 July).
    # The header has no project column: the customer is the Issue Key's project key.
    assert rows == [
        (2, "SUP", "Ann Lee", "2023-01-20T18:25:30.148000+01:00", "95", "one_on_one"),
        (3, "SUP", "Ann Lee", "2016-04-05T09:23:52+00:00", "60", "one_on_one"),
        (4, "SUP", "Ann Lee", "2016-04-05T16:22:05+00:00", "30", "one_on_one"),
        (5, "SUP", "Ann Lee", "2023-01-20T18:25:00+01:00", "120", "one_on_one"),
        (6, "SUP", "Ann Lee", "2023-01-20T18:25:00+01:00", "45", "one_on_one"),
        (7, "SUP", "Ann Lee", "2024-03-04T10:00:00+01:00", "60", "one_on_one"),
        (8, "SUP", "Ann Lee", "2022-07-27T10:00:00+02:00", "95", "one_on_one"),  # 5700 s
    ]
    assert conversion.rejects == []


def test_jira_time_spent_in_seconds_column(tmp_path):
    path = write(tmp_path, "jira.csv", (
        "Issue Key,Summary,Project,Author,Started,Time Spent (seconds),Comment\n"
        "OPS-7,Backup,Operations,Bob Roe,2024-03-04T09:00:00+01:00,5700,Checked\n"))
    conversion, rows = conv(path, "jira", "UTC")
    # 5700 s = 95 min; a Project column is the customer when there is no Customer.
    assert rows == [(2, "Operations", "Bob Roe", "2024-03-04T09:00:00+01:00", "95", "one_on_one")]


def test_date_pattern_where_guessing_is_not_enough(tmp_path):
    text = KIMAI2_EN + (
        "04|03|2024,09:00,09:15,0:15,EUR,0,0,0,,Ann Lee,ann,a@example.com,,Acme Inc,Support,Setup,x,1,,,,,,,\n"
        "13|03|2024,09:00,09:30,0:30,EUR,0,0,0,,Ann Lee,ann,a@example.com,,Acme Inc,Support,Setup,x,1,,,,,,,\n")
    path = write(tmp_path, "kimai.csv", text)
    conversion, rows = conv(path, "kimai")
    # Without a pattern, every row is refused, and the hints say what to set.
    assert rows == [] and rejects(conversion) == [(2, "Date"), (3, "Date")]
    assert "'04|03|2024' is not a date" in reason(conversion, 2)
    assert any("--date-order" in h and "date_pattern" in h for h in conversion.hints)
    mapping = write(tmp_path, "pipes.toml", 'extends = "kimai"\n[format]\ndate_pattern = "%d|%m|%Y"\n')
    conversion, rows = conv(path, mapping, out=tmp_path / "with-pattern")
    assert rows == [
        (2, "Acme Inc", "ann", "2024-03-04T09:00:00", "15", "one_on_one"),
        (3, "Acme Inc", "ann", "2024-03-13T09:00:00", "30", "one_on_one"),
    ]
    assert conversion.rejects == [] and conversion.hints == []


def test_one_impossible_date_is_a_reject_not_a_crash(tmp_path):
    path = write(tmp_path, "kimai.csv", KIMAI2_EN + (
        "31/31/2024,09:00,09:15,0:15,EUR,0,0,0,,Ann Lee,ann,a@example.com,,Acme Inc,Support,Setup,x,1,,,,,,,\n"
        "13/03/2024,09:00,09:30,0:30,EUR,0,0,0,,Ann Lee,ann,a@example.com,,Acme Inc,Support,Setup,x,1,,,,,,,\n"))
    conversion, rows = conv(path, "kimai")
    assert rows == [(3, "Acme Inc", "ann", "2024-03-13T09:00:00", "30", "one_on_one")]
    assert rejects(conversion) == [(2, "Date")]
    assert "'31/31/2024' is not a calendar date" in reason(conversion, 2)


# --- 6. durations -----------------------------------------------------------------------------------

def test_durations_against_start_and_end(tmp_path):
    path = write(tmp_path, "toggl.csv", TOGGL + (
        # 12-hour times exported without AM/PM: the end reads before the start; the Duration wins.
        "Ann,a@example.com,Acme,Web,,a,Yes,2024-03-04,12:48:39,2024-03-04,01:05:43,0:17:04,,\n"
        # Autumn change in Berlin: 02:30 (first, +02:00) to 02:15 (second, +01:00) is 45 real minutes.
        "Ann,a@example.com,Acme,Web,,b,Yes,2024-10-27,02:30:00,2024-10-27,02:15:00,0:45:00,,\n"
        # Over 24 h is refused even though start and end are 1 h apart.
        "Ann,a@example.com,Acme,Web,,c,Yes,2024-03-06,09:00:00,2024-03-06,10:00:00,25:00:00,,\n"
        # 0.33 h with 12:00-12:20: the exact 20 min (0.33 h is 19.8, within its last digit).
        "Ann,a@example.com,Acme,Web,,d,Yes,2024-03-07,12:00:00,2024-03-07,12:20:00,0.33,,\n"
        # 1.5 h with 09:00-10:40: the 10 min gap is a break; 90 min as written.
        "Ann,a@example.com,Acme,Web,,e,Yes,2024-03-08,09:00:00,2024-03-08,10:40:00,1.5,,\n"))
    conversion, rows = conv(path, "toggl", "Europe/Berlin")
    assert rows == [
        (2, "Acme", "Ann", "2024-03-04T12:48:39+01:00", "17.066667", "one_on_one"),  # 17 + 4/60
        (3, "Acme", "Ann", "2024-10-27T02:30:00+02:00", "45", "one_on_one"),
        (5, "Acme", "Ann", "2024-03-07T12:00:00+01:00", "20", "one_on_one"),
        (6, "Acme", "Ann", "2024-03-08T09:00:00+01:00", "90", "one_on_one"),
    ]
    assert rejects(conversion) == [(4, "Duration")]
    assert "1500 minutes, more than a day (1440)" in reason(conversion, 4)


def test_end_before_start_without_a_duration_is_refused(tmp_path):
    # Solidtime without its duration columns: Start and End only.
    mapping = load_mapping("solidtime").copy()
    del mapping.columns["duration"]
    path = write(tmp_path, "solidtime.csv", (
        "Description,Task,Project,Client,User,Start,End,Billable,Tags\n"
        "Late,,Web,Acme,Ann Lee,2024-03-04 23:30:00,2024-03-04 00:15:00,Yes,\n"
        "Night,,Web,Acme,Ann Lee,2024-03-04 23:30:00,2024-03-05 00:15:00,Yes,\n"))
    conversion, rows = conv(path, mapping, "UTC")
    # The same written date: not moved to the next day; the next date written: 45 min.
    assert rows == [(3, "Acme", "Ann Lee", "2024-03-04T23:30:00+00:00", "45", "one_on_one")]
    assert rejects(conversion) == [(2, "End")]
    assert "on the same day" in reason(conversion, 2)
    assert any("end before they start" in h for h in conversion.hints)


def test_jira_time_spent_words_and_seconds(tmp_path):
    path = write(tmp_path, "jira.csv", JIRA + (
        "SUP-1,Crash,Ann Lee,2024-03-04T09:00:00+01:00,1h 35m,a\n"
        "SUP-1,Crash,Ann Lee,2024-03-04T11:00:00+01:00,5700,b\n"))
    conversion, rows = conv(path, "jira")
    assert [r[4] for r in rows] == ["95", "95"]


# --- 7. totals rows --------------------------------------------------------------------------------

def _kimai_xlsx(path: Path, staff_of_third: str | None = "bob") -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Export"
    sheet.append(KIMAI2_EN.strip().split(","))
    sheet.append([date(2024, 3, 4), time(9, 0), time(10, 30), timedelta(hours=1, minutes=30), "EUR", 150.0, 0,
                  100.0, None, "Ann Lee", "ann", "ann@example.com", None, "Acme Inc", "Support", "Setup",
                  "Install", 1, None])
    sheet.append([date(2024, 3, 4), time(11, 0), time(11, 15), timedelta(minutes=15), "EUR", 25.0, 0, 100.0,
                  None, staff_of_third and "Bob Roe", staff_of_third, "bob@example.com", None, "Globex", "Support",
                  "Chat", "Chat", None, None])
    sheet.append([datetime(2024, 3, 5), time(13, 0), time(13, 20), timedelta(minutes=20), "EUR", 33.33, 0,
                  100.0, None, "Bob Roe", "bob", "bob@example.com", None, "Globex", "Support", "Chat", "Chat",
                  1, None])
    for cell in sheet["D"][1:]:
        cell.number_format = "[h]:mm"
    # Row 5 stays empty; row 6 is Kimai's totals row: only Duration and the price cells
    # (2:05 = 90 + 15 + 20 min; 208.33 = 150 + 25 + 33.33).
    sheet.cell(row=6, column=4, value=timedelta(hours=2, minutes=5)).number_format = "[h]:mm"
    sheet.cell(row=6, column=6, value=208.33)
    sheet.cell(row=6, column=7, value=0)
    book.save(path)
    return path


def test_kimai_xlsx_totals_row_is_skipped_and_counted(tmp_path):
    path = _kimai_xlsx(tmp_path / "kimai.xlsx")
    assert detect_preset(path) == "kimai"
    conversion, rows = conv(path, "kimai", "Europe/Berlin")
    assert rows == [
        (2, "Acme Inc", "ann", "2024-03-04T09:00:00+01:00", "90", "one_on_one"),
        (3, "Globex", "bob", "2024-03-04T11:00:00+01:00", "15", "general"),
        (4, "Globex", "bob", "2024-03-05T13:00:00+01:00", "20", "one_on_one"),
    ]
    assert conversion.rejects == [] and conversion.skipped_totals == 1
    assert any("1 totals row at the end of the file (row 6) was skipped" in n for n in conversion.notes)


def test_a_row_without_staff_in_the_middle_is_still_rejected(tmp_path):
    path = _kimai_xlsx(tmp_path / "kimai.xlsx", staff_of_third=None)
    conversion, rows = conv(path, "kimai", "Europe/Berlin")
    # Row 3 has neither User nor Name: no one to bill the time of (R3); refused, not a total.
    assert [r[0] for r in rows] == [2, 4]
    assert rejects(conversion) == [(3, "User")] and conversion.skipped_totals == 1
    assert "has no staff member" in reason(conversion, 3)


TEMPO = ('"Issue Key","Issue summary","Hours","Work date","Username","Full name","Period","Account Key",'
         '"Account Name","Account Lead","Account Category","Account Customer","Activity Name","Component",'
         '"All Components","Version Name","Issue Type","Issue Status","Project Key","Project Name","Epic",'
         '"Epic Link","Work Description","Parent Key","Reporter","External Hours","Billed Hours",'
         '"Issue Original Estimate","Issue Remaining Estimate"\n')


def _tempo_row(key, hours, when, user, name, account_key, account, customer, activity, description):
    cells = [key, "Summary", hours, when, user, name, "", account_key, account, "", "", customer, activity, "", "",
             "", "Task", "Done", "SUP", "Support", "", "", description, "", "", "0", hours, "", ""]
    return ",".join(f'"{c}"' for c in cells) + "\n"


def test_tempo_preset_and_its_total_row(tmp_path):
    path = write(tmp_path, "tempo.csv", TEMPO
                 + _tempo_row("SUP-1", "1.5", "2024-03-04 09:00", "ann", "Ann Lee", "ACME", "Acme support",
                              "Acme Inc", "Development", "Fixed it")
                 + _tempo_row("SUP-2", "0.25", "2024-03-05 00:00", "bob", "Bob Roe", "", "", "", "", "")
                 + _tempo_row("SUP-3", "0.5", "2024-03-05 10:00", "bob", "Bob Roe", "GLX", "Globex", "", "", "Talk")
                 + '"Total","","2.25"' + ',""' * 26 + "\n")
    assert detect_preset(path) == "tempo"
    conversion, rows = conv(path, "tempo", "UTC")
    # Customer: Account Customer, else Account Name, else Project Name. 1.5 h, 0.25 h, 0.5 h.
    assert rows == [
        (2, "Acme Inc", "Ann Lee", "2024-03-04T09:00:00+00:00", "90", "one_on_one"),
        (3, "Support", "Bob Roe", "2024-03-05T00:00:00+00:00", "15", "one_on_one"),
        (4, "Globex", "Bob Roe", "2024-03-05T10:00:00+00:00", "30", "one_on_one"),
    ]
    assert conversion.rejects == [] and conversion.skipped_totals == 1
    assert any("totals row" in n and "line 5" in n for n in conversion.notes)


def test_jira_total_row(tmp_path):
    path = write(tmp_path, "jira.csv", JIRA + (
        "SUP-1,Crash,Ann Lee,2024-03-04T09:00:00+01:00,1h 35m,a\n"
        ",,,,,\n"
        "Total,,,,1h 35m,\n"))
    conversion, rows = conv(path, "jira")
    assert rows == [(2, "SUP", "Ann Lee", "2024-03-04T09:00:00+01:00", "95", "one_on_one")]
    assert conversion.rejects == [] and conversion.skipped_totals == 1


# --- 8. XLSX with typed cells = the CSV ---------------------------------------------------------------

def _xlsx(path: Path, header: list[str], rows: list[list], formats: dict[str, str] = {}) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for column, number_format in formats.items():
        for cell in sheet[column][1:]:
            cell.number_format = number_format
    book.save(path)
    return path


def _csv_rows_equal_xlsx(tmp_path, csv_text, xlsx_path, preset, timezone=None):
    csv_path = write(tmp_path, "same.csv", csv_text)
    csv_conversion, csv_rows = conv(csv_path, preset, timezone)
    xlsx_conversion, xlsx_rows = conv(xlsx_path, preset, timezone)
    assert detect_preset(xlsx_path) == preset
    return csv_rows, xlsx_rows, csv_conversion, xlsx_conversion


def test_toggl_xlsx_converts_like_its_csv(tmp_path):
    header = TOGGL.strip().split(",")
    xlsx = _xlsx(tmp_path / "toggl.xlsx", header, [
        ["Ann Lee", "ann@example.com", "Acme Inc", "Web", None, "Fix", "Yes", date(2024, 3, 4), time(9, 0),
         date(2024, 3, 4), time(9, 30, 15), timedelta(minutes=30, seconds=15), None, 12.5],
        ["Bob Roe", "bob@example.com", None, "Helpdesk", None, "Chat", "No", date(2024, 3, 4), time(23, 30),
         date(2024, 3, 5), time(0, 15), timedelta(minutes=45), None, None],
        ["Bob Roe", "bob@example.com", "Globex", "Web", None, "Bad", "Maybe", date(2024, 3, 6), time(8, 0),
         date(2024, 3, 6), time(9, 0), timedelta(hours=1), None, None],
    ], {"N": "0.00"})
    csv_text = TOGGL + (
        "Ann Lee,ann@example.com,Acme Inc,Web,,Fix,Yes,2024-03-04,09:00:00,2024-03-04,09:30:15,00:30:15,,12.50\n"
        "Bob Roe,bob@example.com,,Helpdesk,,Chat,No,2024-03-04,23:30:00,2024-03-05,00:15:00,00:45:00,,\n"
        "Bob Roe,bob@example.com,Globex,Web,,Bad,Maybe,2024-03-06,08:00:00,2024-03-06,09:00:00,01:00:00,,\n")
    csv_rows, xlsx_rows, c1, c2 = _csv_rows_equal_xlsx(tmp_path, csv_text, xlsx, "toggl", "Europe/Berlin")
    assert xlsx_rows == csv_rows == [
        (2, "Acme Inc", "Ann Lee", "2024-03-04T09:00:00+01:00", "30.25", "one_on_one"),
        (3, "Helpdesk", "Bob Roe", "2024-03-04T23:30:00+01:00", "45", "general"),
    ]
    # The reject names the sheet row (row 4), as the CSV names its line.
    assert rejects(c2) == rejects(c1) == [(4, "Billable")]
    assert c2.rejects[0][0] == "toggl.xlsx"


def test_clockify_xlsx_converts_like_its_csv(tmp_path):
    header = ["Project", "Client", "Description", "Task", "User", "Group", "Email", "Tags", "Billable",
              "Start Date", "Start Time", "End Date", "End Time", "Duration (h)", "Duration (decimal)",
              "Billable Rate (USD)", "Billable Amount (USD)"]
    xlsx = _xlsx(tmp_path / "clockify.xlsx", header, [
        ["Web", "Acme Inc", "Fix", "Setup", "Ann Lee", None, "ann@example.com", None, "Yes", date(2024, 3, 4),
         time(10, 23, 52), date(2024, 3, 4), time(11, 23, 53), timedelta(hours=1, seconds=1), 1.0, 100.0, 100.0],
        ["Web", None, "Chat", None, "Bob Roe", None, "bob@example.com", None, "No", date(2024, 3, 5),
         time(14, 0), date(2024, 3, 5), time(14, 20), timedelta(minutes=20), 0.33, 0.0, 0.0],
        [None, None, "No project", None, "Bob Roe", None, "bob@example.com", None, "No", date(2024, 3, 5),
         time(15, 0), date(2024, 3, 5), time(15, 20), timedelta(minutes=20), 0.33, 0.0, 0.0],
    ], {"N": "[h]:mm:ss"})
    csv_text = ",".join(header) + "\n" + (
        "Web,Acme Inc,Fix,Setup,Ann Lee,,ann@example.com,,Yes,2024-03-04,10:23:52,2024-03-04,11:23:53,01:00:01,1.00,"
        "100.00,100.00\n"
        "Web,,Chat,,Bob Roe,,bob@example.com,,No,2024-03-05,14:00:00,2024-03-05,14:20:00,00:20:00,0.33,0.00,0.00\n"
        ",,No project,,Bob Roe,,bob@example.com,,No,2024-03-05,15:00:00,2024-03-05,15:20:00,00:20:00,0.33,0.00,0.00\n")
    csv_rows, xlsx_rows, c1, c2 = _csv_rows_equal_xlsx(tmp_path, csv_text, xlsx, "clockify")
    assert xlsx_rows == csv_rows == [
        (2, "Acme Inc", "Ann Lee", "2024-03-04T10:23:52", "60.016667", "one_on_one"),  # 60 min 1 s
        (3, "Web", "Bob Roe", "2024-03-05T14:00:00", "20", "general"),
    ]
    assert rejects(c2) == rejects(c1) == [(4, "Client")]


def test_kimai_xlsx_converts_like_its_csv(tmp_path):
    xlsx = _kimai_xlsx(tmp_path / "kimai.xlsx")
    csv_text = KIMAI2_EN + (
        "2024-03-04,09:00,10:30,1:30,EUR,150.00,0,100.00,,Ann Lee,ann,ann@example.com,,Acme Inc,Support,Setup,"
        "Install,1,,,,,,,\n"
        "2024-03-04,11:00,11:15,0:15,EUR,25.00,0,100.00,,Bob Roe,bob,bob@example.com,,Globex,Support,Chat,Chat,,,"
        ",,,,,\n"
        "2024-03-05,13:00,13:20,0:20,EUR,33.33,0,100.00,,Bob Roe,bob,bob@example.com,,Globex,Support,Chat,Chat,1,,"
        ",,,,,\n")
    csv_rows, xlsx_rows, _, _ = _csv_rows_equal_xlsx(tmp_path, csv_text, xlsx, "kimai", "Europe/Berlin")
    assert xlsx_rows == csv_rows and len(csv_rows) == 3


# --- 10. real exports no one here wrote -------------------------------------------------------------

def _total_minutes(rows) -> Decimal:
    return sum((Decimal(r[4]) for r in rows), Decimal(0))


def test_real_clockify_spanish_export(tmp_path):
    path = REAL / "clockify_es_detailed.csv"
    assert detect_preset(path) == "clockify"
    conversion, rows = conv(path, "clockify", out=tmp_path / "out")
    # 60 data rows, all load. Sum of "Duración (h)" over the file: 287100 s = 4785 min;
    # Facturable = Sí on 4 rows (105 + 60 + 75 + 25 = 265 min), the rest General Support.
    assert conversion.rejects == [] and len(rows) == 60
    assert [r[0] for r in rows] == list(range(2, 62))
    assert _total_minutes(rows) == 4785
    assert _total_minutes([r for r in rows if r[5] == "one_on_one"]) == 265
    assert set(conversion.customers) == {"Banco Industrial", "BX", "La Tribu", "Tribal Worldwide"}
    assert conversion.date_order == "dmy"  # 29/09/2023 decides it
    assert {r[2] for r in rows} == {"Ana Ortega", "Lucia Campos"}


def test_real_redmine_german_export(tmp_path):
    path = REAL / "redmine_de_semicolon.csv"
    assert detect_preset(path) == "redmine"
    conversion, rows = conv(path, "redmine", out=tmp_path / "out")
    # 30 data rows; three are longer than a day (line 3: 28,05 h, line 8: 32,25 h, line 28: 44,00 h).
    # The other 27 add up to 115,20 h = 6912 min.
    assert [(line, column) for line, column in rejects(conversion)] == [(3, "Stunden"), (8, "Stunden"),
                                                                         (28, "Stunden")]
    assert "1683 minutes, more than a day" in reason(conversion, 3)
    assert "1935 minutes" in reason(conversion, 8) and "2640 minutes" in reason(conversion, 28)
    assert len(rows) == 27
    assert _total_minutes(rows) == 6912
    assert set(conversion.customers) == {"Cybrary (Jahresprojekt TouchTable HsHarz)"}
    assert rows[0] == (2, "Cybrary (Jahresprojekt TouchTable HsHarz)", "Paul Brandt", "2014-04-23T00:00:00",
                       "120", "one_on_one")


def test_real_solidtime_fixtures(tmp_path):
    toggl, rows = conv(REAL / "toggl_en_solidtime_fixture.csv", "toggl", out=tmp_path / "t")
    # Line 2 is 00:00:00 (nothing to bill); line 3: 10:23:00-11:23:01, 01:00:01 = 60 min 1 s.
    assert rows == [(3, "Big Company", "Peter Tester", "2024-03-04T10:23:00", "60.016667", "one_on_one")]
    assert rejects(toggl) == [(2, "Duration")]
    harvest, rows = conv(REAL / "harvest_en_solidtime_fixture.csv", "harvest", out=tmp_path / "h")
    # "20,0" h = 1200 min (not billable, no client: the project); "0,01" h = 0.6 min.
    assert rows == [(2, "Project without Client", "Peter Tester", "2024-03-04T00:00:00", "1200", "general"),
                    (3, "Big Company", "Peter Tester", "2024-03-04T00:00:00", "0.6", "one_on_one")]
    assert harvest.rejects == []
    clockify = convert(REAL / "clockify_en_solidtime_fixture.csv", load_mapping("clockify"), None, tmp_path / "c")
    assert clockify.needs_date_order and clockify.ambiguous_dates == ["03/04/2024", "03/04/2024"]
    clockify, rows = conv(REAL / "clockify_en_solidtime_fixture.csv", "clockify", out=tmp_path / "c",
                          date_order="mdy")
    assert rows == [(3, "Big Company", "Peter Tester", "2024-03-04T10:23:00", "60.016667", "one_on_one")]
    assert rejects(clockify) == [(2, "Duration (h)")]


# --- hints when nothing loads ------------------------------------------------------------------------

def test_hints_when_every_row_is_rejected(tmp_path):
    path = write(tmp_path, "toggl.csv", TOGGL + (
        "Ann,a@example.com,Acme,Web,,a,Yes,2024-03-04,9h00,2024-03-04,9h30,00:30:00,,\n"))
    conversion, rows = conv(path, "toggl")
    assert rows == [] and rejects(conversion) == [(2, "Start time")]
    assert any("format.clock" in h for h in conversion.hints)
    path = write(tmp_path, "nostaff.csv", TOGGL + (
        ",a@example.com,Acme,Web,,a,Yes,2024-03-04,09:00,2024-03-04,09:30,00:30:00,,\n"))
    conversion, rows = conv(path, "toggl")
    assert rows == [] and rejects(conversion) == [(2, "User")]
    assert any("staff" in h for h in conversion.hints)
