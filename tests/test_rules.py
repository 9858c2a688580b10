"""R1–R9 at their edges, each through a real database and the engine's reports."""
from datetime import date

import pytest

from billing.policy import Policy
from billing.reports import compute_books
from billing.rules import round_daily
from billing.store import open_db
from tests.builders import Ledger, appointment, entry, purchase

T = date(2026, 12, 31)
MIN = 60_000_000


@pytest.fixture
def led(tmp_path):
    return Ledger(tmp_path, Policy(timezone="UTC"))


# ----------------------------------------------------------------------------- R5 rounding
@pytest.mark.parametrize("minutes, billed", [(30, "30.00"), (31, "60.00"), (60, "60.00"), (90, "90.00"),
                                             (1, "30.00"), ("0.000001", "30.00")])
def test_r5_daily_sum_rounds_up_to_the_increment(led, minutes, billed):
    led.load(entries=[entry("e1", "2026-03-02T10:00", minutes)])
    assert led.day(T, "2026-03-02")["adhoc_billed_minutes"] == billed


def test_r5_round_daily_zero_stays_zero():
    assert list(round_daily([0, 1, 30 * MIN, 30 * MIN + 1], 30 * MIN)) == [0, 30 * MIN, 30 * MIN, 60 * MIN]


def test_r3_r5_several_staff_on_one_day_are_pooled_before_rounding(led):
    led.load(entries=[entry("e1", "2026-03-02T09:00", 10, staff="Ann"),
                      entry("e2", "2026-03-02T09:00", 10, staff="Bob"),
                      entry("e3", "2026-03-02T15:00", 11, staff="Cat", customer_requested="yes")])
    d = led.day(T, "2026-03-02")
    assert (d["adhoc_raw_minutes"], d["adhoc_billed_minutes"]) == ("31.00", "60.00")


def test_r5_fifty_entries_of_0_6_min_bill_30_not_60(led):
    # 50 × 0.6 = 30 exactly; a float sum gives 30.000000000000004 → 60.
    led.load(entries=[entry(f"e{i}", "2026-03-02T09:00", "0.6") for i in range(50)])
    d = led.day(T, "2026-03-02")
    assert (d["adhoc_raw_minutes"], d["adhoc_billed_minutes"]) == ("30.00", "30.00")
    assert sum([0.6] * 50) > 30  # the trap this test guards against


def test_r5_six_decimal_minutes_are_exact(led):
    led.load(entries=[entry(f"e{i}", "2026-03-02T09:00", "0.016667") for i in range(3)])
    books = led.books(T)
    assert int(books.days["adhoc_raw_us"].iloc[0]) == 3 * 1_000_020  # 0.016667 min = 1,000,020 µs


def test_r5_customers_are_rounded_separately(led):
    led.load(entries=[entry("e1", "2026-03-02T09:00", 5, customer="a"),
                      entry("e2", "2026-03-02T09:00", 5, customer="b")])
    assert led.day(T, "2026-03-02", customer="a")["adhoc_billed_minutes"] == "30.00"
    assert led.day(T, "2026-03-02", customer="b")["adhoc_billed_minutes"] == "30.00"


# ----------------------------------------------------------------------------- R1 business day
def test_r1_entry_started_2350_belongs_to_its_start_day_even_past_midnight(led):
    led.load(entries=[entry("e1", "2026-03-02T23:50", 40)])
    daily = led.report("daily", T)
    assert list(daily["day"]) == ["2026-03-02"]
    assert daily.iloc[0]["adhoc_billed_minutes"] == "60.00"


def test_r1_offset_timestamp_lands_on_the_local_day(tmp_path):
    led = Ledger(tmp_path, Policy(timezone="America/New_York"))
    # 02:30 UTC on 3 March is 21:30 on 2 March in New York.
    led.load(entries=[entry("e1", "2026-03-03T02:30:00Z", 20), entry("e2", "2026-03-02T21:00:00-05:00", 20)])
    daily = led.report("daily", T)
    assert list(daily["day"]) == ["2026-03-02"]
    assert daily.iloc[0]["adhoc_raw_minutes"] == "40.00"


