"""The Statement and Import pages through AppTest, on a real fixture database."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from billing.policy import Policy
from billing.statement import build_statement
from billing.display import duration_text as format_minutes  # what people read
from billing.store import open_db
from tests.builders import ENTRY_COLUMNS, Ledger
from tests.test_pages import metrics, on_a_live_server, on_page, start  # noqa: F401 (fixture)
from tests.billing_pages.fixture import load_fixture

T = date(2026, 4, 30)
POLICY = Policy(timezone="UTC")
PAGES_EXTRA = {"pages/statement.py": "Customer statement", "pages/import.py": "Import"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    import tests.test_pages as tp

    monkeypatch.setattr(tp, "PAGES", {**tp.PAGES, **PAGES_EXTRA})
    led = load_fixture(Ledger(tmp_path, POLICY))
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('timezone = "UTC"\n')
    monkeypatch.setenv("HOURBANK_DB", str(led.db))
    monkeypatch.setenv("HOURBANK_POLICY", str(policy_file))
    return led


def test_statement_page_shows_the_engines_statement_and_offers_three_downloads(env):
    at = on_page(start(customers=["acme"]), "pages/statement.py")
    assert not at.error, [e.value for e in at.error]
    with open_db(env.db, read_only=True) as con:
        st_ = build_statement(con, POLICY, "acme", date(2026, 1, 1), T, T)
    shown = metrics(at)
    assert shown["Billable"] == format_minutes(st_.totals["billable_us"]) == "2 h 45 min"
    assert shown["Not covered (invoiced separately)"] == "15 min" and shown["Closing balance"] == "30 min"
    # The balance as the PDF's box has it: 0 + 3 h (P1, P2) − 2 h 30 min used − 0 forfeited = 30 min.
    assert [(k, shown[k]) for k in ("Opening balance", "Purchased", "Used (paid from prepaid hours)",
                                    "Forfeited (expired unused)", "Closing balance")] == [
        ("Opening balance", "0 min"), ("Purchased", "+ 3 h"), ("Used (paid from prepaid hours)", "− 2 h 30 min"),
        ("Forfeited (expired unused)", "− 0 min"), ("Closing balance", "30 min")]
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download PDF", "Download XLSX", "Download CSV"]
    days = at.dataframe[0].value   # the customer copy (the default): the customer's words, no rule id
    assert days.iloc[0]["how it was reached"] == ("ad-hoc work 5 min + 30 min = 35 min → rounded up to 1 h "
                                                  "(daily total, in 30-min steps)")
    at.toggle(key="stmt_redact").set_value(False).run()   # the internal copy: the rules named
    days = at.dataframe[0].value
    assert "ad-hoc 5 min + 30 min = 35 min → rounded up to 1 h (R5" in days.iloc[0]["how it was reached"]
    # Another customer: other figures, once shown with the button (the form keeps what is shown
    # and what the downloads hold the same statement).
    at.selectbox(key="stmt_customer").set_value("beta").run()
    assert metrics(at)["Billable"] == shown["Billable"]
    at.selectbox(key="stmt_customer").set_value("beta")
    show_statement(at)
    assert metrics(at)["Billable"] == "2 h" != shown["Billable"]


def show_statement(at):
    """Press the statement page's "Show statement" (its form's submit button)."""
    [b for b in at.button if b.label == "Show statement"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_issuing_a_statement_records_it_and_a_later_import_flags_it(env):
    at = on_page(start(customers=["acme"]), "pages/statement.py")
    at.button(key="issue").click().run()
    assert not at.exception and any("recorded as issued" in s.value for s in at.success)
    issued = at.dataframe[-1].value
    assert list(issued["status"]) == ["unchanged"]
    from tests.builders import entry
    env.load(entries=[entry("e9", "2026-02-03T12:00:00", 25)])  # 10 + 25 = 35 → 60 on 3 February
    at.run()
    issued = at.dataframe[-1].value
    assert list(issued["status"]) == ["changed"] and "billable" in issued.iloc[0]["differences"]
    assert any("no longer match" in w.value for w in at.warning)


def _csv(rows: list[str]) -> bytes:
    return ("\n".join([",".join(ENTRY_COLUMNS)] + rows) + "\n").encode()


def test_import_page_previews_then_loads_a_good_file(env):
    at = on_page(start(), "pages/import.py")
    good = _csv(["n1,acme,,Ann,2026-04-28T09:00,20,one_on_one,setup,,,"])
    at.file_uploader(key="uploads").upload("time_entries.csv", good, "text/csv").run()
    at.button(key="preview_btn").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert metrics(at)["added"] == "1"
    with open_db(env.db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM time_entries WHERE entry_id = 'n1'").fetchone()[0] == 0
    at.button(key="commit_btn").click().run()
    assert any("saved" in s.value for s in at.success)
    with open_db(env.db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM time_entries WHERE entry_id = 'n1'").fetchone()[0] == 1


def test_import_page_lists_the_rejects_of_a_bad_file_with_line_and_reason(env):
    at = on_page(start(), "pages/import.py")
    bad = _csv(["n1,acme,,Ann,2026-04-28T09:00,20,one_on_one,,,,", "n2,acme,,Ann,28/04/2026,20,one_on_one,,,,",
                "n3,acme,,Ann,2026-04-28T09:00,1e1,one_on_one,,,,"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("export/time_entries.csv", bad)
    at.file_uploader(key="uploads").upload("export.zip", buf.getvalue(), "application/zip").run()
    at.button(key="preview_btn").click().run()
    rejects = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert list(zip(rejects["line"], rejects["column"])) == [(3, "started_at"), (4, "minutes")]
    assert "not a timestamp" in rejects.iloc[0]["reason"]
    assert metrics(at)["added"] == "1" and metrics(at)["rejected"] == "2"


def test_import_page_refuses_a_zip_with_path_traversal(env):
    at = on_page(start(), "pages/import.py")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../evil.sh", b"rm -rf /")
    at.file_uploader(key="uploads").upload("export.zip", buf.getvalue(), "application/zip").run()
    assert any("points outside its folder is refused" in e.value for e in at.error)


def test_import_page_records_a_purchase_and_undoes_it(env):
    at = on_page(start(), "pages/import.py")
    form = at.get("form")[0] if at.get("form") else None
    assert form is not None
    sel = [s for s in at.selectbox if s.label == "Customer"][0]
    sel.set_value("acme")
    [t for t in at.text_input if t.label == "Hours"][0].set_value("2")
    [b for b in at.button if b.label == "Record purchase"][0].click()
    at.run()
    assert any("Purchase recorded" in s.value for s in at.success), [e.value for e in at.error]
    with open_db(env.db, read_only=True) as con:
        (pid, minutes), = con.execute("SELECT purchase_id, minutes_us FROM purchases WHERE purchase_id LIKE 'manual-%'").fetchall()
        last = con.execute("SELECT max(import_id) FROM imports").fetchone()[0]
    assert minutes == 120 * 60_000_000
    at.run()
    at.selectbox(key="undo_id").set_value(last)
    at.checkbox(key=f"undo_confirm_{last}").check().run()
    at.button(key="undo_btn").click().run()
    assert any(f"Import {last} undone" in s.value for s in at.success)
    with open_db(env.db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM purchases WHERE purchase_id = ?", [pid]).fetchone()[0] == 0


def test_import_page_creates_a_database_that_does_not_exist_yet(env, tmp_path, monkeypatch):
    fresh = tmp_path / "new" / "hourbank.duckdb"
    fresh.parent.mkdir()
    monkeypatch.setenv("HOURBANK_DB", str(fresh))
    at = on_page(start(), "pages/import.py")
    assert any("does not exist yet" in i.value for i in at.info)
    at.file_uploader(key="uploads").upload("time_entries.csv", _csv(["n1,zed,,Ann,2026-04-28T09:00,20,one_on_one,,,,"]),
                                           "text/csv").run()
    at.button(key="preview_btn").click().run()
    at.button(key="commit_btn").click().run()
    assert not at.exception and fresh.exists()
    with open_db(fresh, read_only=True) as con:
        assert con.execute("SELECT customer_id FROM time_entries").fetchall() == [("zed",)]


FIXTURES = __import__("pathlib").Path(__file__).resolve().parent / "fixtures" / "trackers"


def test_import_page_maps_a_tracker_export_with_a_customer_map_and_lists_unmapped_clients(env):
    at = on_page(start(), "pages/import.py")
    at.file_uploader(key="uploads").upload("toggl_end.csv", (FIXTURES / "toggl_end.csv").read_bytes(),
                                           "text/csv").run()
    assert any("recognised as **toggl**" in i.value for i in at.info)
    at.button(key="preview_btn").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert int(metrics(at)["added"]) > 0
    at.button(key="commit_btn").click().run()
    assert any("saved" in s.value for s in at.success)
    with open_db(env.db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM time_entries WHERE entry_id LIKE 'toggl-%'").fetchone()[0] > 0
    dq = on_page(start(), "pages/data_quality.py")
    unmapped = next(d.value for d in dq.dataframe if "client" in d.value.columns)
    assert "Acme Inc" in set(unmapped["client"])
