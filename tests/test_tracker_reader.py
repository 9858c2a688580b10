"""The tracker file reader: the vectorised CSV scan gives exactly what Python's csv module
gives (fields, the line each record starts on, the ragged records), on the awkward files
real exports are, and spreadsheets read as the text a CSV export would hold."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from billing.trackers.reader import (
    TrackerError, _read_csv_exact, _read_csv_fast, _SlowPath, cell_text, read_table)

AWKWARD = {
    "plain": "a,b,c\n1,2,3\n4,5,6\n",
    "crlf and bom": "\ufeffa,b,c\r\n1,2,3\r\n4,5,6\r\n",
    "no final newline": "a,b,c\n1,2,3\n4,5,6",
    "quoted newline": 'a,b,c\n1,"two\nlines",3\n4,5,6\n',
    "quoted crlf and doubled quote": 'a,b,c\r\n1,"say ""hi""\r\nthere",3\r\n4,5,6\r\n',
    "blank lines": "\n\na,b,c\n\n1,2,3\n   \n4,5,6\n\n",
    "ragged": "a,b,c\n1,2\n3,4,5\n6,7,8,9\n",
    "semicolons": "a;b;c\n1;\"2;3\";4\n",
    "tabs": "a\tb\tc\n1\t2\t3\n",
    "delimiter inside quotes at end": 'a,b,c\n1,2,"3,4"\n',
}


def _same(table_a, table_b):
    assert table_a.header == table_b.header
    assert [c.to_pylist() for c in table_a.columns] == [c.to_pylist() for c in table_b.columns]
    assert list(table_a.lines) == list(table_b.lines)
    assert table_a.ragged == table_b.ragged
    assert [table_a.raw(k) for k in range(table_a.rows)] == [table_b.raw(k) for k in range(table_b.rows)]


def _both(tmp_path, text: str, delimiter: str = ","):
    path = tmp_path / "x.csv"
    data = text.encode("utf-8")
    path.write_bytes(data)
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    stripped = data[bom:].lstrip(b" \t\r\n")
    offset = len(data) - len(stripped)
    skipped = data[:offset].count(b"\n")
    return (_read_csv_fast(path, data, offset, skipped, delimiter),
            _read_csv_exact(path, data, offset, skipped, delimiter))


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_fast_scan_reads_what_python_csv_reads(name, tmp_path):
    text = AWKWARD[name]
    delimiter = ";" if name == "semicolons" else "\t" if name == "tabs" else ","
    fast, exact = _both(tmp_path, text, delimiter)
    _same(fast, exact)


def test_lines_and_ragged_records_point_where_an_editor_shows_them(tmp_path):
    fast, _ = _both(tmp_path, AWKWARD["blank lines"])
    assert list(fast.lines) == [5, 7]  # blank lines and a line of spaces are not records
    fast, _ = _both(tmp_path, AWKWARD["ragged"])
    assert list(fast.lines) == [3]
    assert fast.ragged == [(2, 2, "1,2"), (4, 4, "6,7,8,9")]
    fast, _ = _both(tmp_path, AWKWARD["quoted newline"])
    assert list(fast.lines) == [2, 4] and fast.raw(0) == '1,"two\nlines",3'


def test_a_quote_inside_an_unquoted_value_takes_the_exact_reader(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text('a,b\n5" screen,2\n3,4\n', encoding="utf-8")
    table = read_table(path)
    assert [c.to_pylist() for c in table.columns] == [['5" screen', "3"], ["2", "4"]]
    assert list(table.lines) == [2, 3]
    data = path.read_bytes()
    with pytest.raises(_SlowPath):
        _read_csv_fast(path, data, 0, 0, ",")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(alphabet='ab ,;"\n\r\t', max_size=6), min_size=3, max_size=3),
                min_size=1, max_size=8))
def test_any_csv_written_by_pythons_writer_reads_back_the_same_both_ways(tmp_path_factory, rows):
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([["h1", "h2", "h3"]] + rows)
    text = out.getvalue()
    tmp = tmp_path_factory.mktemp("csv")
    try:
        fast, exact = _both(tmp, text)
    except _SlowPath:
        return  # the exact reader is used for these; nothing to compare
    _same(fast, exact)


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,b\n1,2\nRen\xe9,3\n".encode("latin-1"))
    with pytest.raises(TrackerError, match=r"latin1.csv: line 3 is not UTF-8"):
        read_table(path)


def test_spreadsheet_cells_read_as_csv_text():
    assert cell_text(date(2024, 3, 4)) == "2024-03-04"
    assert cell_text(datetime(2024, 3, 4, 9, 30)) == "2024-03-04 09:30:00"
    assert cell_text(datetime(2024, 3, 4)) == "2024-03-04"
    assert cell_text(time(22, 5)) == "22:05:00"
    assert cell_text(timedelta(hours=26, minutes=5)) == "26:05:00"
    assert cell_text(2700.0) == "2700" and cell_text(0.25) == "0.25" and cell_text(True) == "true"
    assert cell_text(None) == "" and cell_text(" x ") == "x"


def test_xlsx_is_read_from_its_first_sheet_with_rows_numbered_as_the_sheet(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([])
    sheet.append(["Date", "From", "Duration", "User"])
    sheet.append([date(2024, 3, 4), time(9, 0), timedelta(minutes=45), "ann"])
    sheet.append([])
    sheet.append([date(2024, 3, 5), time(10, 0), 2700, "bob", "stray"])
    sheet.append([date(2024, 3, 6), time(11, 0), 0.5, "cy"])
    path = tmp_path / "kimai.xlsx"
    book.save(path)
    table = read_table(path)
    assert table.sheet == "Sheet" and table.line_word == "row"
    assert table.header == ["Date", "From", "Duration", "User"]
    assert [c.to_pylist() for c in table.columns] == [
        ["2024-03-04", "2024-03-06"], ["09:00:00", "11:00:00"], ["0:45:00", "0.5"], ["ann", "cy"]]
    assert list(table.lines) == [3, 6]
    assert table.ragged == [(5, 5, "2024-03-05\t10:00:00\t2700\tbob\tstray")]


def test_a_damaged_spreadsheet_is_one_sentence(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a real zip")
    with pytest.raises(TrackerError, match="broken.xlsx: the spreadsheet cannot be read"):
        read_table(path)


def test_a_bare_cr_in_the_header_is_one_sentence_naming_line_1(tmp_path):
    # Found by the hostile-input fuzzer: the delimiter sniffing stopped with csv.Error.
    path = tmp_path / "cr.csv"
    path.write_bytes(b"User,Client,Start\rdate,Duration\nAnn,Acme,2026-03-02,0:30\n")
    with pytest.raises(TrackerError, match=r"cr.csv: line 1: the header row cannot be read"):
        read_table(path)
