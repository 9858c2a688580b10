"""The demo and synthetic exports follow FORMATS.md and show what RULES.md is about.

The checker below is written from FORMATS.md alone (its own regexes, not the loader's), and
the block checks use a small independent upper bound of billable minutes, not the engine.
"""
from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from billing.demo import write_demo, write_synthetic
from billing.errors import HourbankError

NY = ZoneInfo("America/New_York")
TODAY = dt.date(2026, 11, 26)

# FORMATS.md, "The canonical export"
COLUMNS = {
    "time_entries": ["entry_id", "customer_id", "customer_name", "staff", "started_at", "minutes",
                     "tier", "activity", "appointment_id", "customer_requested", "notes"],
    "appointments": ["appointment_id", "customer_id", "staff", "scheduled_start",
                     "scheduled_minutes", "status", "cancelled_at", "cancelled_by"],
    "purchases": ["purchase_id", "customer_id", "purchased_at", "hours", "amount"],
    "customers": ["customer_id", "customer_name"],
}
TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
                       r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUMBER = re.compile(r"^(\d+(\.\d*)?|\.\d+)$")
BOOLEAN = {"true", "false", "yes", "no", "1", "0", ""}
SEED_ACTIVITIES = {"kickoff", "orientation", "project_management", "familiarization", "setup",
                   "monitoring", "research", "testing", "status_call"}


def read(folder: Path, name: str) -> tuple[list[str], list[dict]]:
    raw = (folder / f"{name}.csv").read_bytes()
    text = raw.decode("utf-8")                       # FORMATS.md: UTF-8
    rows = list(csv.reader(text.splitlines()))
    header = rows[0]
    for n, row in enumerate(rows[1:], start=2):
        assert len(row) == len(header), f"{name}.csv line {n}: {len(row)} fields, header has {len(header)}"
    return header, [dict(zip(header, row)) for row in rows[1:]]


def instant(text: str) -> dt.datetime:
    """R1: an aware datetime; no offset means New York wall time (fold 0)."""
    m = TIMESTAMP.match(text)
    assert m, f"bad timestamp {text!r}"
    wall = dt.datetime.fromisoformat(f"{m[1]}T{m[2]}:{m[3]}:{m[4] or '00'}")
    if m[6]:
        return wall.replace(tzinfo=dt.timezone.utc)
    if m[7]:
        offset = dt.timedelta(hours=int(m[8]), minutes=int(m[9] or 0))
        return wall.replace(tzinfo=dt.timezone(offset if m[7] == "+" else -offset))
    return wall.replace(tzinfo=NY)


def business_day(text: str) -> dt.date:
    if DATE.match(text):
        return dt.date.fromisoformat(text)
    return instant(text).astimezone(NY).date()       # R1


def decimal(text: str, where: str) -> Decimal:
    assert NUMBER.match(text), f"{where}: {text!r} is not a plain decimal number"
    return Decimal(text)


