"""Customer statements over time (RULES.md R10–R14): adjustments as their own lines with their
reasons, rollover and carried overage explained, late changes to closed days labelled, and a
statement of a closed period that stays what was closed. Every statement here must balance
(billing.statement._check_balances raises otherwise); the figures are worked out by hand on the
worked example (UTC):

P1 (120 min, Jan 10 → Apr 10) pays Jan 12 (60), Jan 13 (45) and 15 of the Jan 14 fee (30; 15
uncovered); P2 (60 min, Feb 1 → May 2) pays Feb 3 (30) and has 30 left; Feb 2 is 40 min of
free General Support.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pandas as pd
import pytest
from pypdf import PdfReader

from billing import closing
from billing.adjustments import record, void
from billing.exports import statement_csv, statement_pdf, statement_xlsx
from billing.policy import Policy, validate_policy
from billing.statement import build_statement
from billing.store import open_db
from tests.builders import Ledger, entry, purchase
from tests.test_over_time import worked

MIN = 60_000_000
T = date(2026, 4, 30)
UTC = Policy(timezone="UTC")
AT = datetime(2026, 5, 1, 9, 0)   # generated_at: fixed, so two builds can be compared byte for byte
LATER = date(2026, 5, 1)          # "today" for closing


def build(led, first, last, as_of=T, policy=None):
    with open_db(led.db, read_only=True) as con:
        return build_statement(con, policy or led.policy, "acme", first, last, as_of, generated_at=AT)


def minutes(us) -> float:
    return int(us) / MIN


def day_row(st, day: str, late_for: str | None = None):
    d = st.days[(st.days["day"].astype(str) == day)
                & ((st.days["late_for"].astype(str) == late_for) if late_for else st.days["late_for"].isna())]
    assert len(d) == 1, (day, late_for, st.days[["day", "late_for"]])
    return d.iloc[0]


def ledger(st, copy: str = "customer_description") -> list[tuple[str, str, float, float]]:
    return [(str(r.date), getattr(r, copy), minutes(r.minutes_us), minutes(r.balance_us))
            for r in st.ledger.itertuples()]


def customer_texts(st) -> str:
    """Every text of the customer's copy the statement holds."""
    return " | ".join([*st.days["customer_explanation"], *st.days["customer_paid_by"],
                       *st.ledger["customer_description"], *st.adjustments["customer_description"],
                       *st.adjustments["reason"], *st.fees["waived_reason"].dropna(),
                       *st.blocks["customer_about"], *st.blocks["customer_block"]])


def balanced(st) -> None:
    """The identities the statement promises, checked here again from its own tables."""
    b, t = st.blocks, st.totals
    bought = b["left_at_start_us"].isna()
    start = b["left_at_start_us"].fillna(0).astype("int64") + b["purchased_us"].where(bought, 0)
    assert (start - b["used_us"] - b["forfeited_us"] - b["rolled_over_us"] == b["left_at_end_us"]).all()
    assert int(b["left_at_end_us"].sum()) == st.closing_remaining_us
    assert st.opening_remaining_us + t["purchased_us"] + t["credited_us"] + t["carried_in_us"] - t["covered_us"] \
        - t["forfeited_us"] - t["rolled_over_us"] == st.closing_remaining_us
    assert t["billable_us"] == t["covered_us"] - t["earlier_owed_paid_us"] + t["uncovered_us"]
    assert (st.days["billable_us"] == st.days["covered_us"] + st.days["uncovered_us"]).all()
    assert st.ledger.iloc[-1]["balance_us"] == st.closing_remaining_us


# --------------------------------------------------------------------------- R10 adjustments
@pytest.fixture
def adjusted(tmp_path):
    """The worked example with one adjustment of each kind (numbers 1 to 5)."""
    led = worked(tmp_path, UTC)
    record(led.db, "waive", "C1", on=date(2026, 1, 20), by="Lead", reason="first late cancellation, goodwill",
           policy=UTC)
    record(led.db, "exclude", "e2", on=date(2026, 1, 20), by="Lead", reason="logged twice", policy=UTC)
    record(led.db, "credit", "acme", on=date(2026, 2, 2), minutes="90", by="Lead", reason="outage on Feb 1",
           policy=UTC)
    record(led.db, "charge", "acme", on=date(2026, 2, 3), minutes="12.5", by="Lead",
           reason="report written after the call", policy=UTC)
    record(led.db, "extend", "P2", on=date(2026, 2, 10), to_day=date(2026, 6, 30), by="Lead", reason="customer away",
           policy=UTC)
    return led


