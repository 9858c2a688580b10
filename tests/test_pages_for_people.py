"""Issue 11: what every page shows people, on the realistic demo data (times with seconds,
forfeited and used-up blocks, no-shows, imports): no fractional minutes, no "None"/"NaN", no
clock times of midnight dates, no raw codes or column names, in the text, the tables, the
metrics and the charts' hover text and axes."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from tests.builders import demo_database, demo_over_time
from tests.apptest_live import as_on_a_live_server
from tests.test_pages import ROOT

TODAY = date(2026, 11, 29)
FORBIDDEN = re.compile(r"\d+\.\d+ min|None|NaN|\d{2}:\d{2}:\d{2}")
RAW = re.compile(r"\b(used_up|no_show|one_on_one|rolled_over|at_least_booked|adhoc_raw|import_id|undone_at|"
                 r"customer_id|purchase_id|appointment_id|what_to_do|cancelled_at|notice_hours|status_call|\w+_us|"
                 # over time (R10-R14): block kinds, ledger lines and the ids the engine makes
                 r"late_credit|carried_in|owed_paid|late_for|waived_by|excluded_by|closed_through)\b"
                 r"|\badj-\d|~rollover\b|\blate~")
RULE_ID = re.compile(r"\bR\d{1,2}\b")
PAGES = ["pages/overview.py", "pages/usage.py", "pages/expiring.py", "pages/alerts.py", "pages/cancellations.py",
         "pages/adjustments.py", "pages/statement.py", "pages/customer_links.py", "pages/data_quality.py",
         "pages/import.py", "pages/policy.py"]


@pytest.fixture(autouse=True)
def on_a_live_server(monkeypatch):
    as_on_a_live_server(monkeypatch)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return demo_database(tmp_path_factory.mktemp("people"), TODAY)


@pytest.fixture(scope="module")
def over_time_db(tmp_path_factory):
    """The demo with the books over time: closed through October, a late entry, adjustments of
    each kind, rollover and a dated change of rounding (tests.builders.demo_over_time)."""
    return demo_over_time(tmp_path_factory.mktemp("people_over_time"), TODAY)


def shown_text(at: AppTest) -> list[str]:
    """Every piece of text the page shows: titles, captions, markdown, notes, metrics, table
    cells and headers, and the charts' hover text, tick format and legend names."""
    texts = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "success", "warning", "error"):
        texts += [e.value for e in getattr(at, kind)]
    for m in at.metric:
        texts += [m.label, m.value, str(m.proto.delta or "")]
    for d in at.dataframe:
        frame = d.value
        # A link column's values are addresses (shown as "Waive this fee"): not text people read.
        texts += [str(c) for c in frame.columns] + [str(v) for v in frame.astype(str).to_numpy().ravel()
                                                    if not str(v).startswith("adjustments?")]
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        for trace in spec.get("data", []):
            texts += [str(v) for v in trace.get("customdata", []) or []]
            texts += [str(trace.get("name", "")), str(trace.get("hovertemplate", ""))]
        layout = spec.get("layout", {})
        texts += [str(layout.get(axis, {}).get("tickformat", "")) for axis in ("xaxis", "yaxis")]
    return texts


def _check_page(at: AppTest, page: str, customer: str | None = None) -> list[str]:
    at.run()
    at.date_input(key="asof").set_value(TODAY)
    at.selectbox(key="period").set_value("this_year")
    at.run()
    at.switch_page(page)
    at.run()
    if customer and page == "pages/statement.py":
        at.selectbox(key="stmt_customer").set_value(customer)
        [b for b in at.button if b.label == "Show statement"][0].click().run()  # the page's form
    assert not at.exception, [e.value for e in at.exception]
    texts = shown_text(at)
    assert len(texts) > 5
    bad = sorted({m.group(0) + " in: " + t[:120] for t in texts for m in [FORBIDDEN.search(t) or RAW.search(t)] if m})
    assert not bad, bad
    # The words come first: a rule's id (R1–R14) is for the "?" beside a caption (its help),
    # not for the titles, captions, notes and chart titles a manager reads.
    prose = [e.value for kind in ("title", "header", "subheader", "caption", "markdown", "info", "success",
                                  "warning", "error") for e in getattr(at, kind)]
    prose += [str(json.loads(c.proto.spec).get("layout", {}).get("title", {}).get("text", ""))
              for c in at.get("plotly_chart")]
    ids = sorted({t[:120] for t in prose if RULE_ID.search(t)})
    assert not ids, ids
    assert not any("data version" in t for t in prose + [e.value for e in at.sidebar.caption])
    return texts