def test_r1_same_database_other_zone_other_days_without_reimport(tmp_path):
    led = Ledger(tmp_path, Policy(timezone="UTC"))
    led.load(entries=[entry("e1", "2026-03-03T02:30:00Z", 20)])
    assert list(led.report("daily", T)["day"]) == ["2026-03-03"]
    assert list(led.report("daily", T, policy=Policy(timezone="America/New_York"))["day"]) == ["2026-03-02"]


def test_r1_wall_time_without_offset_keeps_its_written_date_on_dst_days(tmp_path):
    led = Ledger(tmp_path, Policy(timezone="America/New_York"))
    # 02:30 does not exist on 8 March 2026 in New York; 01:30 happens twice on 1 November.
    led.load(entries=[entry("e1", "2026-03-08T02:30", 10), entry("e2", "2026-11-01T01:30", 10)])
    assert list(led.report("daily", T)["day"]) == ["2026-03-08", "2026-11-01"]


def test_r1_as_of_excludes_later_days_in_every_report(led):
    led.load(entries=[entry("e1", "2026-03-02T10:00", 10), entry("e2", "2026-03-05T10:00", 10)],
             purchases=[purchase("P1", "2026-03-04", 1)])
    as_of = date(2026, 3, 3)
    assert list(led.report("daily", as_of)["day"]) == ["2026-03-02"]
    assert led.report("blocks", as_of).empty
    assert led.report("summary", as_of).iloc[0]["billable_minutes"] == "30.00"


def test_r1_customer_with_nothing_on_or_before_t_has_no_summary_row(led):
    led.load(entries=[entry("e1", "2026-03-05T10:00", 10, customer="later")])
    assert led.report("summary", date(2026, 3, 4)).empty


# ----------------------------------------------------------------------------- R2, R3
def test_r2_general_is_never_billable_even_with_an_active_plan(led):
    led.load(entries=[entry("e1", "2026-03-02T10:00", 45, tier="general")],
             purchases=[purchase("P1", "2026-03-01", 5)])
    as_of = date(2026, 3, 31)
    assert led.report("daily", as_of).empty
    s = led.report("summary", as_of).iloc[0]
    assert (s["billable_minutes"], s["nonbillable_minutes"], s["remaining_minutes"]) == ("0.00", "45.00", "300.00")


def test_r3_customer_requested_extra_person_is_billable_and_labelled(led):
    led.load(entries=[entry("e1", "2026-03-02T10:00", 30, staff="Ann"),
                      entry("e2", "2026-03-02T10:00", 30, staff="Bob", customer_requested="true")])
    assert led.day(T, "2026-03-02")["adhoc_billed_minutes"] == "60.00"


# ----------------------------------------------------------------------------- R4 sessions
def test_r4_session_work_is_never_rounded_nor_pooled(led):
    led.load(entries=[entry("e1", "2026-03-02T10:00", 45, appointment_id="S1"),
                      entry("e2", "2026-03-02T12:00", 5)],
             appointments=[appointment("S1", "2026-03-02T10:00", 60)])
    d = led.day(T, "2026-03-02")
    assert (d["session_minutes"], d["adhoc_billed_minutes"], d["billable_minutes"]) == ("45.00", "30.00", "75.00")


@pytest.mark.parametrize("appt, reason", [
    (None, "is not in the data"),
    (appointment("S1", "2026-03-02T10:00", 60, customer="other"), "belongs to customer other"),
    (appointment("S1", "2026-03-02T10:00", 60, status="scheduled"), "appointment S1 is scheduled"),
])
def test_r4_entry_is_held_until_its_appointment_is_completed_and_then_released(led, appt, reason):
    led.load(entries=[entry("e1", "2026-03-02T10:00", 45, appointment_id="S1"),
                      entry("e2", "2026-03-02T11:00", 20, appointment_id="S1", tier="general")],
             appointments=[appt] if appt else [])
    assert led.report("daily", T).empty
    review = led.report("review", T)
    held = review[review["item"] == "entry"]
    assert set(held["id"]) == {"e1", "e2"} and all(reason in r for r in held["issue"])
    s = led.report("summary", T)
    # A held entry counts toward nothing, not even a summary row (the other customer's
    # appointment gives that customer one).
    assert "acme" not in set(s["customer_id"]) or s.set_index("customer_id").loc["acme", "nonbillable_minutes"] == "0.00"
    # A later export completes the appointment: the entries are released.
    led.load(appointments=[appointment("S1", "2026-03-02T10:00", 60, "completed")])
    d = led.day(T, "2026-03-02")
    assert d["session_minutes"] == "45.00"
    assert led.report("summary", T).set_index("customer_id").loc["acme", "nonbillable_minutes"] == "20.00"