def test_adjustments_are_lines_of_their_own_with_their_reasons(adjusted):
    # By hand, Jan 1 – Feb 28 as of Apr 30: Jan 12 is Ann's 5 min alone (Bob's 30 excluded) → 30
    # billed; Jan 13 45; the Jan 14 fee is waived (no billed day); Feb 3 is 10 → 30 plus the
    # 12.5 min charge, never rounded: 42.5. The credit adj-3 (90 min, Feb 2 → May 3) and P2
    # (extended to Jun 30) expire after P1 (Apr 10), so P1 pays everything: 30 + 45 + 42.5 =
    # 117.5, leaving 2.5. Closing: 2.5 + 90 + 60 = 152.5.
    st = build(adjusted, date(2026, 1, 1), date(2026, 2, 28))
    balanced(st)
    t = st.totals
    assert (minutes(t["billable_us"]), minutes(t["covered_us"]), minutes(t["charged_us"]),
            minutes(t["purchased_us"]), minutes(t["credited_us"]), minutes(st.closing_remaining_us)) == (
        117.5, 117.5, 12.5, 180, 90, 152.5)
    assert [str(d) for d in st.days["day"]] == ["2026-01-12", "2026-01-13", "2026-02-03"]
    jan12, feb3 = day_row(st, "2026-01-12"), day_row(st, "2026-02-03")
    # The excluded entry is not in the sum the customer reads (5 → 30, not 35 → 1 h), and is named.
    assert jan12["customer_explanation"] == ("ad-hoc work 5 min → rounded up to 30 min (daily total, in 30-min "
                                             "steps); 30 min logged at 14:00 not counted — logged twice")
    assert "entry e2 (30 min) excluded by adjustment 2 (R10): logged twice" in jan12["explanation"]
    assert feb3["customer_explanation"].endswith("charge: 13 min — report written after the call")
    assert minutes(feb3["charged_us"]) == 12.5 and minutes(feb3["billable_us"]) == 42.5
    # The waived fee: listed, billing 0, with what it would have billed and why.
    fee = st.fees.set_index("appointment_id").loc["C1"]
    assert (fee["fee_us"], minutes(fee["waived_us"]), fee["waived_by"], fee["waived_reason"]) == (
        0, 30, 1, "first late cancellation, goodwill")
    # The excluded entry stays listed, as excluded.
    e2 = st.entries.set_index("entry_id").loc["e2"]
    assert (e2["kind"], e2["excluded_by"], e2["excluded_reason"]) == ("excluded", 2, "logged twice")
    # Each adjustment once, in the customer's words with its reason apart.
    assert [(r.adjustment_id, r.customer_description, r.reason) for r in st.adjustments.itertuples()] == [
        (1, "Late cancellation of C1 (less than 24 h notice) on 2026-01-14: 30 min — waived",
         "first late cancellation, goodwill"),
        (2, "Time logged on 2026-01-12 14:00 (30 min) not counted", "logged twice"),
        (3, "Credit: 1 h 30 min on 2026-02-02, usable through 2026-05-03", "outage on Feb 1"),
        (4, "Charge: 13 min on 2026-02-03", "report written after the call"),
        (5, "P2 extended to 2026-06-30 (its last day was 2026-05-02)", "customer away")]
    assert [None if pd.isna(v) else minutes(v) for v in st.adjustments["minutes_us"]] == [30, 30, 90, 12.5, None]
    # The credit and the extension are lines of the ledger.
    lines = ledger(st)
    # Balance: 120 − 30 − 45 (P1) + 60 (P2) = 105; + 90 = 195; − 42.5 on Feb 3 = 152.5.
    assert ("2026-02-02", "Credit: 1 h 30 min, usable through 2026-05-03 — outage on Feb 1", 90, 195) in lines
    assert ("2026-02-10", "P2 extended to 2026-06-30 — customer away", 0, 152.5) in lines
    blocks = st.blocks.set_index("purchase_id")
    assert blocks.loc["adj-3", "customer_block"] == "credit of 2026-02-02"
    assert blocks.loc["adj-3", "block"] == "credit (adjustment 3)"
    assert blocks.loc["P2", "customer_about"] == "last day extended from 2026-05-02: customer away"
    assert blocks.loc["adj-3", "customer_about"] == "outage on Feb 1"


