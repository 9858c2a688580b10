"""R10 exclude, wherever entries are listed or summed: an excluded entry counts toward nothing
(not in the day's sums, not in the logged time by staff, not "still counting" in the review),
and stays listed as excluded. Figures by hand on the worked example (UTC, T = 2026-04-30)."""
from datetime import date

from billing import appdata
from billing.adjustments import record
from billing.policy import Policy
from billing.reports import report
from billing.store import open_db
from tests.builders import entry
from tests.test_over_time import worked

T = date(2026, 4, 30)
POLICY = Policy(timezone="UTC")
MIN = 60_000_000


def test_the_logged_time_by_staff_leaves_an_excluded_entry_out(tmp_path):
    # Ad hoc logged in January–April: Ann e1 5 + e5 10 = 15, Bob e2 30. Excluding Bob's e2
    # leaves Bob with nothing ad hoc, and Ann's 15 as they were.
    led = worked(tmp_path, POLICY)
    v = appdata.current_version(led.db).number
    before = appdata.entry_usage(led.db, v, POLICY, T, date(2026, 1, 1), T)
    assert before.groupby("staff")["minutes_us"].sum().to_dict() == {"Ann": (5 + 45 + 40 + 10) * MIN, "Bob": 30 * MIN}
    record(led.db, "exclude", "e2", on=date(2026, 2, 1), by="Lead", reason="logged twice", policy=POLICY)
    v = appdata.current_version(led.db).number
    after = appdata.entry_usage(led.db, v, POLICY, T, date(2026, 1, 1), T)
    assert after.groupby("staff")["minutes_us"].sum().to_dict() == {"Ann": (5 + 45 + 40 + 10) * MIN}
    # As of a day before the exclusion is dated, Bob's 30 min still count (R10).
    early = appdata.entry_usage(led.db, v, POLICY, date(2026, 1, 31), date(2026, 1, 1), date(2026, 1, 31))
    assert early.groupby("staff")["minutes_us"].sum().to_dict()["Bob"] == 30 * MIN


def test_the_review_does_not_say_an_excluded_entry_still_counts(tmp_path):
    # A 20-second entry is listed as "under one minute ... it still counts" until it is excluded.
    led = worked(tmp_path, POLICY, entries=[entry("tiny", "2026-02-10T10:00:00", "0.3333")])
    with open_db(led.db, read_only=True) as con:
        assert "tiny" in set(report(con, "review", POLICY, T)["id"])
    record(led.db, "exclude", "tiny", on=date(2026, 2, 10), by="Lead", reason="timer started by mistake",
           policy=POLICY)
    with open_db(led.db, read_only=True) as con:
        assert "tiny" not in set(report(con, "review", POLICY, T)["id"])
    v = appdata.current_version(led.db).number
    assert "tiny" not in set(appdata.review(led.db, v, POLICY, T)["id"])
