"""Bad and hostile input: every reader either refuses with one sentence naming the file (the
database left exactly as it was) or completes with rejects; never a crash, never a partial
load. Zips cannot escape their folder or blow up; SQL text is data; downloads that open in
a spreadsheet show formula-like text as text, while the app shows it as written.

The named corpus is tests/hostile.py (reusable by a report script); the hypothesis tests
add random bytes, random encodings, truncations, NUL bytes and quote chaos. Example counts
are modest so the suite stays fast; HOURBANK_FUZZ_EXAMPLES raises them for a deeper run.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from billing import importing
from billing.pages import common, expiring, usage as usage_page
from billing.errors import HourbankError
from billing.exports import safe_cell, statement_csv, statement_xlsx
from billing.importing import run_import, stage_uploads
from billing.load import import_export
from billing.policy import Policy
from billing.reports import compute_books, report
from billing.safe import FORMULA_TRIGGERS, is_dangerous, safe_frame, safe_text
from billing.statement import build_statement, issued_statements
from billing.store import open_db
from tests import hostile
from tests.builders import entry, purchase, write_export

EXAMPLES = int(os.environ.get("HOURBANK_FUZZ_EXAMPLES", "6"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
CANONICAL = ["time_entries.csv", "appointments.csv", "purchases.csv", "customers.csv"]
ENTRIES = ["folder", "upload", "tracker"]
T = date(2026, 3, 31)


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory) -> Path:
    """A database with rows in every table, so an unchanged fingerprint means something."""
    base = tmp_path_factory.mktemp("seed")
    db = base / "seed.duckdb"
    import_export(db, write_export(base / "export", entries=[entry("e1", "2026-03-02T10:00", 10)],
                                   purchases=[purchase("p1", "2026-01-01", 10)],
                                   customers=[{"customer_id": "acme", "customer_name": "Acme"}]), policy=Policy())
    return db


@pytest.fixture
def db(seeded_db, tmp_path) -> Path:
    copy = tmp_path / "db.duckdb"
    shutil.copy(seeded_db, copy)
    return copy


def check_outcome(outcome: hostile.Outcome, case: hostile.Case) -> None:
    """What every reader owes any input: no crash; a refusal is one sentence naming the file
    and changes nothing; a completion accounts for every record it read."""
    assert outcome.kind != "crash", f"{case.name}: crashed with {outcome.message}"
    if outcome.kind == "error":
        assert outcome.message.strip(), f"{case.name}: an empty error message"
        assert "\n" not in outcome.message and "Traceback" not in outcome.message, outcome.message
        assert hostile.names_a_file(outcome.message, case), f"{case.name}: {outcome.message!r} names no file"
        assert outcome.unchanged_db, f"{case.name}: refused, but the database changed"
    elif outcome.kind == "completed":
        assert outcome.read == outcome.added + outcome.replaced + outcome.unchanged + outcome.rejected, outcome
    else:
        assert outcome.unchanged_db


# --------------------------------------------------------------------------- the named corpus
@pytest.mark.parametrize("case", hostile.cases(), ids=lambda c: c.name)
def test_hostile_corpus(case, db, tmp_path):
    outcome = hostile.run_case(case, db, tmp_path / "work")
    check_outcome(outcome, case)
    assert outcome.ok_for(case.expectation), f"{case.name}: expected {case.expectation}, got {outcome}"


def test_the_corpus_covers_every_reader_and_what_the_issue_names():
    cases = hostile.cases()
    assert {c.entry for c in cases} == set(ENTRIES)
    names = " ".join(c.name for c in cases)
    for topic in ("latin-1", "utf-16", "cp1252", "truncated", "NUL", "10k", "5,000 header columns",
                  "quote", "lies about its size", "21 files", "'../x.csv'", "'/etc/passwd'", "SQL"):
        assert topic in names, topic


# --------------------------------------------------------------------------- fuzzing
def fuzz_once(db: Path, entry_point: str, name: str, data: bytes) -> hostile.Outcome:
    case = hostile.Case("fuzz", {name: data}, "error_or_rejects", entry_point)
    with tempfile.TemporaryDirectory(prefix="hourbank-fuzz-") as work:
        outcome = hostile.run_case(case, db, Path(work))
    check_outcome(outcome, case)
    return outcome


def file_name(entry_point: str, draw) -> str:
    return draw(hs.sampled_from(CANONICAL)) if entry_point != "tracker" else "export.csv"


def valid_file(name: str) -> bytes:
    """A good file of that name (a tracker export for any other name)."""
    rows = {
        "time_entries.csv": hostile.good_entries(4),
        "appointments.csv": b"appointment_id,customer_id,staff,scheduled_start,scheduled_minutes,status,cancelled_at,"
                            b"cancelled_by\na1,acme,Ann,2026-03-03T10:00,60,cancelled,2026-03-03T09:00,customer\n"
                            b"a2,acme,Ann,2026-03-04T10:00+01:00,30,completed,,\n",
        "purchases.csv": b"purchase_id,customer_id,purchased_at,hours,amount\np1,acme,2026-01-01,10,900\n"
                         b"p2,beta,2026-02-01T10:00Z,1.5,\n",
        "customers.csv": "customer_id,customer_name,region\nacme,Acme Łódź,EU\nbeta,\"Beta, Inc\",US\n".encode(),
    }
    return rows.get(name, (hostile.TOGGL_HEADER + "\n" + hostile.TOGGL_ROW + "\n"
                           + hostile.TOGGL_ROW.replace("09:00", "11:00").replace("10:00", "11:30") + "\n").encode())


@pytest.mark.parametrize("entry_point", ENTRIES)
@FUZZ
@given(data=hs.data())
def test_random_bytes(entry_point, db, data):
    name = file_name(entry_point, data.draw)
    payload = data.draw(hs.one_of(hs.binary(max_size=3000),
                                  hs.binary(max_size=200).map(lambda b: valid_file(name)[:60] + b)))
    fuzz_once(db, entry_point, name, payload)


@pytest.mark.parametrize("entry_point", ENTRIES)
@FUZZ
@given(data=hs.data())
def test_random_text_in_random_encodings(entry_point, db, data):
    name = file_name(entry_point, data.draw)
    encoding = data.draw(hs.sampled_from(["latin-1", "utf-16", "cp1252", "utf-8", "utf-8-sig"]))
    header = valid_file(name).decode("utf-8").splitlines()[0]
    width = header.count(",") + 1
    cell = hs.text(max_size=20)
    rows = data.draw(hs.lists(hs.lists(cell, min_size=width, max_size=width), max_size=5))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header.split(","))
    writer.writerows(rows)
    fuzz_once(db, entry_point, name, out.getvalue().encode(encoding, errors="replace"))


@pytest.mark.parametrize("entry_point", ENTRIES)
@FUZZ
@given(data=hs.data())
def test_valid_files_cut_at_any_byte(entry_point, db, data):
    name = file_name(entry_point, data.draw)
    good = valid_file(name)
    fuzz_once(db, entry_point, name, good[:data.draw(hs.integers(0, len(good)))])


@pytest.mark.parametrize("entry_point", ENTRIES)
@FUZZ
@given(data=hs.data())
def test_nul_bytes_anywhere(entry_point, db, data):
    name = file_name(entry_point, data.draw)
    good = bytearray(valid_file(name))
    for at in data.draw(hs.lists(hs.integers(0, len(good) - 1), min_size=1, max_size=4)):
        good[at] = 0
    fuzz_once(db, entry_point, name, bytes(good))


CHAOS = ['"', '""', "\r", "\n", "\r\n", ",", ";", "\t", "\\", "'", "\x00", "\ufeff", "\u2028", "é"]


@pytest.mark.parametrize("entry_point", ENTRIES)
@FUZZ
@given(data=hs.data())
def test_csv_quote_chaos(entry_point, db, data):
    name = file_name(entry_point, data.draw)
    text = list(valid_file(name).decode("utf-8"))
    for _ in range(data.draw(hs.integers(1, 6))):
        text.insert(data.draw(hs.integers(0, len(text))), data.draw(hs.sampled_from(CHAOS)))
    fuzz_once(db, entry_point, name, "".join(text).encode("utf-8"))


@pytest.mark.parametrize("entry_point", ENTRIES)
@FUZZ
@given(data=hs.data())
def test_huge_fields_and_wide_headers(entry_point, db, data):
    name = file_name(entry_point, data.draw)
    lines = valid_file(name).decode("utf-8").splitlines()
    extra = data.draw(hs.integers(0, 5000))
    size = data.draw(hs.sampled_from([0, 10_000, 100_000]))
    header = lines[0] + "".join(f",x{i}" for i in range(extra))
    row = lines[1] + ",v" * extra
    cells = row.split(",")
    at = data.draw(hs.integers(0, len(cells) - 1))
    cells[at] = cells[at] + "z" * size
    outcome = fuzz_once(db, entry_point, name, (header + "\n" + ",".join(cells) + "\n").encode())
    if entry_point != "tracker" and lines[0].count(",") + 1 + extra > 200:
        assert outcome.kind == "error" and "columns" in outcome.message   # refused before any row is read


def test_a_wide_header_is_refused_before_reading_the_rows(db, tmp_path):
    """5,000 columns and 20 MB of rows: refused from the header alone, quickly."""
    import time

    folder = tmp_path / "wide"
    folder.mkdir()
    header = ",".join(f"c{i}" for i in range(5000))
    row = ",".join(["v" * 3] * 5000)
    (folder / "time_entries.csv").write_text(header + "\n" + (row + "\n") * 1000)
    before = hostile.db_fingerprint(db)
    started = time.perf_counter()
    with pytest.raises(HourbankError, match=r"time_entries\.csv: the header has 5000 columns"):
        import_export(db, folder, policy=Policy())
    assert time.perf_counter() - started < 5.0   # typically 0.1 s: only the first MB is read
    assert hostile.db_fingerprint(db) == before


# --------------------------------------------------------------------------- zips and upload limits
@pytest.mark.parametrize("member", hostile.TRAVERSAL_NAMES)
def test_a_zip_member_with_a_path_that_leaves_the_folder_is_refused(member, db, tmp_path):
    staging = tmp_path / "deep" / "er" / "staging"
    with pytest.raises(importing.UploadError, match=r"^export\.zip: .*outside its folder"):
        stage_uploads([("export.zip", hostile.make_zip({member: hostile.good_entries()}))], staging)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "db.duckdb"]
    assert written == [], written   # nothing anywhere, inside the staging folder or outside it


def test_a_zip_made_from_a_folder_still_imports(db, tmp_path):
    staged = stage_uploads([("export.zip", hostile.make_zip({"export/time_entries.csv": hostile.good_entries(3),
                                                              "export/": b""}))], tmp_path / "s")
    assert staged.canonical == ["time_entries.csv"]
    assert run_import(db, staged, Policy(), dry_run=False).added == 3


def test_a_zip_member_that_honestly_inflates_past_the_limit_is_refused(db, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UNPACKED_BYTES", 256 * 1024)
    bomb = hostile.make_zip({"time_entries.csv": hostile.good_entries(1) + b"\n" * (4 * 1024 * 1024)})
    assert len(bomb) < 20_000          # 4 MB of newlines pack into a few KB
    with pytest.raises(importing.UploadError, match=r"^export\.zip: unpacks to more than 0 MB"):
        stage_uploads([("export.zip", bomb)], tmp_path / "s")
    assert not any((tmp_path / "s").glob("*.csv"))


def test_several_members_that_together_inflate_past_the_limit_are_refused(db, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UNPACKED_BYTES", 1024 * 1024)
    part = b"x" * (400 * 1024)
    with pytest.raises(importing.UploadError, match=r"^export\.zip: unpacks to more than 1 MB"):
        stage_uploads([("export.zip", hostile.make_zip({f"f{i}.csv": part for i in range(3)}))], tmp_path / "s")


def test_a_zip_member_that_lies_about_its_size_is_stopped_at_the_real_size(db, tmp_path, monkeypatch):
    """The directory says 100 bytes; the member really inflates to 8 MB. Unpacking stops at
    the declared size or the limit, whichever is first, and refuses the member."""
    monkeypatch.setattr(importing, "MAX_UNPACKED_BYTES", 1024 * 1024)
    bomb = hostile.lying_zip(b"0" * (8 * 1024 * 1024), declared=100)
    with pytest.raises(importing.UploadError, match=r"^export\.zip: time_entries\.csv cannot be unpacked"):
        stage_uploads([("export.zip", bomb)], tmp_path / "s")
    assert sum(p.stat().st_size for p in (tmp_path / "s").glob("*")) <= 1024 * 1024


def test_too_many_members_are_refused_before_any_is_unpacked(tmp_path):
    zipped = hostile.make_zip({f"f{i}.csv": b"a\n1\n" for i in range(importing.MAX_ZIP_MEMBERS + 1)})
    with pytest.raises(importing.UploadError, match=r"^export\.zip: 21 files inside; at most 20"):
        stage_uploads([("export.zip", zipped)], tmp_path / "s")
    assert not any((tmp_path / "s").iterdir())


@pytest.mark.parametrize("name", ["time_entries.csv", "export.zip"])
def test_a_file_over_the_upload_limit_is_refused_and_nothing_is_staged(name, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UPLOAD_BYTES", 1024 * 1024)
    data = hostile.good_entries(1) + b"x" * (2 * 1024 * 1024)
    with pytest.raises(importing.UploadError, match=rf"^{name}: 2 MB is over the 1 MB upload limit\.$"):
        stage_uploads([(name, data)], tmp_path / "s")
    assert not any((tmp_path / "s").iterdir())


@FUZZ
@given(data=hs.data())
def test_a_zip_cut_at_any_byte_is_refused_or_imports_whole(db, data):
    zipped = hostile.make_zip({"time_entries.csv": hostile.good_entries(3), "purchases.csv": valid_file("purchases.csv")})
    cut = zipped[:data.draw(hs.integers(0, len(zipped)))]
    outcome = fuzz_once(db, "upload", "export.zip", cut)
    if cut != zipped:
        assert outcome.kind == "error"


# --------------------------------------------------------------------------- SQL is data
def _tables(db: Path) -> set[str]:
    with open_db(db, read_only=True) as con:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def test_sql_in_ids_names_and_headers_is_stored_verbatim(db, tmp_path):
    x = hostile.INJECTION
    tables = _tables(db)
    folder = write_export(tmp_path / "x", entries=[entry(x, "2026-03-02T10:00", 10, customer=x, customer_name=x,
                                                         staff=x, activity=x, notes=x)],
                          purchases=[purchase(x, "2026-01-01", 10, customer=x)],
                          customers=[{"customer_id": x, "customer_name": x}])
    with (folder / "customers.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["customer_id", "customer_name", x], [x, x, x]])
    result = import_export(db, folder, policy=Policy())
    assert (result.added, result.rejected) == (3, 0)
    assert _tables(db) == tables
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT entry_id, customer_id, customer_name, staff, activity, notes FROM time_entries "
                           "WHERE entry_id = ?", [x]).fetchall() == [(x,) * 6]
        assert con.execute("SELECT customer_id FROM purchases WHERE purchase_id = ?", [x]).fetchone() == (x,)
        name, extra = con.execute("SELECT customer_name, extra FROM customers WHERE customer_id = ?", [x]).fetchone()
    assert name == x and extra == '{"' + x + '":"' + x + '"}'


def test_sql_in_filters_and_report_arguments_is_data(db, tmp_path, capsys):
    from billing.__main__ import main

    x = hostile.INJECTION
    import_export(db, write_export(tmp_path / "x", entries=[entry("i1", "2026-03-02T10:00", 10, customer=x)],
                                   purchases=[purchase("ip", "2026-01-01", 10, customer=x)]), policy=Policy())
    tables = _tables(db)
    with open_db(db, read_only=True) as con:
        books = compute_books(con, Policy(), T, customer=x)
        assert list(books.customers) == [x]
        assert report(con, "summary", Policy(), T)["customer_id"].tolist() == ["acme", x]
        assert build_statement(con, Policy(), x, date(2026, 3, 1), T, T).customer_id == x
        assert issued_statements(con, customer=x).empty
        assert compute_books(con, Policy(), T, customer="nobody' OR '1'='1").customers.empty
    assert main(["report", "daily", "--db", str(db), "--as-of", T.isoformat(), "--customer", x, "--format", "csv"]) == 0
    assert x in capsys.readouterr().out
    # not a period: one sentence, exit 1 (billing.__main__.Parser)
    assert main(["import", str(tmp_path / "x"), "--db", str(db), "--period", x]) == 1
    assert "is not a period" in capsys.readouterr().err
    from billing import appdata

    version = appdata.current_version(db).number
    usage = appdata.entry_usage(db, version, Policy(), T, date(2026, 3, 1), T, customers_=(x,), staff_=(x,))
    assert usage.empty
    assert _tables(db) == tables


# --------------------------------------------------------------------------- safe downloads
DANGEROUS = ["=1+1", '=HYPERLINK("http://evil.example/x","click")', "+SUM(A1:A9)", "-2+3", "@cmd",
             "\t=cmd|' /C calc'!A0", "\r=1+1", "=", "-", "+cmd", "@"]
HARMLESS = ["Acme", "a=b", " =x", "", "-15.00", "+3", "-15", ".5", "15", "Łódź", "'=already quoted"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_safe_text_neutralises_formula_text(text):
    assert is_dangerous(text) and safe_text(text) == "'" + text and safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", HARMLESS + [None, 15, -15.0, date(2026, 1, 2)])
def test_safe_text_leaves_plain_text_numbers_and_other_values(value):
    assert safe_text(value) == value and type(safe_text(value)) is type(value)
    assert not is_dangerous(value)


@given(hs.text(max_size=30))
def test_safe_text_is_a_prefix_only_where_a_spreadsheet_would_run_it(text):
    out = safe_text(text)
    assert out in (text, "'" + text)
    if out != text:
        assert text.startswith(FORMULA_TRIGGERS)
    assert not is_dangerous(out)
    assert safe_text(out) == out        # neutralising twice changes nothing


def test_safe_frame_changes_text_cells_only():
    frame = pd.DataFrame({"=name": ["=1+1", "Acme", None], "n": [-15.0, 2.5, 0.0], "t": ["-15.00", "@x", "ok"],
                          "s": pd.Series(["+a", "b", "c"], dtype="string")})
    out = safe_frame(frame)
    assert list(out.columns) == ["'=name", "n", "t", "s"]
    assert out["'=name"].tolist()[:2] == ["'=1+1", "Acme"] and pd.isna(out["'=name"].iloc[2])
    assert out["n"].tolist() == [-15.0, 2.5, 0.0] and out["n"].dtype == frame["n"].dtype
    assert out["t"].tolist() == ["-15.00", "'@x", "ok"] and out["s"].tolist() == ["'+a", "b", "c"]
    assert frame["=name"].iloc[0] == "=1+1"          # the caller's frame is not touched


HOSTILE = {"customer_id": "@acme", "customer_name": "=HYPERLINK(\"http://evil.example\",\"Acme\")",
           "activity": "+SUM(1,2)", "notes": "-2+3 cmd", "staff": "\t=Ann"}


@pytest.fixture
def hostile_db(tmp_path) -> Path:
    db = tmp_path / "hostile.duckdb"
    h = HOSTILE
    import_export(db, write_export(
        tmp_path / "x",
        entries=[entry("e1", "2026-03-02T10:00", 25, customer=h["customer_id"], staff=h["staff"],
                       customer_name=h["customer_name"], activity=h["activity"], notes=h["notes"])],
        purchases=[purchase("p1", "2026-03-01", 10, customer=h["customer_id"])],
        customers=[{"customer_id": h["customer_id"], "customer_name": h["customer_name"]}]), policy=Policy())
    return db


def _csv_cells(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _assert_neutralised(cells: list[str], texts) -> None:
    for text in texts:
        assert "'" + text in cells, f"{text!r} is not neutralised"
        assert text not in cells, f"{text!r} is in the CSV as it was written"
    assert not [c for c in cells if is_dangerous(c)], "a cell a spreadsheet would run"


@pytest.mark.parametrize("internal", [False, True])
def test_statement_downloads_neutralise_hostile_text_and_keep_numbers(hostile_db, internal):
    h = HOSTILE
    with open_db(hostile_db, read_only=True) as con:
        st = build_statement(con, Policy(), h["customer_id"], date(2026, 3, 1), T, T)
    # The engine (what the app shows) keeps the text as written.
    assert st.customer_name == h["customer_name"]
    row = st.entries.iloc[0]
    assert (row["activity"], row["notes"], row["staff"]) == (h["activity"], h["notes"], h["staff"])

    cells = _csv_cells(statement_csv(st, internal=internal))
    _assert_neutralised(cells, [h["customer_name"], h["activity"]] + ([h["notes"]] if internal else []))
    assert "600.00" in cells                          # minutes stay numbers

    wb = openpyxl.load_workbook(io.BytesIO(statement_xlsx(st, internal=internal)))
    texts, numbers = [], []
    for ws in wb.worksheets:
        for r in ws.iter_rows():
            for cell in r:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                elif isinstance(cell.value, (int, float)):
                    numbers.append(cell.value)
    # XLSX: the text is kept exactly, in a string cell (Excel shows it, never runs it).
    for text in [h["customer_name"], h["activity"]] + ([h["notes"]] if internal else []):
        assert text in texts
    assert 600 in numbers


def test_usage_and_at_risk_csv_downloads_neutralise_names_and_activities(hostile_db):
    from billing import appdata

    h = HOSTILE
    policy = Policy()
    version = appdata.current_version(hostile_db).number
    with open_db(hostile_db, read_only=True) as con:
        books = compute_books(con, policy, T)
    f = common.Filters(as_of=T, start=date(2026, 3, 1), end=T)
    # Usage: the by-activity and by-staff figures show the text as written in the app ...
    usage = appdata.entry_usage(hostile_db, version, policy, T, f.start, f.end)
    by_activity = usage_page.usage_by(usage, "activity")
    assert by_activity["activity"].tolist() == [h["activity"]]
    # ... and neutralised in the download; minutes text such as -15.00 stays a number.
    table = by_activity.assign(delta_minutes=["-15.00"], total=[-15.0])
    cells = _csv_cells(common.csv_bytes(table))
    _assert_neutralised(cells, [h["activity"]])
    assert "-15.00" in cells and "-15.0" in cells
    cells = _csv_cells(common.csv_bytes(usage_page.usage_by(usage, "staff")))
    _assert_neutralised(cells, [h["staff"]])

    proj = expiring.expiry_projection(books, f, {h["customer_id"]: h["customer_name"]})
    assert proj["customer_name"].tolist() == [h["customer_name"]]        # the app's frame, as written
    assert proj["projected_lost_us"].iloc[0] > 0
    rows = list(csv.reader(io.StringIO(expiring.at_risk_csv(proj).decode("utf-8-sig"))))
    assert rows[1][:2] == ["'" + h["customer_id"], "'" + h["customer_name"]]
    # 600 bought, 25 ad-hoc billed as 30 (R5): people's text, then still a plain number
    assert rows[1][2:4] == ["9 h 30 min", "570.00"]
