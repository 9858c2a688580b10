"""R12 closed periods on the worked example (UTC), figures by hand.

Closed through Jan 31 (D), the closed days are: Jan 12 (60, covered 60), Jan 13 (45, 45),
Jan 14 (fee 30: 15 covered by P1, 15 uncovered); P1 is used up. P2 (60 min, Feb 1 → May 2)
is bought after D. Every later change to a closed day posts on Feb 1 (D + 1).
"""
from datetime import date

import pandas as pd
import pytest

from billing import closing
from billing.policy import Policy
from billing.reports import compute_books, report
from billing.store import open_db
from tests.builders import Ledger, appointment, entry, purchase
from tests.test_over_time import adjustments, blocks, day, worked

D = date(2026, 1, 31)
T = date(2026, 4, 30)
MIN = 60_000_000
POLICY = Policy(timezone="UTC")


def closed(tmp_path, through=D) -> Ledger:
    led = worked(tmp_path, POLICY)
    closing.close(led.db, through, POLICY, by="Lead")
    return led


def daily_csv(led, as_of=T) -> list[str]:
    from billing.reports import report_table

    with open_db(led.db, read_only=True) as con:
        t = report_table(con, "daily", POLICY, as_of).to_pandas()
    return [",".join(r) for r in t.astype(str).itertuples(index=False)]


def closed_rows(rows, through=D) -> list[str]:
    return [r for r in rows if r.split(",")[1] <= through.isoformat()]


def books(led, as_of=T, adj=None):
    with open_db(led.db, read_only=True) as con:
        return compute_books(con, POLICY, as_of, adjustments=adj)


def late(b) -> pd.DataFrame:
    return b.days[b.days["late_for"].notna()]


def test_closing_changes_no_figure(tmp_path):
    led = worked(tmp_path, POLICY)
    before = daily_csv(led)
    closing.close(led.db, D, POLICY, by="Lead")
    assert daily_csv(led) == before
    assert blocks(books(led))["P2"] == ("active", 30, 0, 30, 0)


def test_a_late_entry_posts_on_the_first_open_day_and_the_closed_days_stay(tmp_path):
    led = closed(tmp_path)
    frozen = closed_rows(daily_csv(led))
    led.load(entries=[entry("late1", "2026-01-20T10:00:00", 10)])
    rows = daily_csv(led)
    assert closed_rows(rows) == frozen  # byte for byte
    # Jan 20: 10 min ad hoc → 30 billed, posted on Feb 1 labelled for Jan 20 and drawn from P2
    # (bought that day), which then pays Feb 3's 30 too: used up.
    assert "acme,2026-02-01,10.00,30.00,0.00,0.00,30.00,30.00,0.00,0.00,2026-01-20" in rows
    b = books(led)
    assert blocks(b)["P2"] == ("used_up", 60, 0, 0, 0)
    assert int(b.days["billable_us"].sum()) == (60 + 45 + 30 + 30 + 30) * MIN


def test_a_deletion_in_the_closed_period_is_a_credit_on_the_first_open_day(tmp_path):
    led = closed(tmp_path)
    frozen = closed_rows(daily_csv(led))
    # The export of Jan 12 now has Ann's 5 min only: Bob's 30 is removed. Jan 12 would be
    # 5 → 30 instead of 60: −30, a credit block bought Feb 1 (last day May 2).
    led.load(period=(date(2026, 1, 12), date(2026, 1, 12)),
             entries=[entry("e1", "2026-01-12T09:00:00", 5, staff="Ann")])
    assert closed_rows(daily_csv(led)) == frozen
    b = books(led)
    credit = b.blocks.set_index("purchase_id").loc["late~acme~2026-01-12~2026-02-01"]
    assert (credit["purchased_us"], credit["purchased_on"], credit["expires_on"], credit["kind"]) == (
        30 * MIN, date(2026, 2, 1), date(2026, 5, 2), "late_credit")
    # Feb 3's 30: P2 and the credit both end May 2, both bought at midnight Feb 1: "P2" < "late~…".
    assert blocks(b)["P2"] == ("active", 30, 0, 30, 0)
    assert credit["remaining_us"] == 30 * MIN
    assert len(late(b)) == 0