def test_the_customer_copy_names_no_adjustment_and_no_rule(adjusted):
    st = build(adjusted, date(2026, 1, 1), date(2026, 2, 28))
    text = customer_texts(st)
    for reason in ("first late cancellation, goodwill", "logged twice", "outage on Feb 1", "customer away"):
        assert reason in text, reason
    assert "adjustment" not in text and "adj-" not in text and "e2" not in text
    assert not re.search(r"\bR\d{1,2}\b", text)
    internal = " | ".join([*st.days["explanation"], *st.ledger["description"], *st.adjustments["description"]])
    assert "adjustment 3" in internal and "(R10)" in internal


def test_an_adjustment_dated_after_the_statement_date_is_not_on_it(adjusted):
    # As of Jan 19 nothing is adjusted yet (the first is dated Jan 20): the fee bills, Bob's 30 min count.
    st = build(adjusted, date(2026, 1, 1), date(2026, 1, 19), as_of=date(2026, 1, 19))
    assert st.adjustments.empty and (st.entries["kind"] != "excluded").all()
    assert minutes(day_row(st, "2026-01-14")["billable_us"]) == 30
    assert "1 h" in day_row(st, "2026-01-12")["customer_explanation"]


def test_a_voided_waiver_is_gone_from_the_void_date(adjusted):
    void(adjusted.db, 1, on=date(2026, 3, 1), by="Lead", reason="charged by mistake", policy=UTC)
    before = build(adjusted, date(2026, 1, 1), date(2026, 1, 31), as_of=date(2026, 2, 28))
    after = build(adjusted, date(2026, 1, 1), date(2026, 1, 31), as_of=date(2026, 3, 1))
    assert 1 in set(before.adjustments["adjustment_id"]) and 1 not in set(after.adjustments["adjustment_id"])
    assert minutes(day_row(after, "2026-01-14")["fee_us"]) == 30
    balanced(after)


# --------------------------------------------------------------------------- R13 rollover
@pytest.fixture
def rolling(tmp_path):
    policy = Policy(timezone="UTC", rollover_days=30)
    return worked(tmp_path, policy, entries=[entry("e7", "2026-05-05T10:00:00", 10)])


def test_rollover_is_explained_and_balances(rolling):
    # April–May as of Jun 30. At the start of Apr 1, P1 has 0 left and P2 30: opening 30. P1
    # ends Apr 10 with nothing. P2 ends May 2 with 30: they move into P2~rollover (May 3 → Jun
    # 1), which pays May 5 (10 → 30). Closing 0; nothing forfeited.
    st = build(rolling, date(2026, 4, 1), date(2026, 5, 31), as_of=date(2026, 6, 30))
    balanced(st)
    assert ledger(st) == [
        ("2026-04-01", "prepaid time left at the start of the period", 30, 30),
        ("2026-05-02", "30 min left in P2 at the end of its last day, 2026-05-02, carried over (not forfeited): "
                       "usable through 2026-06-01", -30, 0),
        ("2026-05-03", "30 min carried from P2, usable through 2026-06-01", 30, 30),
        ("2026-05-05", "work of 2026-05-05 paid from the time carried from P2", -30, 0),
        ("2026-05-31", "prepaid time left at the end of the period", 0, 0)]
    t = st.totals
    assert (minutes(t["rolled_over_us"]), minutes(t["carried_in_us"]), minutes(t["forfeited_us"])) == (30, 30, 0)
    blocks = st.blocks.set_index("purchase_id")
    assert blocks.loc["P2", "status"] == "rolled_over" and minutes(blocks.loc["P2", "rolled_over_us"]) == 30
    assert blocks.loc["P2~rollover", "customer_block"] == "carried from P2"
    assert day_row(st, "2026-05-05")["customer_paid_by"] == "carried from P2 30 min"
    assert "rolled_over" not in customer_texts(st) and "~" not in customer_texts(st)


