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

from tests.builders import demo_database
from tests.apptest_live import as_on_a_live_server
from tests.test_pages import ROOT

TODAY = date(2026, 11, 29)
FORBIDDEN = re.compile(r"\d+\.\d+ min|None|NaN|\d{2}:\d{2}:\d{2}")
RAW = re.compile(r"\b(used_up|no_show|one_on_one|rolled_over|at_least_booked|adhoc_raw|import_id|undone_at|"
                 r"customer_id|purchase_id|appointment_id|what_to_do|cancelled_at|notice_hours|status_call|"
                 r"\w+_us)\b")
PAGES = ["pages/overview.py", "pages/usage.py", "pages/expiring.py", "pages/cancellations.py",
         "pages/statement.py", "pages/data_quality.py", "pages/import.py", "pages/policy.py"]


@pytest.fixture(autouse=True)
def on_a_live_server(monkeypatch):
    as_on_a_live_server(monkeypatch)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return demo_database(tmp_path_factory.mktemp("people"), TODAY)


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
        texts += [str(c) for c in frame.columns] + [str(v) for v in frame.astype(str).to_numpy().ravel()]
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        for trace in spec.get("data", []):
            texts += [str(v) for v in trace.get("customdata", []) or []]
            texts += [str(trace.get("name", "")), str(trace.get("hovertemplate", ""))]
        layout = spec.get("layout", {})
        texts += [str(layout.get(axis, {}).get("tickformat", "")) for axis in ("xaxis", "yaxis")]
    return texts


@pytest.mark.parametrize("page", PAGES)
def test_a_page_shows_people_whole_minutes_dates_and_words(demo_db, monkeypatch, page):
    monkeypatch.setenv("HOURBANK_DB", str(demo_db))
    monkeypatch.delenv("HOURBANK_POLICY", raising=False)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.run()
    at.date_input(key="asof").set_value(TODAY)
    at.selectbox(key="period").set_value("this_year")
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    texts = shown_text(at)
    assert len(texts) > 5
    bad = sorted({m.group(0) + " in: " + t[:120] for t in texts for m in [FORBIDDEN.search(t) or RAW.search(t)] if m})
    assert not bad, bad


def test_the_demo_has_what_the_check_looks_for(demo_db):
    """The check above means something: the data has times with seconds and the codes."""
    import duckdb

    with duckdb.connect(str(demo_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM appointments WHERE status = 'no_show'").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM time_entries WHERE tier = 'one_on_one'").fetchone()[0] > 0
