"""Synthetic canonical exports (FORMATS.md) for benchmarks: millions of entries.

``write_synthetic`` generates and writes in chunks (memory stays bounded), vectorised with
numpy and written with pyarrow's CSV writer; lengths and notices are drawn like the demo's
(billing.demo). Its text has no commas, quotes or line breaks, so the big files are
written unquoted.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from billing.canonical import (APPOINTMENT_COLUMNS, CUSTOMER_COLUMNS, ENTRY_COLUMNS, MICRO, PURCHASE_COLUMNS,
                               format_fixed, format_wall, output_folder)
from billing.demo import GENERAL_ACTIVITIES
from billing.made_up import hours_before, minutes_choice, pick
from billing.errors import HourbankError

# Synthetic exports for benchmarks

# No commas, quotes or line breaks in synthetic text: the big files are written unquoted.
SYN_WORDS = ["Acme", "Apex", "Birch", "Blue Ridge", "Cedar", "Cobalt", "Crescent", "Delta", "Ember",
             "Evergreen", "Falcon", "Granite", "Harbor", "Horizon", "Iron", "Juniper", "Keystone",
             "Lakeside", "Maple", "Meridian", "Müller", "Northwind", "Oak", "Orchid", "Pinnacle",
             "Quarry", "Redwood", "Riverbend", "Summit", "São Bento", "Tidewater", "Łódź", "Verde",
             "Willow", "Zephyr", "Ålesund", "Koç", "Peñasco", "Straße", "Nakamura"]
SYN_KINDS = ["Logistics", "Dental", "Design", "Architects", "Analytics", "Law", "Bakery", "Clinic",
             "Realty", "Freight", "Veterinary", "Imports", "Insurance", "Landscaping", "Accounting",
             "Media", "Software", "Tutoring", "Plumbing", "Travel"]
SYN_FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Priya", "Sam", "Grace", "Tomás", "Yuki", "Omar"]
SYN_LAST = ["Souza", "Okafor", "Martin", "Volkov", "Nair", "Lee", "Rivera", "Tanaka"]
SYN_NOTES = ["Follow-up from ticket", "Checked backups", "Reset MFA", "Printer issue", "Updated runbook"]
SYN_ONGOING = ["orientation", "project_management", "familiarization", "setup", "monitoring",
               "research", "testing"]


def _ids(prefix: str, first: int, n: int, width: int) -> pa.Array:
    numbers = pc.cast(pa.array(np.arange(first, first + n, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width, "0"), "")


def _weekday_shift(day: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays (days since 1970-01-01, a Thursday) back to Friday."""
    weekday = (day + 3) % 7                                     # Monday = 0
    return day - np.where(weekday == 5, 1, 0) - np.where(weekday == 6, 2, 0)


def _offset_stamps(local_s: np.ndarray, utc: np.ndarray) -> pa.Array:
    """The same instants as New York wall times, written with their offset or in UTC (R1)."""
    aware = pd.DatetimeIndex(local_s.astype("datetime64[s]")).tz_localize(
        "America/New_York", ambiguous=False, nonexistent="shift_forward")
    utc_s = aware.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[s]").astype(np.int64)
    offset_h = (local_s - utc_s) // 3600                        # -5 or -4
    sign_hours = pc.binary_join_element_wise(
        "-", pc.utf8_lpad(pc.cast(pa.array(-offset_h), pa.string()), 2, "0"), "")
    with_offset = pc.binary_join_element_wise(format_wall(local_s), sign_hours, ":00", "")
    zulu = pc.binary_join_element_wise(format_wall(utc_s), "Z", "")
    return pc.if_else(pa.array(utc), zulu, with_offset)


def _stamp_column(rng, seconds: np.ndarray, share: float) -> pa.Array:
    stamps = format_wall(seconds)
    mask = rng.random(len(seconds)) < share
    if mask.any():
        chosen = _offset_stamps(seconds[mask], rng.random(int(mask.sum())) < 0.5)
        stamps = pc.replace_with_mask(stamps, pa.array(mask), chosen)
    return stamps


