"""A checker of canonical exports written from FORMATS.md alone (its own column lists and
regexes, not the loader's nor billing.canonical's): the demo's and the synthetic
generator's tests read their files with it."""
from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

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