def check_export(folder: Path) -> dict[str, list[dict]]:
    """Every rule of FORMATS.md a good row must meet; returns the rows by file."""
    data = {}
    for name, columns in COLUMNS.items():
        header, rows = read(folder, name)
        assert header == columns, f"{name}.csv columns {header}"
        data[name] = rows
        key = columns[0]
        ids = [r[key] for r in rows]
        assert all(i and i == i.strip() for i in ids), f"{name}.csv: empty or padded id"
        assert len(set(ids)) == len(ids), f"{name}.csv: duplicate {key}"
    customers = {r["customer_id"]: r["customer_name"] for r in data["customers"]}
    appointments = {r["appointment_id"]: r for r in data["appointments"]}
    for n, r in enumerate(data["time_entries"], start=2):
        where = f"time_entries.csv line {n}"
        assert r["customer_id"] in customers and r["staff"], where
        assert r["customer_name"] == customers[r["customer_id"]], where
        instant(r["started_at"])
        minutes = decimal(r["minutes"], where)
        assert 0 < minutes <= 1440 and -minutes.as_tuple().exponent <= 6, f"{where}: minutes {r['minutes']}"
        assert r["tier"] in ("one_on_one", "general"), where
        assert r["customer_requested"].lower() in BOOLEAN, where
        if r["appointment_id"]:                        # R4: nothing held in the demo
            appt = appointments.get(r["appointment_id"])
            assert appt is not None, f"{where}: unknown appointment {r['appointment_id']}"
            assert appt["customer_id"] == r["customer_id"], f"{where}: appointment of another customer"
            assert appt["status"] == "completed", f"{where}: appointment not completed"
    for n, r in enumerate(data["appointments"], start=2):
        where = f"appointments.csv line {n}"
        assert r["customer_id"] in customers, where
        instant(r["scheduled_start"])
        minutes = decimal(r["scheduled_minutes"], where)
        assert minutes > 0 and -minutes.as_tuple().exponent <= 6, where
        assert r["status"] in ("scheduled", "completed", "cancelled", "no_show"), where
        if r["status"] == "cancelled":
            instant(r["cancelled_at"])
            assert r["cancelled_by"] in ("", "customer", "staff"), where
    for n, r in enumerate(data["purchases"], start=2):
        where = f"purchases.csv line {n}"
        assert r["customer_id"] in customers, where
        business_day(r["purchased_at"])
        hours = decimal(r["hours"], where)
        assert hours > 0 and (hours * 60) == (hours * 60).to_integral_value(), f"{where}: hours {r['hours']}"
        if r["amount"]:
            decimal(r["amount"], where)
    return data


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    counts = write_demo(folder, today=TODAY, seed=7)
    return folder, counts, check_export(folder)


def test_demo_files_follow_formats(demo):
    folder, counts, data = demo
    assert counts == {name: len(rows) for name, rows in data.items()}
    assert 35 <= len(data["customers"]) <= 45


def test_demo_shows_every_situation(demo):
    _, _, data = demo
    entries, appts = data["time_entries"], data["appointments"]
    assert {r["activity"] for r in entries} >= SEED_ACTIVITIES
    assert {r["tier"] for r in entries} == {"one_on_one", "general"}                  # R2
    assert 5 <= len({r["staff"] for r in entries}) <= 8
    assert any(not n.isascii() for n in (r["customer_name"] for r in data["customers"]))
    assert any(r["customer_requested"] == "true" for r in entries)                    # R3
    assert sum(1 for r in entries if r["appointment_id"]) > 50                         # R4
    odd = {r["minutes"] for r in entries if r["tier"] == "one_on_one" and not r["appointment_id"]}
    assert {"5", "7.5", "12", "35"} <= odd and any("." in m and len(m.split(".")[1]) == 6 for m in odd)
    per_day = defaultdict(set)
    for r in entries:
        if r["tier"] == "one_on_one" and not r["appointment_id"]:
            per_day[(r["customer_id"], business_day(r["started_at"]))].add(r["staff"])
    assert any(len(s) >= 2 for s in per_day.values())                                   # R3, R5
    assert all(business_day(r["started_at"]) <= TODAY for r in entries)
    stamps = [r["started_at"] for r in entries] + [r["scheduled_start"] for r in appts]
    assert any(TIMESTAMP.match(s)[6] or TIMESTAMP.match(s)[7] for s in stamps)           # R1 offsets
    # R6: cancellations on both sides, early, late and after the start; no-shows.
    notice = {}
    for r in appts:
        if r["status"] == "cancelled":
            hours = (instant(r["scheduled_start"]) - instant(r["cancelled_at"])).total_seconds() / 3600
            notice.setdefault(r["cancelled_by"] or "customer", []).append(hours)
    assert set(notice) == {"customer", "staff"}
    assert any(h >= 24 for h in notice["customer"]) and any(0 <= h < 24 for h in notice["customer"])
    assert any(h < 0 for h in notice["customer"])
    assert any(r["status"] == "no_show" for r in appts)
    scheduled = [business_day(r["scheduled_start"]) for r in appts if r["status"] == "scheduled"]
    assert sum(d > TODAY for d in scheduled) >= 3 and 1 <= sum(d <= TODAY for d in scheduled) <= 3
    assert {r["hours"] for r in data["purchases"]} >= {"5", "10", "20"}