def test_an_adjustment_into_the_closed_period_posts_on_the_first_open_day(tmp_path):
    led = closed(tmp_path)
    # Waiving the Jan 14 fee after the close: Jan 14 stays as closed (30, 15 uncovered); the
    # −30 is a credit bought Feb 1.
    b = books(led, adj=adjustments((1, "waive", "C1", "2026-01-20", None)))
    assert day(b, "2026-01-14")["fee"] == 30 and day(b, "2026-01-14")["uncovered"] == 15
    assert blocks(b)["late~acme~2026-01-14~2026-02-01"] == ("active", 0, 0, 30, 0)
    # A charge dated in the closed period: +12.5 posted Feb 1, never rounded, paid by P2.
    b = books(led, adj=adjustments((2, "charge", "acme", "2026-01-20", 12.5)))
    row = late(b).iloc[0]
    assert (row["day"], row["late_for"], row["billable_us"], row["charged_us"], row["covered_us"]) == (
        pd.Timestamp("2026-02-01"), pd.Timestamp("2026-01-20"), 12.5 * MIN, 12.5 * MIN, 12.5 * MIN)
    assert blocks(b)["P2"] == ("active", 42.5, 0, 17.5, 0)


def test_a_back_dated_purchase_counts_from_the_first_open_day(tmp_path):
    led = closed(tmp_path)
    led.load(purchases=[purchase("P0", "2026-01-05", 1)])
    b = books(led)
    # Jan 14 stays 15 uncovered (P0 did not exist at the close). P0 counts from Feb 1, last
    # day Apr 5 (Jan 5 + 90): it expires before P2 and pays Feb 3's 30; 30 forfeited.
    assert day(b, "2026-01-14")["uncovered"] == 15
    k = b.blocks.set_index("purchase_id").loc["P0"]
    assert (k["purchased_on"], k["expires_on"]) == (date(2026, 2, 1), date(2026, 4, 5))
    assert blocks(b)["P0"] == ("forfeited", 30, 30, 0, 0)
    assert blocks(b)["P2"] == ("active", 0, 0, 60, 0)


def test_as_of_a_closed_day_the_books_are_the_closes(tmp_path):
    led = closed(tmp_path)
    led.load(entries=[entry("late1", "2026-01-20T10:00:00", 10)])
    b = books(led, as_of=date(2026, 1, 20))
    assert not (b.days["day"] == pd.Timestamp("2026-01-20")).any()
    assert blocks(b)["P1"] == ("used_up", 120, 0, 0, 0)
    assert b.closed_through == D


def test_reopening_recomputes_and_closing_again_moves_d(tmp_path):
    led = closed(tmp_path)
    led.load(entries=[entry("late1", "2026-01-20T10:00:00", 10)])
    closing.close(led.db, date(2026, 2, 28), POLICY, by="Lead")
    # The Feb 1 late row is closed now too; a new late entry for Jan 21 posts on Mar 1.
    led.load(entries=[entry("late2", "2026-01-21T10:00:00", 10)])
    b = books(led)
    assert [(r.day.date(), r.late_for.date()) for r in late(b).itertuples()] == [
        (date(2026, 2, 1), date(2026, 1, 20)), (date(2026, 3, 1), date(2026, 1, 21))]
    # Mar 1's 30 is uncovered: P2 was used up by Feb 3.
    assert late(b).iloc[1]["uncovered_us"] == 30 * MIN
    closing.reopen(led.db, date(2026, 1, 1), by="Lead", policy=POLICY)
    b = books(led)
    assert len(late(b)) == 0 and day(b, "2026-01-20")["billable"] == 30 and day(b, "2026-01-21")["billable"] == 30
    with open_db(led.db, read_only=True) as con:
        h = closing.history(con)
    assert list(h["kind"]) == ["close", "close", "reopen"] and not h["in_force"].any()


def test_reopening_part_keeps_the_earlier_close(tmp_path):
    led = closed(tmp_path)
    closing.close(led.db, date(2026, 2, 28), POLICY, by="Lead")
    closing.reopen(led.db, date(2026, 2, 10), by="Lead", policy=POLICY)
    with open_db(led.db, read_only=True) as con:
        assert closing.in_force(con)[1] == D


@pytest.mark.parametrize("through, message", [(date(2026, 1, 31), "already closed through 2026-01-31"),
                                              (date(2026, 1, 10), "already closed"),
                                              (date(2099, 1, 1), "only days before today")])
def test_closing_refuses_what_cannot_be_closed(tmp_path, through, message):
    led = closed(tmp_path)
    with pytest.raises(closing.ClosingError, match=message):
        closing.close(led.db, through, POLICY, by="Lead")


