"""RULES.md "Over time" in the engine: R10 adjustments, R11 dated policy changes, R13
rollover, R14 carried overage, each at its edges on the worked example (UTC, T = 2026-04-30),
with the figures worked out by hand in the comments.

The worked example without any of this: P1 (120 min, Jan 10 → Apr 10) pays Jan 12 (60),
Jan 13 (45) and 15 of the Jan 14 fee (30; 15 uncovered); P2 (60 min, Feb 1 → May 2) pays
Feb 3 (30) and has 30 left as of T.
"""
from datetime import date

import pandas as pd
import pytest

from billing.adjusting import ADJUSTMENT_COLUMNS
from billing.policy import Policy, validate_policy
from tests.builders import Ledger, appointment, entry, purchase

T = date(2026, 4, 30)
MIN = 60_000_000


def adjustments(*rows) -> pd.DataFrame:
    """In-force adjustments (billing.adjusting columns): (id, kind, target, on_day, extra)."""
    out = []
    for n, kind, target, on, extra in rows:
        out.append({"adjustment_id": n, "kind": kind, "target": target, "customer_id": "acme",
                    "on_day": date.fromisoformat(on), "to_day": extra if kind == "extend" else None,
                    "minutes_us": int(extra * MIN) if kind in ("credit", "charge") else None, "reason": "test"})
    frame = pd.DataFrame(out, columns=ADJUSTMENT_COLUMNS)
    frame["adjustment_id"] = frame["adjustment_id"].astype("int64")
    return frame


def worked(tmp_path, policy: Policy = Policy(timezone="UTC"), entries=(), purchases=()) -> Ledger:
    led = Ledger(tmp_path, policy)
    led.load(
        entries=[entry("e1", "2026-01-12T09:00:00", 5, staff="Ann"),
                 entry("e2", "2026-01-12T14:00:00", 30, staff="Bob"),
                 entry("e3", "2026-01-13T10:00:00", 45, appointment_id="S1"),
                 entry("e4", "2026-02-02T10:00:00", 40, tier="general"),
                 entry("e5", "2026-02-03T10:00:00", 10), *entries],
        appointments=[appointment("S1", "2026-01-13T10:00:00", 60, "completed"),
                      appointment("C1", "2026-01-14T15:00:00", 60, "cancelled",
                                  cancelled_at="2026-01-14T05:00:00", cancelled_by="customer")],
        purchases=[purchase("P1", "2026-01-10", 2), purchase("P2", "2026-02-01", 1), *purchases])
    return led


def books(led: Ledger, as_of=T, adj=None, policy=None):
    from billing.reports import compute_books
    from billing.store import open_db

    with open_db(led.db, read_only=True) as con:
        return compute_books(con, policy or led.policy, as_of, adjustments=adj)


def blocks(b) -> dict:
    """purchase_id → (status, used, forfeited, remaining, rolled over) in minutes."""
    return {r.purchase_id: (r.status, r.used_us / MIN, r.forfeited_us / MIN, r.remaining_us / MIN,
                            r.rolled_over_us / MIN) for r in b.blocks.itertuples()}


def day(b, d: str) -> dict:
    row = b.days[b.days["day"] == pd.Timestamp(d)]
    assert len(row) == 1, d
    r = row.iloc[0]
    return {k: r[k + "_us"] / MIN for k in ("billable", "covered", "uncovered", "fee", "charged", "adhoc_billed")}


def balanced(b) -> None:
    """purchased + credited = used + forfeited + rolled over + remaining, per block (R9, R13);
    billable = covered + uncovered per day (R8)."""
    k = b.blocks
    assert (k["purchased_us"] == k["used_us"] + k["forfeited_us"] + k["rolled_over_us"] + k["remaining_us"]).all()
    assert (b.days["billable_us"] == b.days["covered_us"] + b.days["uncovered_us"]).all()