def billable_upper_bound(data) -> dict[str, dict[dt.date, int]]:
    """Per customer and business day, at least what R4-R6 bill (in minutes, rounded up):
    every 1-on-1 entry plus one 30-minute increment per day, plus 30 for every customer
    cancellation or no-show (whatever the notice)."""
    bound: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for r in data["time_entries"]:
        if r["tier"] == "one_on_one":                                                 # R2
            day = business_day(r["started_at"])
            bound[r["customer_id"]][day] += math.ceil(Decimal(r["minutes"]))
    for days in bound.values():
        for day in days:
            days[day] += 30                                                           # R5 rounding
    for r in data["appointments"]:
        if r["status"] == "no_show" or (r["status"] == "cancelled" and r["cancelled_by"] != "staff"):
            bound[r["customer_id"]][business_day(r["scheduled_start"])] += 30         # R6
    return bound


def blocks(data):
    for r in data["purchases"]:
        bought = business_day(r["purchased_at"])
        yield r, bought, bought + dt.timedelta(days=90), int(Decimal(r["hours"]) * 60)   # R7


def test_demo_has_blocks_expiring_soon_with_hours_left(demo):
    _, _, data = demo
    bound = billable_upper_bound(data)
    found = []
    for r, bought, expires, minutes in blocks(data):
        if TODAY <= expires <= TODAY + dt.timedelta(days=30):                         # R9 window
            could_use = sum(m for d, m in bound[r["customer_id"]].items() if bought <= d <= TODAY)
            if could_use < minutes:      # R8 draws a block only on days inside its validity
                found.append(r["purchase_id"])
    assert len(found) >= 3, found


def test_demo_has_forfeited_blocks(demo):
    _, _, data = demo
    bound = billable_upper_bound(data)
    found = []
    for r, bought, expires, minutes in blocks(data):
        if expires < TODAY:
            could_use = sum(m for d, m in bound[r["customer_id"]].items() if bought <= d <= expires)
            if could_use < minutes:                                                   # R9 forfeited
                found.append(r["purchase_id"])
    assert len(found) >= 3, found


def test_demo_has_overage(demo):
    """Some 1-on-1 ad-hoc work falls on a day no block of the customer is valid: uncovered (R8)."""
    _, _, data = demo
    windows = defaultdict(list)
    for r, bought, expires, _ in blocks(data):
        windows[r["customer_id"]].append((bought, expires))
    uncovered = {r["customer_id"] for r in data["time_entries"]
                 if r["tier"] == "one_on_one" and not r["appointment_id"]
                 and not any(a <= business_day(r["started_at"]) <= b for a, b in windows[r["customer_id"]])}
    assert len(uncovered) >= 2


def test_demo_is_deterministic_per_seed(tmp_path, demo):
    folder, _, _ = demo
    write_demo(tmp_path / "again", today=TODAY, seed=7)
    write_demo(tmp_path / "other", today=TODAY, seed=8)
    for name in COLUMNS:
        same = (tmp_path / "again" / f"{name}.csv").read_bytes()
        assert same == (folder / f"{name}.csv").read_bytes(), name
    assert (tmp_path / "other" / "time_entries.csv").read_bytes() != (folder / "time_entries.csv").read_bytes()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_demo_properties_hold_for_other_seeds_and_days(tmp_path, seed):
    today = TODAY - dt.timedelta(days=97 * seed)
    write_demo(tmp_path, today=today, seed=seed)
    data = check_export(tmp_path)
    bound = billable_upper_bound(data)
    soon = forfeited = 0
    for r, bought, expires, minutes in blocks(data):
        if today <= expires <= today + dt.timedelta(days=30):
            soon += sum(m for d, m in bound[r["customer_id"]].items() if bought <= d <= today) < minutes
        if expires < today:
            forfeited += sum(m for d, m in bound[r["customer_id"]].items() if bought <= d <= expires) < minutes
    assert soon >= 3 and forfeited >= 3
    assert all(business_day(r["started_at"]) <= today for r in data["time_entries"])


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


def test_output_folder_that_is_a_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HourbankError, match="file"):
        write_demo(blocker, today=TODAY)