def test_a_capped_rollover_forfeits_the_rest(tmp_path):
    # Cap 10: of P2's 30, 10 roll over and 20 are forfeited at the end of May 2; May 5's 30 is
    # paid 10 by the rollover block, 20 uncovered.
    policy = Policy(timezone="UTC", rollover_days=30, rollover_max_minutes=10)
    led = worked(tmp_path, policy, entries=[entry("e7", "2026-05-05T10:00:00", 10)])
    st = build(led, date(2026, 5, 1), date(2026, 5, 31), as_of=date(2026, 6, 30))
    balanced(st)
    assert [(d, m, b) for d, _, m, b in ledger(st)] == [
        ("2026-05-01", 30, 30), ("2026-05-02", -10, 20), ("2026-05-02", -20, 0), ("2026-05-03", 10, 10),
        ("2026-05-05", -10, 0), ("2026-05-05", 0, 0), ("2026-05-31", 0, 0)]
    assert (minutes(st.totals["forfeited_us"]), minutes(st.totals["rolled_over_us"]),
            minutes(st.totals["uncovered_us"])) == (20, 10, 20)
    assert st.blocks.set_index("purchase_id").loc["P2", "status"] == "forfeited"


def test_a_rollover_at_the_periods_end_shows_on_the_next_statement(rolling):
    # April 1 – May 2 as of Jun 30: P2's 30 roll over at the end of May 2, the period's last day:
    # this statement closes at 0; the next one (from May 3) opens with the 30 carried in.
    april = build(rolling, date(2026, 4, 1), date(2026, 5, 2), as_of=date(2026, 6, 30))
    may = build(rolling, date(2026, 5, 3), date(2026, 5, 31), as_of=date(2026, 6, 30))
    balanced(april), balanced(may)
    assert (minutes(april.closing_remaining_us), minutes(april.totals["rolled_over_us"])) == (0, 30)
    assert (minutes(may.opening_remaining_us), minutes(may.totals["carried_in_us"])) == (0, 30)


# --------------------------------------------------------------------------- R14 carried overage
def test_owed_minutes_are_paid_by_the_next_purchase_and_say_so(tmp_path):
    led = worked(tmp_path, Policy(timezone="UTC", overage="carry"))
    # January as of Apr 30: at the end of January the Jan 14 fee's 15 uncovered minutes are
    # still owed (P2 is bought Feb 1), so January says so, and who paid them later.
    jan = build(led, date(2026, 1, 1), date(2026, 1, 31))
    balanced(jan)
    row = day_row(jan, "2026-01-14")
    assert (minutes(row["covered_us"]), minutes(row["uncovered_us"])) == (15, 15)
    assert row["customer_paid_by"] == ("P1 15 min; 15 min owed at the end of the period (the next purchase pays "
                                       "it first; paid by P2 on 2026-02-01)")
    assert (minutes(jan.totals["covered_us"]), minutes(jan.closing_remaining_us)) == (120, 0)
    # February: P2 pays the 15 owed on its purchase day, then Feb 3's 30: 15 left.
    feb = build(led, date(2026, 2, 1), date(2026, 2, 28))
    balanced(feb)
    assert ("2026-02-01", "15 min owed since 2026-01-14, paid by P2", -15, 45) in ledger(feb)
    assert (minutes(feb.totals["covered_us"]), minutes(feb.totals["earlier_owed_paid_us"]),
            minutes(feb.totals["billable_us"]), minutes(feb.closing_remaining_us)) == (45, 15, 30, 15)


def test_overage_carried_across_two_purchases(tmp_path):
    # P1 1 h (Jan 10). Jan 11: 150 → P1 pays 60, 90 owed. P2 1 h (Feb 1) pays 60 of them on Feb
    # 1. Feb 10: 10 → 30, owed too. P3 1 h (Mar 1) pays Jan 11's last 30, then Feb 10's 30.
    led = Ledger(tmp_path, Policy(timezone="UTC", overage="carry"))
    led.load(entries=[entry("a", "2026-01-11T10:00:00", 150), entry("b", "2026-02-10T10:00:00", 10)],
             purchases=[purchase("P1", "2026-01-10", 1), purchase("P2", "2026-02-01", 1),
                        purchase("P3", "2026-03-01", 1)])
    q1 = build(led, date(2026, 1, 1), date(2026, 3, 31), as_of=date(2026, 3, 31))
    balanced(q1)
    assert ledger(q1, "customer_description")[1:-1] == [
        ("2026-01-10", "purchase P1: 1 h, usable through 2026-04-10", 60, 60),
        ("2026-01-11", "work of 2026-01-11 paid from P1", -60, 0),
        ("2026-02-01", "purchase P2: 1 h, usable through 2026-05-02", 60, 60),
        ("2026-02-01", "1 h owed since 2026-01-11, paid by P2", -60, 0),
        ("2026-03-01", "purchase P3: 1 h, usable through 2026-05-30", 60, 60),
        ("2026-03-01", "30 min owed since 2026-01-11, paid by P3", -30, 30),
        ("2026-03-01", "30 min owed since 2026-02-10, paid by P3", -30, 0)]
    assert minutes(q1.totals["uncovered_us"]) == 0
    assert day_row(q1, "2026-01-11")["customer_paid_by"] == \
        "P1 1 h, P2 1 h (owed, paid on 2026-02-01), P3 30 min (owed, paid on 2026-03-01)"
    # February alone: P2 pays January's minutes (earlier owed); Feb 10 is still owed at its end.
    feb = build(led, date(2026, 2, 1), date(2026, 2, 28), as_of=date(2026, 3, 31))
    balanced(feb)
    t = feb.totals
    assert (minutes(t["billable_us"]), minutes(t["covered_us"]), minutes(t["earlier_owed_paid_us"]),
            minutes(t["uncovered_us"])) == (30, 60, 60, 30)


