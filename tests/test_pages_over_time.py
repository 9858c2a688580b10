"""The pages over time (R10–R14) through AppTest, on the worked example with a close, a late
entry, adjustments of each kind, rollover and a dated change, figures by hand (UTC, T = 2026-04-30).

The data: P1 (2 h, Jan 10), P2 (1 h, Feb 1), P3 (30 min, Feb 15); the worked example's entries
and appointments, and a no-show C2 on Mar 10. The policy: rollover 60 days, and from Feb 15
prepaid hours are valid 30 days (R11). The books are closed through Jan 31 (Jan 12 60, Jan 13
45, Jan 14 30 of which 15 uncovered); then come a late entry of Jan 20 (10 → 30), a waiver of
C1's Jan 14 fee (#1, a late credit of 30 bought Feb 1, last day May 2), a waiver of C2 (#2), a
credit of 1 h on Feb 10 (#3, adj-3, last day May 11), P2 extended to Jun 30 (#4) and Feb 3's
entry excluded (#5). On Feb 1 the late credit (May 2) expires before P2 (Jun 30): it pays the
late row's 30. P3 ends Mar 17 unused: its 30 min roll over into P3~rollover (Mar 18 → May 16).
As of Apr 30 the active blocks are adj-3 (1 h, May 11), P3~rollover (30 min, May 16) and P2
(1 h, Jun 30): 2 h 30 min left.
"""
from __future__ import annotations

import io
from datetime import date

import pytest

from billing import appdata, closing
from billing.adjustments import record
from billing.policy import load_policy
from billing.store import open_db
from tests.builders import Ledger, appointment, entry, purchase
from tests.test_pages import on_a_live_server, start  # noqa: F401 (fixture)

T = date(2026, 4, 30)
POLICY_TOML = """timezone = "UTC"
rollover_days = 60

[[change]]
from = 2026-02-15
hours_valid_days = 30
"""


def build(folder):
    policy_file = folder / "policy.toml"
    policy_file.write_text(POLICY_TOML)
    policy = load_policy(policy_file)
    led = Ledger(folder, policy)
    led.load(
        entries=[entry("e1", "2026-01-12T09:00:00", 5, staff="Ann"), entry("e2", "2026-01-12T14:00:00", 30, staff="Bob"),
                 entry("e3", "2026-01-13T10:00:00", 45, appointment_id="S1"),
                 entry("e4", "2026-02-02T10:00:00", 40, tier="general"), entry("e5", "2026-02-03T10:00:00", 10)],
        appointments=[appointment("S1", "2026-01-13T10:00:00", 60, "completed"),
                      appointment("C1", "2026-01-14T15:00:00", 60, "cancelled", cancelled_at="2026-01-14T05:00:00",
                                  cancelled_by="customer"),
                      appointment("C2", "2026-03-10T10:00:00", 60, "no_show")],
        purchases=[purchase("P1", "2026-01-10", 2), purchase("P2", "2026-02-01", 1), purchase("P3", "2026-02-15", 0.5)],
        customers=[{"customer_id": "acme", "customer_name": "Acme Ltd"}])
    closing.close(led.db, date(2026, 1, 31), policy, by="Lead", today=date(2026, 5, 1))
    led.n += 1
    from tests.builders import write_export
    from billing.load import import_export
    import_export(led.db, write_export(folder / "late", entries=[entry("late1", "2026-01-20T10:00:00", 10)]),
                  policy=policy, add_only=True)
    by = "Lead"
    record(led.db, "waive", "C1", on=date(2026, 2, 5), by=by, reason="goodwill", policy=policy)
    record(led.db, "waive", "C2", on=date(2026, 3, 11), by=by, reason="first no-show, goodwill", policy=policy)
    record(led.db, "credit", "acme", minutes="60", on=date(2026, 2, 10), by=by, reason="outage on Feb 9", policy=policy)
    record(led.db, "extend", "P2", to_day=date(2026, 6, 30), on=date(2026, 2, 10), by=by, reason="customer away",
           policy=policy)
    record(led.db, "exclude", "e5", on=date(2026, 2, 4), by=by, reason="duplicate entry", policy=policy)
    return led.db, policy_file


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return build(tmp_path_factory.mktemp("pages_over_time"))


@pytest.fixture
def env(files, monkeypatch):
    import tests.test_pages as tp

    db, policy_file = files
    monkeypatch.setenv("HOURBANK_DB", str(db))
    monkeypatch.setenv("HOURBANK_POLICY", str(policy_file))
    monkeypatch.setattr(tp, "PAGES", {**tp.PAGES, "pages/statement.py": "Customer statement",
                                      "pages/adjustments.py": "Adjustments"})
    appdata.clear_caches()
    return db, policy_file


def page(path: str):
    from tests.test_pages import on_page

    return on_page(start(), path)


def frames(at) -> list:
    return [d.value for d in at.dataframe]


