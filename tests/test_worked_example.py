"""RULES.md "Worked example" (timezone UTC, defaults, T = 2026-04-30), row by row."""
from datetime import date

import pytest

from billing.policy import Policy
from tests.builders import Ledger, appointment, entry, purchase

T = date(2026, 4, 30)


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    led = Ledger(tmp_path_factory.mktemp("worked"), Policy(timezone="UTC"))
    led.load(
        entries=[
            entry("e1", "2026-01-12T09:00:00", 5, staff="Ann"),
            entry("e2", "2026-01-12T14:00:00", 30, staff="Bob"),
            entry("e3", "2026-01-13T10:00:00", 45, appointment_id="S1"),
            entry("e4", "2026-02-02T10:00:00", 40, tier="general"),
            entry("e5", "2026-02-03T10:00:00", 10),
        ],
        appointments=[
            appointment("S1", "2026-01-13T10:00:00", 60, "completed"),
            # cancelled by the customer 10 h before the start
            appointment("C1", "2026-01-14T15:00:00", 60, "cancelled",
                        cancelled_at="2026-01-14T05:00:00", cancelled_by="customer"),
        ],
        purchases=[purchase("P1", "2026-01-10", 2), purchase("P2", "2026-02-01", 1)],
    )
    return led


def test_p1_is_a_block_of_120_minutes_usable_through_2026_04_10(acme):  # R7
    b = acme.report("blocks", T).set_index("purchase_id")
    assert b.loc["P1", "purchased_minutes"] == "120.00"
    assert b.loc["P1", "expires_on"] == "2026-04-10"


def test_jan_12_ad_hoc_5_plus_30_is_35_billed_60(acme):  # R3, R5
    d = acme.day(T, "2026-01-12")
    assert (d["adhoc_raw_minutes"], d["adhoc_billed_minutes"], d["billable_minutes"]) == ("35.00", "60.00", "60.00")
    assert d["covered_minutes"] == "60.00"


def test_jan_13_session_45_billed_as_logged(acme):  # R4
    d = acme.day(T, "2026-01-13")
    assert (d["session_minutes"], d["adhoc_billed_minutes"], d["billable_minutes"]) == ("45.00", "0.00", "45.00")


def test_jan_14_late_cancellation_fee_30_15_from_p1_15_uncovered(acme):  # R6, R8
    d = acme.day(T, "2026-01-14")
    assert (d["fee_minutes"], d["covered_minutes"], d["uncovered_minutes"]) == ("30.00", "15.00", "15.00")
    draws = acme.books(T).draws
    jan14 = draws[draws["day"].astype(str) == "2026-01-14"]
    assert list(zip(jan14["purchase_id"], jan14["drawn_us"])) == [("P1", 15 * 60_000_000)]


def test_p2_block_of_60_expires_2026_05_02(acme):  # R7
    b = acme.report("blocks", T).set_index("purchase_id")
    assert (b.loc["P2", "purchased_minutes"], b.loc["P2", "expires_on"]) == ("60.00", "2026-05-02")


def test_feb_2_general_support_not_billable(acme):  # R2
    daily = acme.report("daily", T)
    assert "2026-02-02" not in set(daily["day"])
    s = acme.report("summary", T).iloc[0]
    assert s["nonbillable_minutes"] == "40.00"


def test_feb_3_ad_hoc_10_billed_30_from_p2(acme):  # R5, R8
    d = acme.day(T, "2026-02-03")
    assert (d["adhoc_raw_minutes"], d["adhoc_billed_minutes"], d["covered_minutes"]) == ("10.00", "30.00", "30.00")


def test_as_of_april_30_p1_used_up_p2_active_30_left_expiring_in_2_days(acme):  # R9
    b = acme.report("blocks", T).set_index("purchase_id")
    assert b.loc["P1", "status"] == "used_up"
    assert (b.loc["P2", "status"], b.loc["P2", "remaining_minutes"]) == ("active", "30.00")
    books = acme.books(T).blocks.set_index("purchase_id")
    assert bool(books.loc["P2", "expiring_soon"]) and books.loc["P2", "days_left"] == 2
    s = acme.report("summary", T).iloc[0]
    assert s.to_dict() == {
        "customer_id": "acme", "purchased_minutes": "180.00", "billable_minutes": "165.00",
        "covered_minutes": "150.00", "uncovered_minutes": "15.00", "forfeited_minutes": "0.00",
        "remaining_minutes": "30.00", "fee_minutes": "30.00", "nonbillable_minutes": "40.00",
        "next_expiry": "2026-05-02", "expiring_minutes": "30.00"}


def test_if_p1_had_20_left_they_would_be_forfeited_after_april_10(tmp_path):  # R9 note
    led = Ledger(tmp_path, Policy(timezone="UTC"))
    led.load(entries=[entry("e1", "2026-04-10T17:00:00", 100, appointment_id="S1")],
             appointments=[appointment("S1", "2026-04-10T17:00:00", 90)],
             purchases=[purchase("P1", "2026-01-10", 2)])
    # P1 can still pay for work on 2026-04-10 itself (a 100-minute session, R4) ...
    assert led.day(T, "2026-04-10")["covered_minutes"] == "100.00"
    b = led.report("blocks", T).set_index("purchase_id")
    assert (b.loc["P1", "forfeited_minutes"], b.loc["P1", "status"]) == ("20.00", "forfeited")
    # ... and as of its last day the 20 minutes are still there.
    b10 = led.report("blocks", date(2026, 4, 10)).set_index("purchase_id")
    assert (b10.loc["P1", "remaining_minutes"], b10.loc["P1", "status"]) == ("20.00", "active")
    # ... and for nothing after it.
    led.load(entries=[entry("e2", "2026-04-11T09:00:00", 10)])
    assert led.day(T, "2026-04-11")["uncovered_minutes"] == "30.00"