# --------------------------------------------------------------------------- R11 a dated change
def test_each_day_is_explained_with_its_own_rounding(tmp_path):
    # 15-minute rounding from Feb 3: Jan 12 is still 35 → 1 h in 30-min steps; Feb 3 is 10 → 15.
    policy = validate_policy({"timezone": "UTC", "change": [{"from": "2026-02-03", "rounding_increment_minutes": 15}]})
    led = worked(tmp_path, policy)
    st = build(led, date(2026, 1, 1), date(2026, 2, 28))
    balanced(st)
    assert day_row(st, "2026-01-12")["customer_explanation"].endswith("(daily total, in 30-min steps)")
    assert day_row(st, "2026-02-03")["customer_explanation"] == \
        "ad-hoc work 10 min → rounded up to 15 min (daily total, in 15-min steps)"
    how = " ".join(__import__("billing.statement_words", fromlist=["how_we_bill"]).how_we_bill(
        st.policy, False, st.period_from, st.through))
    assert "whole 30-minute steps" in how and "From 3 Feb 2026: ad-hoc work is added up per day and rounded up " \
                                               "to whole 15-minute steps." in how


# --------------------------------------------------------------------------- R12 closed periods
D = date(2026, 1, 31)


def files(st) -> dict:
    """What a statement is, for comparing two builds: both copies' CSV bytes and PDF text."""
    out = {}
    for internal in (False, True):
        out[f"csv{internal}"] = statement_csv(st, internal=internal)
        out[f"pdf{internal}"] = " ".join(p.extract_text() for p in
                                         PdfReader(io.BytesIO(statement_pdf(st, internal=internal))).pages)
    return out


def without_closed(csv: bytes) -> bytes:
    """A statement's CSV without its summary line about the close in force."""
    return b"\r\n".join(line for line in csv.split(b"\r\n") if not line.startswith(b"Closed,"))


def test_a_closed_month_is_reproduced_exactly_after_late_changes(tmp_path):
    led = worked(tmp_path, UTC)
    open_before = build(led, date(2026, 1, 1), date(2026, 1, 31), as_of=D)
    closing.close(led.db, D, UTC, by="Lead", today=LATER)
    closed_now = [build(led, date(2026, 1, 1), date(2026, 1, 31), as_of=D),
                  build(led, date(2026, 1, 1), date(2026, 1, 31))]
    # Closing changes nothing the customer reads, but the line that says the days are closed.
    assert without_closed(files(open_before)["csvFalse"]) == without_closed(files(closed_now[0])["csvFalse"])
    assert b"Closed,The figures through 31 Jan 2026 are closed" in files(closed_now[0])["csvFalse"]
    # Then a late entry (Jan 20), a deletion (Bob's Jan 12 entry), a waiver and an exclusion of
    # closed days, and a dated policy change.
    led.load(entries=[entry("late1", "2026-01-20T10:00:00", 10)])
    led.load(period=(date(2026, 1, 12), date(2026, 1, 12)), entries=[entry("e1", "2026-01-12T09:00:00", 5, staff="Ann")])
    record(led.db, "waive", "C1", on=date(2026, 2, 5), by="Lead", reason="goodwill", policy=UTC)
    record(led.db, "exclude", "e3", on=date(2026, 1, 25), by="Lead", reason="test session", policy=UTC)
    changed = UTC.with_dated_change(date(2026, 1, 1), rounding_increment_minutes=15)
    for before, as_of in zip(closed_now, (D, T)):
        for policy in (UTC, changed):
            after = build(led, date(2026, 1, 1), date(2026, 1, 31), as_of=as_of, policy=policy)
            assert files(after) == files(before), (as_of, policy)
            assert after.days.equals(before.days) and after.ledger.equals(before.ledger)
            assert after.totals == before.totals and after.data_version == before.data_version
    jan = closed_now[1]
    assert jan.fully_closed and jan.closed_through == D and jan.closing_id == 1
    assert day_row(jan, "2026-01-12")["customer_explanation"].startswith("ad-hoc work 5 min + 30 min = 35 min")
    assert "Late change" not in " ".join(jan.days["customer_explanation"]) and jan.days["late_for"].isna().all()