# --------------------------------------------------------------------------- R10
def test_waive_makes_the_fee_zero(tmp_path):
    # Without the Jan 14 fee (its day has nothing else: no row), P1 pays 60 + 45 and 15 of
    # Feb 3's 30 (it expires first), P2 the other 15.
    b = books(worked(tmp_path), adj=adjustments((1, "waive", "C1", "2026-01-20", None)))
    assert not (b.days["day"] == pd.Timestamp("2026-01-14")).any()
    assert blocks(b)["P1"] == ("used_up", 120, 0, 0, 0)
    assert blocks(b)["P2"] == ("active", 15, 0, 45, 0)
    assert b.appointments.set_index("appointment_id").loc["C1", "waived_by"] == 1
    balanced(b)


# Waive the Jan 14 fee and exclude Feb 3's entry: P1 pays 60 + 45 and ends Apr 10 with 15
# left; P2 is never drawn (60 left, last day May 2).
P1_LEFT_15 = adjustments((1, "waive", "C1", "2026-01-20", None), (2, "exclude", "e5", "2026-02-05", None))


def test_extend_turns_a_forfeiture_back_into_remaining_minutes(tmp_path):
    led = worked(tmp_path)
    assert blocks(books(led, adj=P1_LEFT_15))["P1"] == ("forfeited", 105, 15, 0, 0)
    # P1 extended to May 10: later than P2's May 2 though bought earlier (drawn in order).
    extended = pd.concat([P1_LEFT_15, adjustments((3, "extend", "P1", "2026-04-01", date(2026, 5, 10)))])
    b = books(led, adj=extended)
    assert blocks(b)["P1"] == ("active", 105, 0, 15, 0)
    assert blocks(b)["P2"] == ("active", 0, 0, 60, 0)
    k = b.blocks.set_index("purchase_id")
    assert (k.loc["P1", "expires_on"], k.loc["P1", "base_expires_on"]) == (date(2026, 5, 10), date(2026, 4, 10))
    balanced(b)


def test_extend_changes_the_drawing_order(tmp_path):
    # Waive only, P1 extended to May 10: on Feb 3 P2 (May 2) now expires first and pays all 30;
    # P1 keeps 15.
    adj = adjustments((1, "waive", "C1", "2026-01-20", None), (3, "extend", "P1", "2026-04-01", date(2026, 5, 10)))
    b = books(worked(tmp_path), adj=adj)
    assert blocks(b)["P1"] == ("active", 105, 0, 15, 0)
    assert blocks(b)["P2"] == ("active", 30, 0, 30, 0)


def test_a_credit_is_a_block_drawn_first_by_its_expiry(tmp_path):
    # adj-7: 60 min bought Jan 13, last day Apr 13. Jan 14 fee 30: 15 from P1 (Apr 10), 15
    # from adj-7. Feb 3: P2 (May 2) and adj-7 (Apr 13) valid: adj-7 first, 30. adj-7 has 15
    # left, forfeited after Apr 13; P2 untouched; nothing uncovered.
    b = books(worked(tmp_path), adj=adjustments((7, "credit", "acme", "2026-01-13", 60)))
    k = blocks(b)
    assert k["adj-7"] == ("forfeited", 45, 15, 0, 0)
    assert k["P1"] == ("used_up", 120, 0, 0, 0)
    assert k["P2"] == ("active", 0, 0, 60, 0)
    assert day(b, "2026-01-14")["uncovered"] == 0
    assert b.blocks.set_index("purchase_id").loc["adj-7", "kind"] == "credit"
    balanced(b)