def test_reopening_what_is_not_closed_is_an_error(tmp_path):
    led = worked(tmp_path, POLICY)
    with pytest.raises(closing.ClosingError, match="not closed"):
        closing.reopen(led.db, date(2026, 1, 1), by="Lead", policy=POLICY)
    closing.close(led.db, D, POLICY, by="Lead")
    with pytest.raises(closing.ClosingError, match="closed only through 2026-01-31"):
        closing.reopen(led.db, date(2026, 2, 5), by="Lead", policy=POLICY)


def test_a_statement_of_a_closed_month_is_what_was_closed(tmp_path):
    # January's statement as of Apr 30, before the close and after a late entry for Jan 20:
    # the same days, the same texts, the same balances (the late entry posts on Feb 1).
    from billing.statement import build_statement

    led = worked(tmp_path, POLICY)

    def january():
        with open_db(led.db, read_only=True) as con:
            return build_statement(con, POLICY, "acme", date(2026, 1, 1), date(2026, 1, 31), T)

    before = january()
    closing.close(led.db, D, POLICY, by="Lead")
    led.load(entries=[entry("late1", "2026-01-20T10:00:00", 10)])
    after = january()
    assert before.days.equals(after.days)
    assert before.ledger.equals(after.ledger)
    assert before.closing_remaining_us == after.closing_remaining_us


def test_a_close_keeps_the_entries_of_the_days_it_freezes(tmp_path):
    # Close 1 (Jan 31) freezes e1, e2 (Jan 12), e3 (Jan 13); the late entry of Jan 20 comes after
    # it and is in no close. Close 2 (Feb 28) freezes only Feb 1 – Feb 28: e4, e5 and f1, with e5
    # excluded then (R10). After a reopen from Feb 10 only close 1 is in force: its entries alone.
    led = closed(tmp_path)
    led.load(entries=[entry("late1", "2026-01-20T10:00:00", 10), entry("f1", "2026-02-20T10:00:00", 10)])
    from billing.adjustments import record
    record(led.db, "exclude", "e5", on=date(2026, 2, 4), by="Lead", reason="duplicate", policy=POLICY)
    closing.close(led.db, date(2026, 2, 28), POLICY, by="Lead")
    with open_db(led.db, read_only=True) as con:
        frozen = closing.closed_entries(con, "acme", date(2026, 1, 1), date(2026, 3, 31))
        assert [(str(r.day), r.entry_id, r.kind) for r in frozen.itertuples()] == [
            ("2026-01-12", "e1", "adhoc"), ("2026-01-12", "e2", "adhoc"), ("2026-01-13", "e3", "session"),
            ("2026-02-02", "e4", "general"), ("2026-02-03", "e5", "excluded"), ("2026-02-20", "f1", "adhoc")]
    closing.reopen(led.db, date(2026, 2, 10), by="Lead", policy=POLICY)
    with open_db(led.db, read_only=True) as con:
        assert list(closing.closed_entries(con, "acme", date(2026, 1, 1), date(2026, 3, 31))["entry_id"]) == [
            "e1", "e2", "e3"]


def test_the_dashboard_sees_a_close_and_a_reopen(tmp_path):
    # The dashboard's reads are cached per data version (billing.appdata). A reopen recomputes
    # the closed days (R12), so it must be a new version: here the Jan 20 late row (posted on
    # Feb 1 while closed) goes back to Jan 20 once reopened.
    from billing import appdata

    led = closed(tmp_path)
    led.load(entries=[entry("late1", "2026-01-20T10:00:00", 10)])
    appdata.clear_caches()
    v = appdata.current_version(led.db).number
    assert len(late(appdata.books(led.db, v, POLICY, T))) == 1
    closing.reopen(led.db, date(2026, 1, 1), by="Lead", policy=POLICY)
    v2 = appdata.current_version(led.db).number
    assert v2 > v
    assert len(late(appdata.books(led.db, v2, POLICY, T))) == 0
    closing.close(led.db, D, POLICY, by="Lead")
    assert appdata.current_version(led.db).number > v2