@pytest.mark.parametrize("page", PAGES)
def test_a_page_shows_people_whole_minutes_dates_and_words(demo_db, monkeypatch, page):
    monkeypatch.setenv("HOURBANK_DB", str(demo_db))
    monkeypatch.delenv("HOURBANK_POLICY", raising=False)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    _check_page(at, page)
    assert_names_beside_ids(at, demo_names(demo_db), page)
    assert_one_colour_per_meaning(at)


@pytest.mark.parametrize("page", PAGES)
def test_the_books_over_time_are_in_words_too(over_time_db, monkeypatch, page):
    """The same on books with a close, a late entry and adjustments (R10–R14): no code of a
    block kind, a ledger line or an engine-made block id (adj-3, PO-0067~rollover, late~…)."""
    db, policy_file, _ = over_time_db
    monkeypatch.setenv("HOURBANK_DB", str(db))
    monkeypatch.setenv("HOURBANK_POLICY", str(policy_file))
    texts = _check_page(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90), page, "C1014")
    joined = " ".join(texts)
    if page in ("pages/overview.py", "pages/statement.py", "pages/policy.py", "pages/usage.py"):
        assert "Books closed through 2026-10-31 (closing 1, by lead@example.com" in joined
    if page == "pages/statement.py":
        assert "Late change for 2026-10-12" in joined and "outage on Nov 19" in joined   # the customer copy
    if page == "pages/cancellations.py":
        assert "waived: first no-show, goodwill (adjustment 2)" in joined


def demo_names(db) -> dict[str, str]:
    from billing.customers import customer_names
    from billing.store import open_db

    with open_db(db, read_only=True) as con:
        return customer_names(con)


CUSTOMER_ID = re.compile(r"^(C\d{4})\b")
CHARTS_OF_CUSTOMERS = {"pages/usage.py": 1, "pages/expiring.py": 2}   # charts with a customer axis


def chart_traces(at: AppTest) -> list[list[dict]]:
    return [json.loads(chart.proto.spec).get("data", []) for chart in at.get("plotly_chart")]


def assert_names_beside_ids(at: AppTest, names: dict[str, str], page: str) -> None:
    """Every table with a customer column has the customer's name right beside it, and every
    chart that labels a customer labels it "C1014 · name" (billing.customers)."""
    assert len(names) == 40
    for d in at.dataframe:
        columns = list(d.value.columns)
        if "customer" not in columns:
            continue
        at_ = columns.index("customer")
        assert columns[at_ + 1] == "name", columns
        for cid, name in zip(d.value["customer"], d.value["name"]):
            if cid in names:
                assert name == names[cid], (cid, name)
    charted = 0
    for traces in chart_traces(at):
        labels = [v for t in traces for axis in ("x", "y") for v in (t.get(axis) or []) if isinstance(v, str)]
        ids = [(CUSTOMER_ID.match(v).group(1), v) for v in labels if CUSTOMER_ID.match(v)]
        for cid, label in ids:
            assert label.startswith(f"{cid} · {names[cid]}"), label
        charted += bool(ids)
    assert charted >= CHARTS_OF_CUSTOMERS.get(page, 0), (page, charted)


def assert_one_colour_per_meaning(at: AppTest) -> None:
    """Every trace of every chart says its meaning (legend group) and has that meaning's colour
    (billing.pages.colours): the same thing is the same colour on every chart."""
    from billing.pages.colours import MEANINGS

    for traces in chart_traces(at):
        for trace in traces:
            meaning = trace.get("legendgroup")
            assert meaning in MEANINGS, f"trace {trace.get('name')!r} has no meaning of billing.pages.colours"
            expected = MEANINGS[meaning][0]
            assert trace.get("marker", {}).get("color") == expected, (trace.get("name"), meaning)
            if "line" in trace and "color" in trace["line"]:
                assert trace["line"]["color"] == expected, (trace.get("name"), meaning)


def test_each_meaning_has_a_colour_of_its_own():
    from billing.pages.colours import MEANINGS, colour, series

    colours = [c.lower() for c, _ in MEANINGS.values()]
    assert len(set(colours)) == len(colours)
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours)
    assert series("uncovered", line=True) == {"marker_color": colour("uncovered"), "legendgroup": "uncovered",
                                              "line_color": colour("uncovered")}
    with pytest.raises(KeyError, match="no colour for 'overtime'"):
        colour("overtime")


def test_the_demo_has_what_the_check_looks_for(demo_db):
    """The check above means something: the data has times with seconds and the codes."""
    import duckdb

    with duckdb.connect(str(demo_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM appointments WHERE status = 'no_show'").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM time_entries WHERE tier = 'one_on_one'").fetchone()[0] > 0