def test_the_next_statement_shows_the_late_changes(tmp_path):
    led = worked(tmp_path, UTC)
    closing.close(led.db, D, UTC, by="Lead", today=LATER)
    led.load(entries=[entry("late1", "2026-01-20T10:00:00", 10)])
    led.load(period=(date(2026, 1, 12), date(2026, 1, 12)), entries=[entry("e1", "2026-01-12T09:00:00", 5, staff="Ann")])
    record(led.db, "waive", "C1", on=date(2026, 2, 5), by="Lead", reason="goodwill", policy=UTC)
    # February as of Apr 30, by hand: on Feb 1 (D + 1) Jan 20 posts +30 (10 → 30, never
    # rounded again); Jan 12 would now be 5 → 30 instead of 60: a credit of 30; Jan 14's fee is
    # waived: a credit of 30. Both credits and P2 are bought Feb 1 and end May 2; "P2" sorts
    # first and pays Feb 1's 30 and Feb 3's 30. Closing: the two credits, 60.
    feb = build(led, date(2026, 2, 1), date(2026, 2, 28))
    balanced(feb)
    late = day_row(feb, "2026-02-01", "2026-01-20")
    assert late["customer_explanation"] == ("Late change for 2026-01-20, posted after the books were closed through "
                                            "2026-01-31: +30 min — ad-hoc work +10 min logged, +30 min billed")
    assert late["explanation"].startswith("late change for 2026-01-20, posted after the books were closed through "
                                          "2026-01-31 (R12): +30 min")
    assert late["customer_paid_by"] == "P2 30 min"
    lines = ledger(feb)
    assert ("2026-02-01", "Credit for a late change to 2026-01-12, after the books were closed through 2026-01-31: "
                          "30 min, usable through 2026-05-02 — ad-hoc work −30 min logged, −30 min billed",
            30, 90) in lines
    assert ("2026-02-01", "Credit for a late change to 2026-01-14, after the books were closed through 2026-01-31: "
                          "30 min, usable through 2026-05-02 — cancellation and no-show fees −30 min; the fee of "
                          "appointment C1 waived: goodwill", 30, 120) in lines
    assert (minutes(feb.totals["credited_us"]), minutes(feb.totals["covered_us"]),
            minutes(feb.closing_remaining_us)) == (60, 60, 60)
    # The waiver that made the credit is among the period's adjustments, with its reason.
    assert list(feb.adjustments["reason"]) == ["goodwill"]
    # Issued, its figures keep the late row apart from its day's own row.
    from billing.statement import statement_figures
    assert statement_figures(feb)["days"] == {"2026-02-01 late for 2026-01-20": [30 * MIN, 30 * MIN, 0],
                                              "2026-02-03": [30 * MIN, 30 * MIN, 0]}
    assert feb.closed_through == D and not feb.fully_closed


def test_a_late_change_reads_the_same_once_its_month_is_closed_too(tmp_path):
    led = worked(tmp_path, UTC)
    closing.close(led.db, D, UTC, by="Lead", today=LATER)
    led.load(entries=[entry("late1", "2026-01-20T10:00:00", 10)])
    record(led.db, "charge", "acme", on=date(2026, 1, 22), minutes="5", by="Lead", reason="call notes", policy=UTC)
    led.load(period=(date(2026, 1, 12), date(2026, 1, 12)), entries=[entry("e1", "2026-01-12T09:00:00", 5, staff="Ann")])
    feb_open = build(led, date(2026, 2, 1), date(2026, 2, 28))
    closing.close(led.db, date(2026, 2, 28), UTC, by="Lead", today=LATER)
    feb_closed = build(led, date(2026, 2, 1), date(2026, 2, 28))
    assert feb_closed.fully_closed
    assert feb_closed.days[["day", "customer_explanation", "explanation"]].equals(
        feb_open.days[["day", "customer_explanation", "explanation"]])
    assert without_closed(files(feb_closed)["csvFalse"]) == without_closed(files(feb_open)["csvFalse"])
    assert feb_closed.ledger[["date", "description", "customer_description"]].equals(
        feb_open.ledger[["date", "description", "customer_description"]])
    assert any("Credit for a late change to 2026-01-12" in t and "ad-hoc work −30 min logged, −30 min billed" in t
               for t in feb_closed.ledger["customer_description"])
    assert "charges +5 min; a charge of 5 min: call notes" in day_row(feb_closed, "2026-02-01", "2026-01-22")[
        "customer_explanation"]