@pytest.mark.parametrize("logged, billed", [(40, "60.00"), (60, "60.00"), (75, "75.00")])
def test_r4_at_least_booked_bills_the_booked_length_at_least(tmp_path, logged, billed):
    led = Ledger(tmp_path, Policy(timezone="UTC", session_billing="at_least_booked"))
    led.load(entries=[entry("e1", "2026-03-02T10:00", logged, appointment_id="S1")],
             appointments=[appointment("S1", "2026-03-02T10:00", 60)])
    assert led.day(T, "2026-03-02")["session_minutes"] == billed
    # The same database under the default `logged` bills what was logged (R4).
    assert led.day(T, "2026-03-02", policy=Policy(timezone="UTC"))["session_minutes"] == f"{logged}.00"


def test_r4_at_least_booked_session_with_no_time_bills_booked_on_the_scheduled_day(tmp_path):
    led = Ledger(tmp_path, Policy(timezone="UTC", session_billing="at_least_booked"))
    led.load(appointments=[appointment("S1", "2026-03-02T10:00", 50)])
    assert led.day(T, "2026-03-02")["session_minutes"] == "50.00"


def test_r4_logged_session_with_no_time_bills_nothing_and_is_listed_for_review(led):
    led.load(appointments=[appointment("S1", "2026-03-02T10:00", 50)])
    assert led.report("daily", T).empty
    review = led.report("review", T)
    assert list(review["id"]) == ["S1"] and "no 1-on-1 time" in review.iloc[0]["issue"]


@pytest.mark.parametrize("logged, listed", [
    ([], True),
    ([entry("g1", "2026-03-02T10:00", 30, tier="general", appointment_id="S1")], True),   # general time only
    ([entry("o1", "2026-03-02T10:00", 30, customer="beta", appointment_id="S1")], True),  # another customer's
    ([entry("l1", "2027-01-05T10:00", 30, appointment_id="S1")], True),                   # logged after T
    ([entry("s1", "2026-03-02T10:00", 30, appointment_id="S1")], False),                  # its own 1-on-1 time
], ids=["nothing", "general-only", "other-customer", "after-T", "logged"])
def test_review_lists_a_completed_session_without_its_own_1_on_1_time(led, logged, listed):
    led.load(entries=logged, appointments=[appointment("S1", "2026-03-02T10:00", 50)])
    review = led.report("review", T)
    assert ("S1" in set(review.loc[review["item"] == "appointment", "id"])) == listed
    assert led.report("review", T, customer="acme").equals(review[review["customer_id"] == "acme"]
                                                            .reset_index(drop=True))


def test_review_lists_past_scheduled_appointments_and_tiny_entries(led):
    led.load(entries=[entry("e1", "2026-03-02T10:00", "0.5")],
             appointments=[appointment("S9", "2026-03-01T10:00", 60, "scheduled"),
                           appointment("S10", "2027-01-05T10:00", 60, "scheduled")])
    review = led.report("review", T)
    assert set(review["id"]) == {"e1", "S9"}