def _synthetic_chunk(rng, k: int, first_entry: int, first_appt: int, ctx: dict) -> tuple[pa.Table, pa.Table]:
    """k time entries (about 20 % inside completed sessions, about 15 % general) and the
    appointments they need, plus some cancelled, no-show and scheduled ones."""
    start_day, n_days, cdf = ctx["start_day"], ctx["n_days"], ctx["cdf"]
    names, staff_names = ctx["names"], ctx["staff"]

    def customers(n):
        return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)

    def days(n, extra=0):
        d = start_day + rng.integers(0, n_days + extra, n)
        return np.maximum(_weekday_shift(d), start_day)

    # Completed sessions and the entries logged in them (R4): one or two staff each (R3).
    a = int(round(k * 0.2 / 1.2))
    reps = np.where(rng.random(a) < 0.2, 2, 1)
    s = int(reps.sum())
    # Other outcomes (R6), and a few sessions not yet held (some in the future).
    b = int(round(a * 0.12))
    a_cust = customers(a + b)
    a_day = days(a + b)
    status = np.full(a + b, "completed", dtype=object)
    roll = rng.random(b)
    status[a:] = np.where(roll < 0.65, "cancelled", np.where(roll < 0.85, "no_show", "scheduled"))
    future = np.flatnonzero(status == "scheduled")
    future = future[rng.random(len(future)) < 0.5]
    a_day[future] = start_day + n_days + rng.integers(0, 21, len(future))
    a_day[future] = _weekday_shift(a_day[future])
    a_start = a_day * 86_400 + rng.integers(18, 34, a + b) * 1800
    a_minutes = rng.choice(np.array([30, 45, 60, 90], dtype=np.int64), a + b) * MICRO
    cancelled = status == "cancelled"
    notice = hours_before(rng, a + b)
    cancel_s = a_start - notice
    by = np.where(cancelled, np.where(rng.random(a + b) < 0.75, "customer", "staff"), "").astype(object)
    appt_ids = _ids("A", first_appt, a + b, ctx["appt_width"])
    appt_staff = rng.integers(0, len(staff_names), a + b)
    appointments = pa.table({
        "appointment_id": appt_ids,
        "customer_id": pc.take(ctx["ids"], pa.array(a_cust)),
        "staff": pc.take(staff_names, pa.array(appt_staff)),
        "scheduled_start": _stamp_column(rng, a_start, 0.01),
        "scheduled_minutes": format_fixed(a_minutes, 6),
        "status": pa.array(status, pa.string()),
        "cancelled_at": pc.if_else(pa.array(cancelled), format_wall(cancel_s), pa.scalar("", pa.string())),
        "cancelled_by": pa.array(by, pa.string()),
    })

    # Entries: the session ones first, then ad-hoc 1-on-1 and General Support work (R2).
    owner = np.repeat(np.arange(a), reps)
    nth = np.arange(s) - np.repeat(np.cumsum(reps) - reps, reps)
    r = k - s
    cust = np.concatenate([a_cust[owner], customers(r)])
    start_s = np.concatenate([
        a_start[owner] + rng.integers(0, 6, s) * 60,
        days(r) * 86_400 + rng.integers(7 * 3600, 20 * 3600, r) // 60 * 60])
    scale = rng.choice(np.array([75, 90, 100, 100, 100, 110, 125]), s)
    session_micro = a_minutes[owner] * scale // 100 // MICRO * MICRO
    general = np.concatenate([np.zeros(s, bool), rng.random(r) < 0.15 * k / max(r, 1)])
    micro = np.concatenate([session_micro, minutes_choice(rng, r)])
    fractional = rng.random(k) < 0.05                              # e.g. 0.016667 = one second
    micro[fractional] = np.round(rng.integers(1, 7200, int(fractional.sum())) * MICRO / 60).astype(np.int64)
    staff = np.concatenate([np.where(nth == 0, appt_staff[owner], rng.integers(0, len(staff_names), s)),
                            rng.integers(0, len(staff_names), r)])
    activity = np.concatenate([
        np.where(rng.random(s) < 0.5, "status_call", pick(rng, SYN_ONGOING, s)),
        np.where(general[s:], pick(rng, GENERAL_ACTIVITIES, r),
                 np.where(rng.random(r) < 0.01, "kickoff", pick(rng, SYN_ONGOING, r)))]).astype(object)
    requested = (~general) & (rng.random(k) < 0.02)
    notes_pick = rng.random(k) < 0.05
    appointment_col = pa.concat_arrays([pc.take(appt_ids, pa.array(owner, pa.int64())),
                                        pa.nulls(r, pa.string()).fill_null("")])
    order = np.argsort(start_s, kind="stable")
    cust_arr = pa.array(cust[order])
    entries = pa.table({
        "entry_id": _ids("E", first_entry, k, ctx["entry_width"]),
        "customer_id": pc.take(ctx["ids"], cust_arr),
        "customer_name": pc.take(names, cust_arr),
        "staff": pc.take(staff_names, pa.array(staff[order])),
        "started_at": _stamp_column(rng, start_s[order], 0.01),
        "minutes": format_fixed(np.maximum(micro, 1)[order], 6),
        "tier": pa.array(np.where(general, "general", "one_on_one")[order], pa.string()),
        "activity": pa.array(activity[order], pa.string()),
        "appointment_id": pc.take(appointment_col, pa.array(order)),
        "customer_requested": pa.array(np.where(requested, "true", "false")[order], pa.string()),
        "notes": pa.array(np.where(notes_pick, pick(rng, SYN_NOTES, k), "")[order].astype(object), pa.string()),
    })
    return entries, appointments


_WRITE = pacsv.WriteOptions(quoting_style="none", quoting_header="none")


def _writer(path: Path, columns: list[str]) -> pacsv.CSVWriter:
    schema = pa.schema([(c, pa.string()) for c in columns])
    try:
        return pacsv.CSVWriter(str(path), schema, write_options=_WRITE)
    except (OSError, pa.ArrowException) as exc:
        raise HourbankError(f"{path}: cannot write the file ({exc}).") from None


def _check_size(name: str, value, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise HourbankError(f"write_synthetic: '{name}' must be a whole number ≥ {least}, not {value!r}.")
    return int(value)


def write_synthetic(out_dir, entries: int, customers: int = 2000, years: int = 3,
                    purchases: int = 10000, seed: int = 1, end: dt.date | None = None,
                    chunk_rows: int = 1_000_000) -> dict:
    """Write a large synthetic export into out_dir, `chunk_rows` entries at a time (memory stays
    bounded); return the row count per file. Deterministic for the same arguments."""
    entries = _check_size("entries", entries, 0)
    customers = _check_size("customers", customers, 1)
    years = _check_size("years", years, 1)
    purchases = _check_size("purchases", purchases, 0)
    chunk_rows = _check_size("chunk_rows", chunk_rows, 1)
    path = output_folder(out_dir)
    end = end or dt.date.today()
    first = end - dt.timedelta(days=365 * years - 1)
    rng = np.random.default_rng(seed)

    index = np.arange(customers, dtype=np.int64)
    combos = len(SYN_WORDS) * len(SYN_KINDS)
    words = pc.take(pa.array(SYN_WORDS), pa.array(index % len(SYN_WORDS)))
    kinds = pc.take(pa.array(SYN_KINDS), pa.array((index // len(SYN_WORDS)) % len(SYN_KINDS)))
    series = pc.cast(pa.array(index // combos + 1), pa.string())
    names = pc.binary_join_element_wise(words, kinds, " ")
    names = pc.if_else(pa.array(index >= combos), pc.binary_join_element_wise(names, series, " "), names)
    ids = _ids("S", 1, customers, max(6, len(str(customers))))
    weights = rng.pareto(1.5, customers) + 0.2                   # a few big customers, a long tail
    cdf = np.cumsum(weights) / weights.sum()
    staff = pa.array([f"{f} {l}" for l in SYN_LAST for f in SYN_FIRST])
    with _writer(path / "customers.csv", CUSTOMER_COLUMNS) as w:
        w.write_table(pa.table({"customer_id": ids, "customer_name": names}))

    start_day = (first - dt.date(1970, 1, 1)).days
    n_days = (end - first).days + 1
    ctx = {"start_day": start_day, "n_days": n_days, "cdf": cdf, "names": names, "staff": staff,
           "ids": ids, "entry_width": max(8, len(str(entries))),
           "appt_width": max(8, len(str(entries)))}
    n_appts = 0
    with _writer(path / "time_entries.csv", ENTRY_COLUMNS) as we, \
            _writer(path / "appointments.csv", APPOINTMENT_COLUMNS) as wa:
        done = 0
        while done < entries:
            k = min(chunk_rows, entries - done)
            chunk, appts = _synthetic_chunk(rng, k, done + 1, n_appts + 1, ctx)
            we.write_table(chunk)
            wa.write_table(appts)
            done += k
            n_appts += appts.num_rows

    with _writer(path / "purchases.csv", PURCHASE_COLUMNS) as wp:
        done = 0
        while done < purchases:
            k = min(chunk_rows, purchases - done)
            # Bought from 60 days before the period on, so early work has blocks too (R7).
            day = start_day - 60 + rng.integers(0, n_days + 60, k)
            wall = day * 86_400 + rng.integers(8 * 3600, 18 * 3600, k) // 60 * 60
            stamps = _stamp_column(rng, wall, 0.02)
            dates = pc.utf8_slice_codeunits(format_wall(wall), 0, 10)
            stamps = pc.if_else(pa.array(rng.random(k) < 0.2), dates, stamps)
            hours100 = rng.choice(np.array([500, 1000, 2000, 250, 4000], dtype=np.int64), k,
                                  p=[0.3, 0.35, 0.25, 0.05, 0.05])
            cents = hours100 * rng.choice(np.array([130, 140, 150, 160], dtype=np.int64), k)
            amount = pc.if_else(pa.array(hours100 == 250), pa.scalar("", pa.string()),
                                format_fixed(cents, 2, keep_zeros=True))
            wp.write_table(pa.table({
                "purchase_id": _ids("P", done + 1, k, max(7, len(str(purchases)))),
                "customer_id": pc.take(ids, pa.array(np.minimum(
                    np.searchsorted(cdf, rng.random(k), side="right"), customers - 1))),
                "purchased_at": stamps, "hours": format_fixed(hours100, 2), "amount": amount}))
            done += k
    return {"time_entries": entries, "appointments": n_appts, "purchases": purchases,
            "customers": customers}