def test_a_statement_of_a_closed_period_no_longer_fails(tmp_path):
    # The closed snapshot has no top-up column; a statement as of a closed day used to stop on it.
    led = worked(tmp_path, UTC)
    closing.close(led.db, D, UTC, by="Lead", today=LATER)
    st = build(led, date(2026, 1, 1), date(2026, 1, 31), as_of=date(2026, 1, 20))
    balanced(st)
    assert minutes(st.totals["billable_us"]) == 60 + 45 + 30


# --------------------------------------------------------------------------- the documents
def _pdf(st, internal=False) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(statement_pdf(st, internal=internal)))
                             .pages).split())


def test_the_documents_carry_the_adjustments_in_each_copys_words(adjusted):
    import openpyxl

    st = build(adjusted, date(2026, 1, 1), date(2026, 2, 28))
    customer_pdf, internal_pdf = _pdf(st), _pdf(st, internal=True)
    for text in ("Late cancellation of C1 (less than 24 h notice) on 14 Jan 2026: 30 min — waived: first late "
                 "cancellation, goodwill", "Credit: 1 h 30 min, usable through 3 May 2026 — outage on Feb 1",
                 "P2 extended to 30 Jun 2026 — customer away", "not counted — logged twice",
                 "Credited (corrections and late changes) + 1 h 30 min", "Corrections (adjustments)"):
        assert text in customer_pdf, text
    customer_csv = statement_csv(st).decode("utf-8-sig")
    customer_xlsx = openpyxl.load_workbook(io.BytesIO(statement_xlsx(st)))
    cells = " ".join(str(c.value) for ws in customer_xlsx.worksheets for row in ws.iter_rows() for c in row
                     if c.value is not None and not c.is_date)
    for text in (customer_pdf, customer_csv, cells):
        assert "first late cancellation, goodwill" in text and "outage on Feb 1" in text
        assert not re.search(r"\badjustment \d", text) and "adj-" not in text
        assert not re.search(r"\bR\d{1,2}\b", text)
        assert not re.search(r"\b(late_credit|rolled_over|owed_paid|carried_in|excluded)\b", text)
    assert "waived by adjustment 1 (R10): first late cancellation, goodwill" in internal_pdf
    assert "adjustment 3" in statement_csv(st, internal=True).decode("utf-8-sig")
    adjustments = [r for r in customer_xlsx["Adjustments"].iter_rows(min_row=3, values_only=True)]
    assert [(r[1], r[2], r[3]) for r in adjustments][2] == (
        "Credit: 1 h 30 min on 2 Feb 2026, usable through 3 May 2026", "outage on Feb 1", 90)


def test_the_documents_explain_rollover_carry_and_late_changes(rolling, tmp_path):
    roll = _pdf(build(rolling, date(2026, 4, 1), date(2026, 5, 31), as_of=date(2026, 6, 30)))
    assert "30 min carried from P2, usable through 1 Jun 2026" in roll
    assert "carried over (not forfeited): usable through 1 Jun 2026" in roll
    assert "Carried over into new blocks + 30 min" in roll and "Carried over out of ended blocks − 30 min" in roll

    led = worked(tmp_path / "carry", Policy(timezone="UTC", overage="carry"))
    feb = build(led, date(2026, 2, 1), date(2026, 2, 28))
    text = _pdf(feb)
    assert "15 min owed since 14 Jan 2026, paid by P2" in text and "Owed from before the period, paid in it" in text
    jan = _pdf(build(led, date(2026, 1, 1), date(2026, 1, 31)))
    assert "Owed at the end of the period 15 min" in jan

    led = worked(tmp_path / "late", UTC)
    closing.close(led.db, D, UTC, by="Lead", today=LATER)
    led.load(entries=[entry("late1", "2026-01-20T10:00:00", 10)])
    text = _pdf(build(led, date(2026, 2, 1), date(2026, 2, 28)))
    assert ("Late change for 20 Jan 2026, posted after the books were closed through 31 Jan 2026: +30 min — ad-hoc "
            "work +10 min logged, +30 min billed") in text
    closed = _pdf(build(led, date(2026, 1, 1), date(2026, 1, 31)))
    assert "The figures through 31 Jan 2026 are closed: a later correction to them appears on a later statement " \
           "as a late change." in closed
    assert "Books closed through 2026-01-31 (closing 1, by Lead" in _pdf(build(led, date(2026, 1, 1),
                                                                               date(2026, 1, 31)), internal=True)


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
A_CELL_OF_A_DATE_COLUMN = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}( [+-]\d{2}:?\d{2}| Z)?)?")


