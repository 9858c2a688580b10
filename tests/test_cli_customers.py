"""Every command that takes a customer id finds it the one way (billing.customers
.unknown_customer_message): an id the data does not have is one sentence that names it, and
points at the id when the text is a customer's name (README, "Command line"). On the demo,
where C1003 is "Café Müller GmbH" (billing.demo's third customer)."""
from __future__ import annotations

from datetime import date

import pytest

from billing import share
from billing.__main__ import main
from billing.store import open_db
from tests.builders import demo_database

TODAY = date(2026, 12, 1)
POINTS = "customers are given by id. Did you mean C1003 (Café Müller GmbH)?"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = demo_database(tmp_path_factory.mktemp("demo"), TODAY)
    with open_db(db, read_only=True) as con:   # the fixture is what the test says it is
        assert con.execute("SELECT customer_name FROM customers WHERE customer_id = 'C1003'").fetchone() == \
            ("Café Müller GmbH",)
    return db


def adjustment_rows(db) -> int:
    with open_db(db, read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        return con.execute("SELECT count(*) FROM adjustments").fetchone()[0] if "adjustments" in tables else 0


@pytest.mark.parametrize("argv, said", [
    (["adjust", "credit", "Café Müller GmbH", "--minutes", "90", "--reason", "x"],
     f"error: there is no customer 'Café Müller GmbH' in the data: {POINTS}"),
    (["adjust", "charge", "  café   MÜLLER gmbh ", "--minutes", "12.5", "--reason", "x"],   # case, spacing
     f"error: there is no customer 'café   MÜLLER gmbh' in the data: {POINTS}"),   # the id is trimmed
    (["adjust", "credit", "Café", "--minutes", "90", "--reason", "x"],                       # a name's start
     f"error: there is no customer 'Café' in the data: {POINTS}"),
    (["adjustments", "--customer", "Café Müller GmbH"],
     "error: --customer Café Müller GmbH: no customer 'Café Müller GmbH' in {db}: " + POINTS),
    (["report", "summary", "--customer", "Café Müller GmbH"],
     "error: --customer Café Müller GmbH: no customer 'Café Müller GmbH' in {db}: " + POINTS),
    (["share", "Café Müller GmbH"], "error: no customer 'Café Müller GmbH' in {db}: " + POINTS),
    (["adjust", "credit", "C9999", "--minutes", "90", "--reason", "x"],
     "error: there is no customer 'C9999' in the data: customers are given by id. The 40 customers are "
     "C1001 … C1040."),
])
def test_a_customers_name_where_an_id_belongs_points_at_the_id_on_every_command(demo, argv, said, capsys,
                                                                                  monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)                                     # no .streamlit/secrets.toml of the repo
    monkeypatch.setenv(share.SECRET_ENV, "s" * 40)
    before = adjustment_rows(demo)
    assert main([*argv, "--db", str(demo)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == said.format(db=demo) + "\n"
    assert adjustment_rows(demo) == before                          # nothing written


def test_the_id_itself_is_taken(demo, capsys):
    assert main(["adjust", "credit", "C1003", "--minutes", "90", "--reason", "outage", "--by", "ann",
                 "--on", "2026-11-20", "--db", str(demo)]) == 0
    assert capsys.readouterr().out.endswith("credit 1 h 30 min for C1003 (Café Müller GmbH), dated 2026-11-20.\n")