def frame_with(at, column: str):
    found = [f for f in frames(at) if column in f.columns]
    assert found, (column, [list(f.columns) for f in frames(at)])
    return found[0]


def captions(at) -> str:
    return " | ".join(c.value for c in at.caption)


BANNER = "Books closed through 2026-01-31 (closing 1, by Lead, on "


def test_overview_says_closed_names_blocks_in_words_and_lists_the_late_changes(env):
    at = page("pages/overview.py")
    assert BANNER in captions(at)
    urgent = frame_with(at, "last day")
    assert list(urgent["block"]) == ["credit (adjustment 3)", "carried from P3", "P2"]
    assert list(urgent["left"]) == ["1 h", "30 min", "1 h"]
    late = frame_with(at, "for closed day")
    assert [tuple(r) for r in late[["posted on", "for closed day", "change", "how"]].to_numpy()] == [
        ("2026-02-01", "2026-01-14", "-30 min", "credited as a block"),
        ("2026-02-01", "2026-01-20", "+30 min", "billed on the day posted")]
    assert list(late["paid from prepaid hours"]) == ["—", "30 min"]


def test_usage_lists_the_late_changes_of_the_period(env):
    at = page("pages/usage.py")
    assert BANNER in captions(at)
    late = frame_with(at, "for closed day")
    assert list(late["for closed day"]) == ["2026-01-14", "2026-01-20"]
    assert list(late["change"]) == ["-30 min", "+30 min"]


def test_expiring_names_a_credit_and_a_rollover_block_in_words(env):
    at = page("pages/expiring.py")
    blocks = frame_with(at, "days left")
    assert list(blocks["block"]) == ["credit (adjustment 3)", "carried from P3", "P2"]
    assert list(blocks["last day"]) == ["2026-05-11", "2026-05-16", "2026-06-30"]
    assert not any("adj-" in str(v) or "~" in str(v) for v in blocks.to_numpy().ravel() if not str(v).startswith(
        "adjustments?"))


def test_cancellation_fees_show_waivers_with_their_reasons(env):
    at = page("pages/cancellations.py")
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Fees billed"], metrics["Late cancellations"], metrics["No-shows"], metrics["Fees waived"]) == (
        "30 min", "1", "1", "1")
    rows = frame_with(at, "waived").set_index("appointment")
    assert rows.loc["C2", "waived"] == "waived: first no-show, goodwill (adjustment 2)"
    assert (rows.loc["C2", "kind"], rows.loc["C2", "fee"]) == ("no-show", "0 min")
    # C1's day was closed when it was waived: it still bills as closed; the waiver is a late credit.
    assert rows.loc["C1", "waived"] == ("waived after the books were closed: goodwill (adjustment 1); "
                                        "credited on 2026-02-01")
    assert rows.loc["C1", "fee"] == "30 min"
    assert rows.loc["C2", "adjust"] == "" and rows.loc["C1", "adjust"] == ""   # nothing left to waive


def test_statement_page_labels_late_rows_and_lists_the_adjustments(env):
    at = page("pages/statement.py")
    # The customer copy (the default) shows the customer's words: no rule id, no adjustment number.
    days = frame_with(at, "how it was reached")
    late = days[days["late change for"] == "2026-01-20"]
    assert late.iloc[0]["how it was reached"].startswith(
        "Late change for 2026-01-20, posted after the books were closed through 2026-01-31: +30 min")
    assert "credit of 2026-02-10" in set(frame_with(at, "balance after")["block"])   # adj-3, recorded Feb 10
    at.toggle(key="stmt_redact").set_value(False).run()   # the internal copy, from here on
    assert BANNER in captions(at)
    days = frame_with(at, "how it was reached")
    late = days[days["late change for"] == "2026-01-20"]
    assert len(late) == 1 and late.iloc[0]["day"] == "2026-02-01" and late.iloc[0]["billed"] == "30 min"
    assert late.iloc[0]["how it was reached"].startswith(
        "late change for 2026-01-20, posted after the books were closed through 2026-01-31 (R12): +30 min")
    adjustments = frame_with(at, "reason")
    assert list(adjustments["no."]) == ["5", "1", "3", "4", "2"]
    assert list(adjustments["reason"]) == ["duplicate entry", "goodwill", "outage on Feb 9", "customer away",
                                           "first no-show, goodwill"]
    assert "Each reason is printed on the customer's statement" in captions(at)
    ledger = frame_with(at, "balance after")
    assert "credit (adjustment 3)" in set(ledger["block"]) and "carried from P3" in set(ledger["block"])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Closing balance"] == "2 h 30 min"
    entries = [f for f in frames(at) if "entry" in f.columns][0]
    assert entries.set_index("entry").loc["e5", "kind"] == "excluded (adjustment 5, R10): duplicate entry"
    # C1's fee was waived after its day was closed: it bills as closed, and the waiver is not
    # offered again (both fees have a waiver that applies: nothing left to waive).
    fees = frame_with(at, "notice")
    assert len(fees) == 2 and set(fees["adjust"]) == {""}