# ----------------------------------------------------------------------------- R6 fees
@pytest.mark.parametrize("cancelled_at, by, fee", [
    ("2026-03-01T10:00", "customer", "0.00"),      # exactly 24 h before: free
    ("2026-03-01T10:01", "customer", "30.00"),     # 23 h 59 min before
    ("2026-03-02T10:30", "customer", "30.00"),     # after the start
    ("2026-03-02T09:00", "staff", "0.00"),         # staff cancellations never cost
    ("2026-03-02T09:00", "", "30.00"),             # empty = customer
])
def test_r6_cancellation_notice(led, cancelled_at, by, fee):
    led.load(appointments=[appointment("C1", "2026-03-02T10:00", 60, "cancelled",
                                       cancelled_at=cancelled_at, cancelled_by=by)])
    daily = led.report("daily", T)
    got = daily.iloc[0]["fee_minutes"] if len(daily) else "0.00"
    assert got == fee


def test_r6_no_show_costs_30_and_scheduled_costs_nothing(led):
    led.load(appointments=[appointment("N1", "2026-03-02T10:00", 60, "no_show"),
                           appointment("S1", "2026-03-03T10:00", 60, "scheduled", cancelled_at="2026-03-03T09:00")])
    daily = led.report("daily", T)
    assert list(zip(daily["day"], daily["fee_minutes"])) == [("2026-03-02", "30.00")]


def test_r6_notice_across_a_dst_change_is_real_elapsed_time(tmp_path):
    led = Ledger(tmp_path, Policy(timezone="America/New_York"))
    # Clocks go forward at 02:00 on 8 March 2026: 09:30 on the 7th to 09:30 on the 8th
    # reads as 24 h on the wall but is 23 real hours: a late cancellation.
    led.load(appointments=[
        appointment("C1", "2026-03-08T09:30", 60, "cancelled", cancelled_at="2026-03-07T09:30"),
        # Clocks go back on 1 November: 24 wall hours are 25 real hours: free.
        appointment("C2", "2026-11-01T09:30", 60, "cancelled", cancelled_at="2026-10-31T10:00"),
    ])
    daily = led.report("daily", T)
    assert list(zip(daily["day"], daily["fee_minutes"])) == [("2026-03-08", "30.00")]


def test_r6_fee_is_dated_on_the_start_day_and_not_pooled(led):
    led.load(entries=[entry("e1", "2026-03-02T09:00", 10)],
             appointments=[appointment("C1", "2026-03-02T10:00", 60, "cancelled", cancelled_at="2026-03-01T20:00")])
    d = led.day(T, "2026-03-02")
    assert (d["adhoc_billed_minutes"], d["fee_minutes"], d["billable_minutes"]) == ("30.00", "30.00", "60.00")


def test_r6_fee_settings_are_exact(tmp_path):
    led = Ledger(tmp_path, Policy(timezone="UTC", late_cancellation_minutes=12.5, cancellation_notice_hours=48))
    led.load(appointments=[appointment("C1", "2026-03-03T10:00", 60, "cancelled", cancelled_at="2026-03-02T10:00")])
    assert led.day(T, "2026-03-03")["fee_minutes"] == "12.50"


# ----------------------------------------------------------------------------- R7–R9 ledger
def test_r7_purchase_on_the_day_of_the_work_pays_for_it(led):
    led.load(entries=[entry("e1", "2026-03-02T09:00", 30)], purchases=[purchase("P1", "2026-03-02T17:00", 1)])
    assert led.day(T, "2026-03-02")["covered_minutes"] == "30.00"


