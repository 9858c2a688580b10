"""The Import page (AppTest) with a tracker file: the removal scope and add-only, the rows
that will be removed under their own heading, new customer ids, and a file none of whose
rows converts."""
from __future__ import annotations

import pytest

from billing.policy import Policy
from billing.store import open_db
from billing.trackers import import_tracker_file
from tests.builders import Ledger
from tests.test_import_scope import toggl
from tests.test_pages import metrics, on_a_live_server, on_page, start  # noqa: F401 (fixture)

PAGES_EXTRA = {"pages/import.py": "Import"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A database with Ann's Toggl export (UTC): mon (Acme, 30 min) and tue (Globex, 15 min)."""
    import tests.test_pages as tp

    monkeypatch.setattr(tp, "PAGES", {**tp.PAGES, **PAGES_EXTRA})
    led = Ledger(tmp_path, Policy(timezone="UTC"))
    import_tracker_file(led.db, toggl(tmp_path / "ann.csv", ("Ann Lee", "Acme", "mon", "2026-03-02 09:00", 30),
                                      ("Ann Lee", "Globex", "tue", "2026-03-03 10:00", 15)),
                        "toggl", timezone="UTC", policy=led.policy)
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('timezone = "UTC"\n')
    monkeypatch.setenv("HOURBANK_DB", str(led.db))
    monkeypatch.setenv("HOURBANK_POLICY", str(policy_file))
    return led


def notes(db) -> list[str]:
    with open_db(db, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT notes FROM time_entries ORDER BY 1").fetchall()]


def upload(at, path):
    at.file_uploader(key="uploads").upload(path.name, path.read_bytes(), "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]


def test_the_preview_lists_what_will_be_removed_with_the_scope_and_add_only_removes_nothing(env, tmp_path):
    with open_db(env.db, read_only=True) as con:
        (tue,), = con.execute("SELECT entry_id FROM time_entries WHERE notes = 'tue'").fetchall()
    # Ann's export again: tue deleted, tue2 logged (Globex), and a client never seen before.
    second = toggl(tmp_path / "ann2.csv", ("Ann Lee", "Acme", "mon", "2026-03-02 09:00", 30),
                   ("Ann Lee", "Globex", "tue2", "2026-03-03 16:00", 5),
                   ("Ann Lee", "Initech", "new", "2026-03-03 17:00", 5))
    at = on_page(start(), "pages/import.py")
    upload(at, second)
    assert at.radio(key="tracker_scope").value == "auto"
    at.button(key="preview_btn").click().run()
    assert metrics(at)["removed"] == "1" and metrics(at)["added"] == "2"
    assert any(m.value == "**Will be removed: 1 row(s)**" for m in at.markdown)
    removals = next(d.value for d in at.dataframe if "time" in d.value.columns and "id" in d.value.columns)
    assert [(r["id"], str(r["day"]), r["staff"], r["customer"], r["time"]) for _, r in removals.iterrows()] == [
        (tue, "2026-03-03", "Ann Lee", "Globex", "15 min")]
    assert any("this file has one staff member, Ann Lee: treated as Ann Lee's own export" in i.value
               and "the scope 'Whole team'" in i.value for i in at.info)
    assert any("new customer id(s), not in the database yet: Initech" in w.value for w in at.warning)
    # Add only: preview again, nothing to remove; importing keeps tue.
    at.checkbox(key="tracker_add_only").check().run()
    at.button(key="preview_btn").click().run()
    assert metrics(at)["removed"] == "0"
    assert not any("Will be removed" in m.value for m in at.markdown)
    at.button(key="commit_btn").click().run()
    assert any("saved" in s.value for s in at.success), [e.value for e in at.error]
    assert notes(env.db) == ["mon", "new", "tue", "tue2"]


def test_the_whole_team_scope_removes_other_peoples_entries_as_previewed(env, tmp_path):
    bob = toggl(tmp_path / "bob.csv", ("Bob Roe", "Acme", "bob", "2026-03-02 11:00", 45),
                ("Bob Roe", "Acme", "bob2", "2026-03-03 11:00", 45))
    at = on_page(start(), "pages/import.py")
    upload(at, bob)
    at.button(key="preview_btn").click().run()
    assert metrics(at)["removed"] == "0"            # auto: Bob's own export for Acme
    at.radio(key="tracker_scope").set_value("team").run()
    at.button(key="preview_btn").click().run()
    assert metrics(at)["removed"] == "2"
    at.button(key="commit_btn").click().run()
    assert any("2 removed" in s.value for s in at.success)
    assert notes(env.db) == ["bob", "bob2"]


def test_a_tracker_file_with_no_good_row_shows_why_and_what_to_change(env, tmp_path):
    bad = toggl(tmp_path / "bad.csv", ("Ann Lee", "Acme", "x", "2026-03-02 09:00", 10, "Maybe"),
                ("Ann Lee", "Acme", "y", "2026-03-03 09:00", 10, "Perhaps"))
    at = on_page(start(), "pages/import.py")
    upload(at, bad)
    at.button(key="preview_btn").click().run()
    assert any("no row could be read, so nothing would be imported; the 2 rejected row(s)" in e.value
               for e in at.error)
    grouped = next(d.value for d in at.dataframe if "rejected" in d.value.columns and "reason" in d.value.columns)
    assert list(grouped["rejected"]) == [2] and list(grouped["column"]) == ["Billable"]
    assert any("choose the Date order" in m.value for m in at.markdown)
    at.button(key="commit_btn").click().run()
    with open_db(env.db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM rejects WHERE file = 'bad.csv'").fetchone()[0] == 2
    assert notes(env.db) == ["mon", "tue"]