def test_policy_page_shows_dated_changes_closings_and_a_dated_what_if(env):
    at = page("pages/policy.py")
    changes = frame_with(at, "from then on")
    assert [tuple(r) for r in changes[["from", "meaning", "before", "from then on"]].to_numpy()] == [
        ("2026-02-15", "Prepaid hours valid for (days)", "90", "30")]
    closings = frame_with(at, "in force")
    assert [tuple(r) for r in closings[["no.", "what", "in force", "by"]].to_numpy()] == [
        ("1", "closed through 2026-01-31", "yes", "Lead")]
    rules = " ".join(m.value for m in at.markdown)
    assert "stays usable 60 more days" in rules and "Dated changes: 1" in rules
    # What if ad-hoc work were rounded to 15 minutes from Jan 1? Jan is closed: Jan 12 (35 → 45
    # instead of 60) becomes a late credit of 15; the late row of Jan 20 is 10 → 15 instead of
    # 30. Billable in the period: 135 closed + 15 = 150 min instead of 165.
    at.toggle(key="wi_dated").set_value(True).run()
    at.date_input(key="wi_from").set_value(date(2026, 1, 1))
    at.selectbox(key="wi_setting").set_value("rounding_increment_minutes").run()
    at.number_input(key="wi_value_rounding_increment_minutes").set_value(15).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "What if: ad-hoc rounding increment (minutes) becomes 15 from 2026-01-01." in captions(at)
    table = frame_with(at, "changed settings").set_index("figure")
    assert tuple(table.loc["Billable", ["active policy", "changed settings", "difference"]]) == (
        "2 h 45 min", "2 h 30 min", "-15 min")
    assert "Closed days keep their figures: what a change would alter" in captions(at)   # R12 in its help


# --------------------------------------------------------------------------- issuing can close
@pytest.fixture
def plain(tmp_path, monkeypatch):
    import tests.test_pages as tp
    from billing.policy import Policy
    from tests.billing_pages.fixture import load_fixture

    led = load_fixture(Ledger(tmp_path, Policy(timezone="UTC")))
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('timezone = "UTC"\n')
    monkeypatch.setenv("HOURBANK_DB", str(led.db))
    monkeypatch.setenv("HOURBANK_POLICY", str(policy_file))
    monkeypatch.setattr(tp, "PAGES", {**tp.PAGES, "pages/statement.py": "Customer statement"})
    appdata.clear_caches()
    return led


def show(at) -> None:
    """Press the statement page's "Show statement" (its form applies the period typed)."""
    [b for b in at.button if b.label == "Show statement"][0].click().run()


def test_issuing_a_statement_can_close_its_period(plain):
    at = page("pages/statement.py")
    at.date_input(key="stmt_period").set_value((date(2026, 1, 1), date(2026, 1, 31)))
    show(at)
    box = at.checkbox(key="stmt_close")
    assert box.label == "Close the books through 2026-01-31" and box.value is False
    box.check().run()
    at.button(key="issue").click().run()        # nobody said who closes: nothing is recorded
    assert any("Say who closes the books" in e.value for e in at.error)
    with open_db(plain.db, read_only=True) as con:
        assert closing.history(con).empty
        assert con.execute("SELECT count(*) FROM statements").fetchone()[0] == 0
    at.text_input(key="stmt_closed_by").input("Dana").run()
    at.button(key="issue").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Statement 1 recorded as issued. Books closed through 2026-01-31 (closing 1)." in s.value
               for s in at.success)
    with open_db(plain.db, read_only=True) as con:
        h = closing.history(con)
        assert [(r.kind, str(r.day)[:10], r.recorded_by, bool(r.in_force)) for r in h.itertuples()] == [
            ("close", "2026-01-31", "Dana", True)]
        csv = dict(con.execute("SELECT name, data FROM statement_files WHERE name LIKE '%.csv'").fetchall())
    customer = next(bytes(d) for n, d in csv.items() if not n.endswith("-internal.csv")).decode("utf-8-sig")
    assert "The figures through 31 Jan 2026 are closed" in customer
    # Now closed: the page says so, and offers no second close of the same days.
    assert "Books closed through 2026-01-31 (closing 1, by Dana" in captions(at)
    assert not [b for b in at.checkbox if b.key == "stmt_close"]
    assert "this statement's days are closed already" in captions(at)


def test_a_period_not_over_cannot_be_closed():
    from billing.pages.statement import can_close

    assert can_close(date(2026, 4, 30), date(2026, 4, 30), None) == (False, None)   # today is not over
    assert can_close(date(2026, 4, 29), date(2026, 4, 30), None) == (True, None)
    ok, why = can_close(date(2026, 1, 31), date(2026, 4, 30), date(2026, 2, 28))
    assert not ok and "closed through 2026-02-28" in why