def test_a_closed_fee_keeps_its_times_and_staff(tmp_path):
    # The Cancellation fees page and a statement show a closed fee's start, cancellation and
    # staff, and the page's staff filter finds it: the close keeps them as they were.
    led = worked(tmp_path, POLICY)
    led.load(appointments=[appointment("C1", "2026-01-14T15:00:00", 60, "cancelled", staff="Cy",
                                       cancelled_at="2026-01-14T05:00:00", cancelled_by="customer")],
             period=(date(2026, 1, 14), date(2026, 1, 14)))
    closing.close(led.db, D, POLICY, by="Lead")
    led.load(appointments=[appointment("C1", "2026-01-14T15:00:00", 60, "cancelled", staff="Dee",
                                       cancelled_at="2026-01-14T06:00:00", cancelled_by="customer")],
             period=(date(2026, 1, 14), date(2026, 1, 14)))
    fee = books(led).appointments.set_index("appointment_id").loc["C1"]
    assert (fee["staff"], str(fee["scheduled_start"]), str(fee["cancelled_at"])) == (
        "Cy", "2026-01-14 15:00:00", "2026-01-14 05:00:00")


def test_a_database_closed_before_fees_kept_their_times_still_reads(tmp_path):
    # A close made by the version before this one: closed_fees without the times and staff, no
    # closed_entries. Read-only (the dashboard) it reads with those empty; a read-write open
    # adds the columns; a statement of the closed month still balances.
    import duckdb

    from billing.statement import build_statement

    led = closed(tmp_path)
    con = duckdb.connect(str(led.db))
    for c in ("scheduled_start", "scheduled_start_offset", "cancelled_at", "cancelled_at_offset", "staff"):
        con.execute(f"ALTER TABLE closed_fees DROP COLUMN {c}")
    con.execute("DROP TABLE closed_entries")
    con.close()
    with open_db(led.db, read_only=True) as con:
        fee = compute_books(con, POLICY, T).appointments.set_index("appointment_id").loc["C1"]
        assert fee["fee_us"] == 30 * MIN and pd.isna(fee["scheduled_start"])
        st = build_statement(con, POLICY, "acme", date(2026, 1, 1), D, T)
        assert st.totals["billable_us"] == (60 + 45 + 30) * MIN
    with open_db(led.db) as con:
        columns = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                             "WHERE table_name = 'closed_fees'").fetchall()}
    assert {"scheduled_start", "staff"} <= columns


def test_a_close_of_days_with_nothing_billed_reads_back(tmp_path):
    # Closed through Jan 5, before the worked example's first entry (Jan 12): the close records
    # no day. As of Jan 6 nothing is billed either; the books read, with no row and no late row.
    led = worked(tmp_path, POLICY)
    closing.close(led.db, date(2026, 1, 5), POLICY, by="Lead", today=date(2026, 1, 6))
    b = books(led, as_of=date(2026, 1, 6))
    assert len(b.days) == 0 and len(late(b)) == 0
    # As of T the closed days are still empty and every later day is billed as before.
    assert blocks(books(led))["P2"] == ("active", 30, 0, 30, 0)


def test_a_close_says_what_it_posts_on_the_first_open_day_already(tmp_path):
    # The Jan 14 fee (30 min: 15 paid by P1, 15 uncovered) is waived by an adjustment dated
    # Feb 5. Closed through Jan 31 on Feb 10, the close holds Jan 14 as of Jan 31 (not waived
    # yet, R10); as of Feb 10 the waiver changes that closed day, so it posts on Feb 1, the
    # first open day, as a credit of 30 min (R12). The close's output says so.
    from billing.adjustments import record
    from tests.test_cli import cli

    led = worked(tmp_path, POLICY)
    record(led.db, "waive", "C1", on=date(2026, 2, 5), by="Lead", reason="goodwill", policy=POLICY)
    closing.close(led.db, D, POLICY, by="Lead", today=date(2026, 2, 10))
    with open_db(led.db, read_only=True) as con:
        posted = closing.posted_after_close(con, POLICY, date(2026, 2, 10))
        assert posted.to_dict("records") == [{"customer_id": "acme", "late_for": date(2026, 1, 14),
                                              "posted_on": date(2026, 2, 1), "billable_us": -30 * MIN}]
        # As of the closed day itself nothing is posted; reopened, nothing is either.
        assert closing.posted_after_close(con, POLICY, D).empty
    closing.reopen(led.db, D, by="Lead", policy=POLICY)
    policy_file = tmp_path / "billing.toml"
    policy_file.write_text('timezone = "UTC"\n')
    out = cli("close", "--through", "2026-01-31", "--db", led.db, "--policy", policy_file, "--by", "Lead")
    assert "1 change to closed days, dated after 2026-01-31, posts on 2026-02-01 already:" in out.stdout
    assert "acme: a credit of 30 min for 2026-01-14" in out.stdout
