"""The demo export follows FORMATS.md and shows what RULES.md is about.

Files are read by tests/formats_check.py (written from FORMATS.md alone), and the block
checks use a small independent upper bound of billable minutes, not the engine.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal

import pytest

from billing.demo import write_demo
from billing.errors import HourbankError
from tests.formats_check import COLUMNS, SEED_ACTIVITIES, TIMESTAMP, TODAY, business_day, check_export, instant

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


def test_output_folder_that_is_a_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HourbankError, match="file"):
        write_demo(blocker, today=TODAY)