def test_r8_one_day_paid_by_two_blocks_oldest_expiry_first(led):
    led.load(entries=[entry("e1", "2026-03-10T09:00", 90)],
             purchases=[purchase("P2", "2026-03-05", 1), purchase("P1", "2026-03-01", "0.5")])
    books = led.books(T)
    assert list(zip(books.draws["purchase_id"], books.draws["drawn_us"] // MIN)) == [("P1", 30), ("P2", 60)]


def test_r8_same_expiry_ties_go_by_purchase_instant_then_id(led):
    led.load(entries=[entry("e1", "2026-03-10T09:00", 30)],
             purchases=[purchase("B", "2026-03-01T08:00", 1), purchase("A", "2026-03-01T09:00", 1),
                        purchase("C", "2026-03-01", 1)])  # a plain date is local midnight: first
    assert list(led.books(T).draws["purchase_id"]) == ["C"]
    led.load(purchases=[purchase("C", "2026-03-01T10:00", 1)])  # now B is the earliest instant
    assert list(led.books(T).draws["purchase_id"]) == ["B"]


def test_r8_overage_is_uncovered_and_never_drawn_from_a_later_purchase(led):
    led.load(entries=[entry("e1", "2026-03-02T09:00", 60), entry("e2", "2026-03-09T09:00", 30)],
             purchases=[purchase("P1", "2026-03-01", "0.5"), purchase("P2", "2026-03-05", 1)])
    assert led.day(T, "2026-03-02")["uncovered_minutes"] == "30.00"
    b = led.report("blocks", T).set_index("purchase_id")
    assert b.loc["P2", "used_minutes"] == "30.00"


def test_r9_block_whose_last_day_is_t_is_active_and_expiring_today(led):
    led.load(purchases=[purchase("P1", "2026-01-01", 1)])
    t = date(2026, 4, 1)  # 2026-01-01 + 90 days
    b = led.books(t).blocks.iloc[0]
    assert (b["status"], b["days_left"], bool(b["expiring_soon"]), b["remaining_us"]) == ("active", 0, True, 60 * MIN)
    b2 = led.books(date(2026, 4, 2)).blocks.iloc[0]
    assert (b2["status"], b2["forfeited_us"], b2["remaining_us"]) == ("forfeited", 60 * MIN, 0)


def test_r9_expiring_window_is_a_setting(led):
    led.load(purchases=[purchase("P1", "2026-01-01", 1)])
    t = date(2026, 3, 1)  # 31 days before expiry
    assert not bool(led.books(t).blocks.iloc[0]["expiring_soon"])
    assert bool(led.books(t, policy=Policy(timezone="UTC", expiring_window_days=31)).blocks.iloc[0]["expiring_soon"])


def test_r9_used_up_even_after_expiry(led):
    led.load(entries=[entry("e1", "2026-01-02T09:00", 60)], purchases=[purchase("P1", "2026-01-01", 1)])
    b = led.report("blocks", T).iloc[0]
    assert (b["status"], b["forfeited_minutes"], b["remaining_minutes"]) == ("used_up", "0.00", "0.00")


def test_policy_what_if_15_minute_increment_needs_no_reimport(led):
    led.load(entries=[entry("e1", "2026-03-02T09:00", 5)])
    assert led.day(T, "2026-03-02")["adhoc_billed_minutes"] == "30.00"
    assert led.day(T, "2026-03-02", policy=Policy(timezone="UTC", rounding_increment_minutes=15))[
        "adhoc_billed_minutes"] == "15.00"


def test_books_after_a_callers_half_read_query_on_the_same_connection(led):
    """A caller may leave a result half read (fetchone); the engine's queries still run, with
    the same figures as on a fresh connection."""
    led.load(entries=[entry("e1", "2026-03-02T10:00", 25)], appointments=[
        appointment("C1", "2026-03-03T10:00", 60, "cancelled", cancelled_at="2026-03-03T09:00")])
    with open_db(led.db, read_only=True) as con:
        assert con.execute("SELECT entry_id FROM time_entries").fetchone() == ("e1",)
        books = compute_books(con, led.policy, T)
    assert books.days["billable_us"].tolist() == led.books(T).days["billable_us"].tolist() == [30 * MIN, 30 * MIN]


@pytest.mark.parametrize("ids", [
    ["e1", "e2"],
    ["O'Brien-7", "Müller 12", "株式会社-3", "a,b", "x]y", " spaced "],
    ["with\x1fseparator", "plain"],  # the separator inside an id: the list literal instead
    [],
])
def test_an_id_set_holds_exactly_the_ids_given(ids):
    # R10 excludes entries by id: the set the SQL sees must be the ids, no more, no fewer.
    import duckdb

    from billing.rules import id_set_sql

    got = duckdb.sql(f"SELECT * FROM ({id_set_sql(ids)}) t(x)").fetchall()
    assert sorted(r[0] for r in got) == sorted(ids)
    assert duckdb.sql(f"SELECT 'e1' NOT IN ({id_set_sql(ids)})").fetchall()[0][0] is ("e1" not in ids)