def test_a_charge_is_billable_on_its_day_and_never_rounded(tmp_path):
    adj = adjustments((3, "charge", "acme", "2026-02-03", 12.5), (4, "charge", "acme", "2026-02-10", 12.5))
    b = books(worked(tmp_path), adj=adj)
    # Feb 3: ad hoc 10 → 30 (R5), plus 12.5 charged as is: 42.5, all from P2.
    assert day(b, "2026-02-03") == {"billable": 42.5, "covered": 42.5, "uncovered": 0, "fee": 0,
                                    "charged": 12.5, "adhoc_billed": 30}
    # Feb 10 has nothing but the charge: a row of its own, 12.5 (not rounded to 30).
    assert day(b, "2026-02-10") == {"billable": 12.5, "covered": 12.5, "uncovered": 0, "fee": 0,
                                    "charged": 12.5, "adhoc_billed": 0}
    assert blocks(b)["P2"] == ("active", 55, 0, 5, 0)
    balanced(b)


def test_an_excluded_entry_counts_toward_nothing(tmp_path):
    # Without Bob's 30 min, Jan 12 is 5 raw → 30 billed; P1 pays 30 + 45 + 30 (the whole fee)
    # and 15 of Feb 3; P2 the other 15; nothing uncovered. The entry stays listed, excluded.
    b = books(worked(tmp_path), adj=adjustments((5, "exclude", "e2", "2026-02-01", None)))
    assert day(b, "2026-01-12")["adhoc_billed"] == 30
    assert day(b, "2026-01-14")["uncovered"] == 0
    assert blocks(b)["P1"] == ("used_up", 120, 0, 0, 0)
    assert blocks(b)["P2"] == ("active", 15, 0, 45, 0)


def test_the_report_shows_charged_minutes(tmp_path):
    from billing.reports import daily_frame

    b = books(worked(tmp_path), adj=adjustments((3, "charge", "acme", "2026-02-10", 12.5)))
    d = daily_frame(b)
    assert d.set_index(d["day"].dt.strftime("%Y-%m-%d")).loc["2026-02-10", "charged_us"] == 12.5 * MIN


# --------------------------------------------------------------------------- R11
def changed(**settings_by_day) -> Policy:
    return validate_policy({"timezone": "UTC", "change": [{"from": d, **s} for d, s in settings_by_day.items()]})


def test_a_rounding_change_splits_at_its_day(tmp_path):
    # 15-minute rounding from Feb 3: Jan 12 stays 35 → 60; Feb 3 is 10 → 15; one day earlier
    # (Feb 2, an added 10 min) is still rounded to 30.
    policy = validate_policy({"timezone": "UTC", "change": [{"from": "2026-02-03", "rounding_increment_minutes": 15}]})
    led = worked(tmp_path, policy, entries=[entry("e6", "2026-02-02T11:00:00", 10)])
    b = books(led)
    assert day(b, "2026-01-12")["adhoc_billed"] == 60
    assert day(b, "2026-02-02")["adhoc_billed"] == 30
    assert day(b, "2026-02-03")["adhoc_billed"] == 15
    assert blocks(b)["P2"] == ("active", 45, 0, 15, 0)


def test_validity_follows_the_setting_on_the_purchase_day(tmp_path):
    # 30-day validity from Feb 1: P1 (Jan 10) keeps 90 days (Apr 10); P2 (Feb 1) lasts to Mar 3,
    # so its 30 left are forfeited as of T.
    policy = validate_policy({"timezone": "UTC", "change": [{"from": "2026-02-01", "hours_valid_days": 30}]})
    b = books(worked(tmp_path, policy))
    k = b.blocks.set_index("purchase_id")
    assert (k.loc["P1", "expires_on"], k.loc["P2", "expires_on"]) == (date(2026, 4, 10), date(2026, 3, 3))
    assert blocks(b)["P2"] == ("forfeited", 30, 30, 0, 0)


