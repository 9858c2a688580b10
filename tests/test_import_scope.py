"""Imports that add up and never remove what the user did not ask to remove.

Covers the removal scope of tracker and canonical period imports (per-person and
per-client exports add up, a whole-team export still removes), the removals shown before
anything is saved, the period's days read in the export's own zone (R1), tracker clients
matched to known customers by name, a tracker file none of whose rows converts, and a
header that is not UTF-8. Every expected value is worked out by hand in the comments.
"""
from __future__ import annotations

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
