"""The synthetic benchmark export (billing.synthetic) follows FORMATS.md, is deterministic
and has the requested sizes (read by tests/formats_check.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from billing.errors import HourbankError
from billing.synthetic import write_synthetic
from tests.formats_check import COLUMNS, TODAY, business_day, check_export


def test_synthetic_writes_the_requested_rows(tmp_path):
    counts = write_synthetic(tmp_path, entries=2_500, customers=50, years=1, purchases=300,
                             seed=3, end=TODAY, chunk_rows=1_000)
    data = check_export(tmp_path)                  # includes unique ids and appointment links
    assert counts["time_entries"] == len(data["time_entries"]) == 2_500
    assert counts["appointments"] == len(data["appointments"])
    assert counts["purchases"] == len(data["purchases"]) == 300
    assert counts["customers"] == len(data["customers"]) == 50
    entries = data["time_entries"]
    general = sum(r["tier"] == "general" for r in entries) / len(entries)
    session = sum(bool(r["appointment_id"]) for r in entries) / len(entries)
    assert 0.10 < general < 0.20 and 0.14 < session < 0.26
    assert any(len(r["minutes"].partition(".")[2]) == 6 for r in entries)
    assert {r["status"] for r in data["appointments"]} == {"scheduled", "completed", "cancelled", "no_show"}
    first = min(business_day(r["started_at"]) for r in entries)
    assert first >= TODAY - dt.timedelta(days=366)
    assert all(business_day(r["started_at"]) <= TODAY for r in entries)


def test_synthetic_is_deterministic_and_chunked_writes_match_count(tmp_path):
    a = write_synthetic(tmp_path / "a", entries=1_234, customers=20, purchases=40, seed=5, end=TODAY,
                        chunk_rows=500)
    b = write_synthetic(tmp_path / "b", entries=1_234, customers=20, purchases=40, seed=5, end=TODAY,
                        chunk_rows=500)
    assert a == b
    for name in COLUMNS:
        assert (tmp_path / "a" / f"{name}.csv").read_bytes() == (tmp_path / "b" / f"{name}.csv").read_bytes()
    one_chunk = write_synthetic(tmp_path / "c", entries=1_234, customers=20, purchases=40, seed=5,
                                end=TODAY, chunk_rows=10_000)
    assert one_chunk["time_entries"] == 1_234
    assert len(check_export(tmp_path / "c")["time_entries"]) == 1_234


def test_synthetic_rejects_bad_sizes_in_one_sentence(tmp_path):
    with pytest.raises(HourbankError, match="entries"):
        write_synthetic(tmp_path, entries=-1)
    with pytest.raises(HourbankError, match="customers"):
        write_synthetic(tmp_path, entries=10, customers=0)