def test_fee_settings_follow_the_appointments_day(tmp_path):
    # From Jan 14 a late cancellation costs 20: P1 pays 60 + 45 + 15, 5 uncovered.
    b = books(worked(tmp_path, changed(**{"2026-01-14": {"late_cancellation_minutes": 20}})))
    assert day(b, "2026-01-14") == {"billable": 20, "covered": 15, "uncovered": 5, "fee": 20, "charged": 0,
                                    "adhoc_billed": 0}
    # A day later it would not apply yet.
    b = books(worked(tmp_path / "b", changed(**{"2026-01-15": {"late_cancellation_minutes": 20}})))
    assert day(b, "2026-01-14")["fee"] == 30
    # 8 h notice from Jan 14: cancelled 10 h before, it is free.
    b = books(worked(tmp_path / "c", changed(**{"2026-01-14": {"cancellation_notice_hours": 8}})))
    assert not (b.days["day"] == pd.Timestamp("2026-01-14")).any() or day(b, "2026-01-14")["fee"] == 0


def test_a_dated_change_is_validated_and_names_itself():
    from billing.policy import PolicyError

    with pytest.raises(PolicyError, match="timezone"):
        validate_policy({"change": [{"from": "2027-01-01", "timezone": "UTC"}]})
    with pytest.raises(PolicyError, match="increase"):
        validate_policy({"change": [{"from": "2027-02-01", "no_show_minutes": 1},
                                    {"from": "2027-01-01", "no_show_minutes": 2}]})
    with pytest.raises(PolicyError, match="rounding"):
        validate_policy({"change": [{"from": "2027-01-01", "rounding": 15}]})
    with pytest.raises(PolicyError, match="'from'"):
        validate_policy({"change": [{"no_show_minutes": 1}]})
    p = Policy().with_dated_change(date(2027, 1, 1), rounding_increment_minutes=15)
    assert p.on(date(2026, 12, 31)).rounding_increment_minutes == 30
    assert p.on(date(2027, 1, 1)).rounding_increment_minutes == 15
    assert p.fingerprint() != Policy().fingerprint()


# --------------------------------------------------------------------------- R13
def test_rollover_moves_what_is_left_into_a_block_named_after_it(tmp_path):
    # P1~rollover: 15 min bought Apr 11, usable through May 10; P1 rolled over, nothing
    # forfeited; the summary counts purchases once (180), not the rollover block: remaining
    # 15 + P2's 60.
    from billing.reports import summary_frame

    b = books(worked(tmp_path, Policy(timezone="UTC", rollover_days=30)), adj=P1_LEFT_15)
    k = blocks(b)
    assert k["P1"] == ("rolled_over", 105, 0, 0, 15)
    assert k["P1~rollover"] == ("active", 0, 0, 15, 0)
    row = b.blocks.set_index("purchase_id").loc["P1~rollover"]
    assert (row["purchased_on"], row["expires_on"], row["kind"]) == (date(2026, 4, 11), date(2026, 5, 10), "rollover")
    s = summary_frame(b).iloc[0]
    assert (s["purchased_us"], s["remaining_us"], s["forfeited_us"]) == (180 * MIN, 75 * MIN, 0)
    balanced(b)


def test_rollover_with_a_cap_forfeits_the_rest(tmp_path):
    b = books(worked(tmp_path, Policy(timezone="UTC", rollover_days=30, rollover_max_minutes=10)), adj=P1_LEFT_15)
    assert blocks(b)["P1"] == ("forfeited", 105, 5, 0, 10)
    assert blocks(b)["P1~rollover"] == ("active", 0, 0, 10, 0)


def test_rollover_blocks_pay_in_expiry_order_and_never_roll_again(tmp_path):
    # As of Jun 30: P1~rollover (15, Apr 11 → May 10); P2 ends May 2 with 60 left → P2~rollover
    # (May 3 → Jun 1). May 5, ad hoc 10 → 30: 15 from P1~rollover (earlier expiry), 15 from
    # P2~rollover, which ends Jun 1 with 45: forfeited, never rolled again.
    led = worked(tmp_path, Policy(timezone="UTC", rollover_days=30), entries=[entry("e7", "2026-05-05T10:00:00", 10)])
    b = books(led, as_of=date(2026, 6, 30), adj=P1_LEFT_15)
    k = blocks(b)
    assert k["P1~rollover"] == ("used_up", 15, 0, 0, 0)
    assert k["P2"] == ("rolled_over", 0, 0, 0, 60)
    assert k["P2~rollover"] == ("forfeited", 15, 45, 0, 0)
    assert not any(p.count("~rollover") > 1 for p in k)
    assert day(b, "2026-05-05")["covered"] == 30
    balanced(b)