def test_the_customer_copy_writes_dates_as_people_read_them(adjusted):
    """Issue 11: the customer copy's sentences say "14 Jan 2026", never "2026-01-14"; the
    CSV's and XLSX's date columns stay ISO (typed: machine-readable); the internal copy keeps ISO."""
    import openpyxl

    st = build(adjusted, date(2026, 1, 1), date(2026, 2, 28))
    pdf = _pdf(st)
    assert not ISO_DAY.search(pdf), ISO_DAY.findall(pdf)
    assert "Period: 1 Jan 2026 to 28 Feb 2026" in pdf and "on 14 Jan 2026: 30 min — waived" in pdf
    assert "Late cancellation of C1 (less than 24 h notice) on 2026-01-14" in _pdf(st, internal=True)
    rows = list(csv.reader(io.StringIO(statement_csv(st).decode("utf-8-sig"))))
    in_sentences = [c for r in rows for c in r if ISO_DAY.search(c) and not A_CELL_OF_A_DATE_COLUMN.fullmatch(c)]
    assert not in_sentences, in_sentences
    assert ["First day", "2026-01-01"] == rows[[r[:1] for r in rows].index(["First day"])][:2]   # a value: ISO
    book = openpyxl.load_workbook(io.BytesIO(statement_xlsx(st)))
    texts = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    in_sentences = [t for t in texts if ISO_DAY.search(t) and not A_CELL_OF_A_DATE_COLUMN.fullmatch(t)]
    assert not in_sentences, in_sentences
    assert any(c.is_date for ws in book.worksheets for row in ws.iter_rows() for c in row)


def test_a_credit_has_one_name_on_every_line_of_the_customer_copy(tmp_path):
    # The credit adj-1 (90 min, bought Feb 2, last day May 3) is extended on Apr 15 to Jul 31.
    # Apr 20 bills 90 min (ad-hoc 90, already whole 30-min steps): P1 ended Apr 10, P2 (60 min,
    # last day May 2) has 30 left after Feb 3 and pays them first, then the credit 60. Every line
    # of April's customer copy that
    # names the credit calls it by its own day, Feb 2, never by the line's day, and no line
    # names an adjustment number.
    led = worked(tmp_path, UTC, entries=[entry("e6", "2026-04-20T10:00:00", 90)])
    record(led.db, "credit", "acme", on=date(2026, 2, 2), minutes="90", by="Lead", reason="outage on Feb 1",
           policy=UTC)
    record(led.db, "extend", "adj-1", on=date(2026, 4, 15), to_day=date(2026, 7, 31), by="Lead",
           reason="customer away", policy=UTC)
    st = build(led, date(2026, 4, 1), date(2026, 4, 30))
    balanced(st)
    text = customer_texts(st)
    assert set(re.findall(r"credit of (\d{4}-\d{2}-\d{2})", text)) == {"2026-02-02"}
    assert "adjustment" not in text and "adj-" not in text
    assert ("2026-04-15", "credit of 2026-02-02 extended to 2026-07-31 — customer away", 0, 120) in ledger(st)
    assert [(r.customer_description, r.reason) for r in st.adjustments.itertuples()] == [
        ("Credit: 1 h 30 min on 2026-02-02, usable through 2026-07-31", "outage on Feb 1"),
        ("credit of 2026-02-02 extended to 2026-07-31 (its last day was 2026-05-03)", "customer away")]
    apr20 = day_row(st, "2026-04-20")
    assert "credit of 2026-02-02" in apr20["customer_paid_by"] and "P2" in apr20["customer_paid_by"]
