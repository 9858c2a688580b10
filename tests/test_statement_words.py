"""The statement's texts in the internal and the customer copy's words (billing/statement_words.py)."""
import re

from billing import rules
from billing.policy import Policy
from billing.statement_words import day_explanation, fee_text, how_we_bill, ledger_text, paid_by_text

MIN = 60_000_000
POLICY = Policy().as_dict()


def test_a_day_in_both_copies():
    args = ([5 * MIN, 30 * MIN], 35 * MIN, 60 * MIN, [("S1", [45 * MIN])], 0,
            [(rules.LATE_CANCELLATION, "C1", 30 * MIN)], POLICY)
    assert day_explanation(*args, internal=True) == (
        "ad-hoc 5 min + 30 min = 35 min → rounded up to 1 h (R5, 30-min increments); "
        "session S1: 45 min as logged (R4); late cancellation fee 30 min for C1 (R6)")
    assert day_explanation(*args, internal=False) == (
        "ad-hoc work 5 min + 30 min = 35 min → rounded up to 1 h (daily total, in 30-min steps); "
        "session S1: 45 min as logged; late cancellation (less than 24 h notice) of appointment C1: 30 min")


def test_rounded_terms_that_do_not_add_up_say_so():
    # 4.6 + 4.6 = 9.2 min: each term shows 5 min, the sum 9 min.
    text = day_explanation([276_000_000, 276_000_000], 552_000_000, 30 * MIN, [], 0, [], POLICY, internal=False)
    assert text.startswith("ad-hoc work 5 min + 5 min = 9 min (each time rounded to the minute) → rounded up to 30 min")
    exact = day_explanation([5 * MIN, 30 * MIN], 35 * MIN, 60 * MIN, [], 0, [], POLICY, internal=False)
    assert "each time rounded" not in exact


def test_a_top_up_and_a_no_show():
    text = day_explanation([], 0, 0, [("S2", [20 * MIN])], 40 * MIN, [(rules.NO_SHOW, "N1", 30 * MIN)], POLICY,
                           internal=False)
    assert text == ("session S2: 20 min as logged; 40 min added: a session is billed at least its booked length; "
                    "no-show of appointment N1: 30 min")


def test_fee_words_take_the_notice_from_the_policy():
    assert fee_text(rules.LATE_CANCELLATION, Policy(cancellation_notice_hours=48).as_dict(), False) == \
        "late cancellation (less than 48 h notice)"
    assert fee_text(rules.LATE_CANCELLATION, Policy(cancellation_notice_hours=0.5).as_dict(), False) == \
        "late cancellation (less than 30 min notice)"
    assert fee_text(rules.NO_SHOW, POLICY, True) == "no-show (R6)"


def test_paid_by_and_the_ledger_in_both_copies():
    assert paid_by_text([("P1", 15 * MIN)], 15 * MIN, internal=True) == \
        "P1 15 min; 15 min uncovered (invoiced separately, R8)"
    assert paid_by_text([("P1", 15 * MIN)], 15 * MIN, internal=False) == \
        "P1 15 min; 15 min not covered by prepaid hours (invoiced separately)"
    assert paid_by_text([], 30 * MIN, internal=False) == "30 min not covered by prepaid hours (invoiced separately)"
    assert ledger_text("forfeited", False, purchase_id="P2", minutes=30 * MIN, expires_on="2026-05-02") == \
        "30 min left in P2 expired unused at the end of its last day, 2026-05-02"
    assert ledger_text("forfeited", True, purchase_id="P2", minutes=30 * MIN, expires_on="2026-05-02").endswith("(R9)")


def test_how_we_bill_says_the_policys_numbers_and_rule_ids_only_internally():
    policy = Policy(rounding_increment_minutes=15, hours_valid_days=60, cancellation_notice_hours=12,
                    late_cancellation_minutes=45, no_show_minutes=60, session_billing="at_least_booked").as_dict()
    customer = " ".join(how_we_bill(policy, internal=False))
    for text in ("whole 15-minute steps", "at least its booked length", "less than 12 h notice costs 45 min",
                 "(no-show) costs 1 h", "for 60 days"):
        assert text in customer, text
    assert not re.search(r"\bR\d+\b", customer)
    assert "(R5)" in " ".join(how_we_bill(policy, internal=True))