def test_no_rollover_before_its_first_day(tmp_path):
    # As of Apr 10 (P1's last day) P1 is still active with 15: nothing has rolled over yet.
    b = books(worked(tmp_path, Policy(timezone="UTC", rollover_days=30)), as_of=date(2026, 4, 10), adj=P1_LEFT_15)
    assert "P1~rollover" not in blocks(b) and blocks(b)["P1"] == ("active", 105, 0, 15, 0)


# --------------------------------------------------------------------------- R14
def test_carried_overage_is_paid_by_the_next_block_on_its_purchase_day(tmp_path):
    # Jan 14: 15 uncovered, owed. P2 (Feb 1) pays them first, then Feb 3's 30: P2 has 15 left.
    led = worked(tmp_path, Policy(timezone="UTC", overage="carry"))
    before = books(led, as_of=date(2026, 1, 31))
    assert day(before, "2026-01-14")["uncovered"] == 15  # still owed: P2 not bought yet
    b = books(led)
    assert day(b, "2026-01-14") == {"billable": 30, "covered": 30, "uncovered": 0, "fee": 30, "charged": 0,
                                    "adhoc_billed": 0}
    assert blocks(b)["P2"] == ("active", 45, 0, 15, 0)
    paid = b.draws[(b.draws["purchase_id"] == "P2") & (b.draws["day"] == pd.Timestamp("2026-01-14"))]
    assert len(paid) == 1 and paid.iloc[0]["drawn_us"] == 15 * MIN and paid.iloc[0]["paid_on"] == pd.Timestamp("2026-02-01")
    balanced(b)


def test_overage_carried_across_two_purchases_oldest_first(tmp_path):
    # P1 1 h (Jan 10). Jan 11: ad hoc 150 → 60 covered, 90 owed. P2 1 h (Feb 1) pays 60 of
    # them (30 still owed from Jan 11). Feb 10: 10 → 30, P2 empty: owed too. P3 1 h (Mar 1)
    # pays Jan 11's 30 first, then Feb 10's 30. As of Mar 31 nothing is uncovered.
    led = Ledger(tmp_path, Policy(timezone="UTC", overage="carry"))
    led.load(entries=[entry("a", "2026-01-11T10:00:00", 150), entry("b", "2026-02-10T10:00:00", 10)],
             purchases=[purchase("P1", "2026-01-10", 1), purchase("P2", "2026-02-01", 1),
                        purchase("P3", "2026-03-01", 1)])
    mid = books(led, as_of=date(2026, 2, 28))
    assert (day(mid, "2026-01-11")["uncovered"], day(mid, "2026-02-10")["uncovered"]) == (30, 30)
    b = books(led, as_of=date(2026, 3, 31))
    assert (day(b, "2026-01-11")["covered"], day(b, "2026-02-10")["covered"]) == (150, 30)
    assert {k: v[:2] for k, v in blocks(b).items()} == {"P1": ("used_up", 60), "P2": ("used_up", 60),
                                                       "P3": ("used_up", 60)}
    p3 = b.draws[b.draws["purchase_id"] == "P3"].sort_values("day")
    assert list(p3["drawn_us"] // MIN) == [30, 30] and list(p3["day"].dt.strftime("%m-%d")) == ["01-11", "02-10"]
    balanced(b)


def test_report_mode_keeps_overage_uncovered(tmp_path):
    b = books(worked(tmp_path))
    assert day(b, "2026-01-14")["uncovered"] == 15 and blocks(b)["P2"] == ("active", 30, 0, 30, 0)


def test_a_charge_on_books_with_no_other_day_and_one_dated_after_t(tmp_path):
    # As of Jan 5 nothing else has happened: the charge of Jan 3 is the only row (no block
    # yet: uncovered); the one dated Jan 9 is not in force yet (R10).
    adj = adjustments((1, "charge", "acme", "2026-01-03", 20), (2, "charge", "acme", "2026-01-09", 10))
    b = books(worked(tmp_path), as_of=date(2026, 1, 5), adj=adj)
    assert day(b, "2026-01-03") == {"billable": 20, "covered": 0, "uncovered": 20, "fee": 0, "charged": 20,
                                    "adhoc_billed": 0}
    assert len(b.days) == 1


# ------------------------------------------------- R8 with an extension: where the scan holds
def _out_of_order_books(p0_minutes: int):
    """acme: P0 (bought Dec 15, last day Mar 15), P2 (Feb 1 → May 2), P1 (Jan 1, extended
    from Apr 1 to Jun 30: bought before P2 but drawn after it, R8). From Jan 1 to Jan 31 P1
    is valid while P2 is not bought yet. Jan 10 bills 60 min, Feb 10 bills 60 min."""
    from billing import ledger

    policy = Policy(timezone="UTC", hours_valid_days=90)
    purchases = pd.DataFrame({
        "purchase_id": ["P0", "P1", "P2"], "customer_id": ["acme"] * 3,
        "purchase_day": [date(2025, 12, 15), date(2026, 1, 1), date(2026, 2, 1)],
        "purchased_utc": pd.to_datetime(["2025-12-15", "2026-01-01", "2026-02-01"]),
        "minutes_us": [p0_minutes * MIN, 600 * MIN, 600 * MIN]})
    blocks = ledger.make_blocks(purchases, policy, extended_to=pd.Series({"P1": date(2026, 6, 30)}, dtype=object))
    days = pd.DataFrame({"customer_id": ["acme", "acme"],
                         "day": pd.to_datetime(["2026-01-10", "2026-02-10"]).astype("datetime64[us]"),
                         "billable_us": [60 * MIN, 60 * MIN]})
    scanned = ledger._scan(days, blocks.assign(rolled_over_us=0, source=None), policy)
    per_day, draws, _ = ledger.draw_books(days, blocks, policy)
    drawn = {(r.day.strftime("%m-%d"), r.purchase_id): r.drawn_us / MIN for r in draws.itertuples()}
    return scanned[2], list(per_day["covered_us"] / MIN), drawn


def test_an_extended_block_outside_the_scan_while_earlier_blocks_cover_the_day():
    # P0 has 600 min: R8 draws Jan 10 from P0 (the earliest last day), not from P1; the scan
    # does the same, so nobody is drawn again. Feb 10: P0 (Mar 15) first again.
    first_wrong, covered, drawn = _out_of_order_books(600)
    assert first_wrong == {}
    assert covered == [60, 60]
    assert drawn == {("01-10", "P0"): 60, ("02-10", "P0"): 60}


def test_an_extended_block_pays_what_earlier_blocks_cannot():
    # P0 has 30 min: Jan 10 takes its 30, and R8 takes the other 30 from P1 (valid since
    # Jan 1, not yet after P2 in anything but drawing order). The scan would leave 30 min
    # uncovered, so acme is drawn again from Jan 10. Feb 10: P2 (May 2) before P1 (Jun 30).
    first_wrong, covered, drawn = _out_of_order_books(30)
    assert first_wrong == {"acme": date(2026, 1, 10)}
    assert covered == [60, 60]
    assert drawn == {("01-10", "P0"): 30, ("01-10", "P1"): 30, ("02-10", "P2"): 60}
