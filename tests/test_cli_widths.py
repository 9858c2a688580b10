"""Every table and listing of the command line fits the terminal (COLUMNS, else 80), keeps
each customer's name beside its id, and still shows the figures a billing manager reads
first. The figures below are worked out by hand from the small export (docs/rules.md):

acme (a long name) buys P1 2 h on 2026-01-10 and P2 1 h on 2026-02-01.
  2026-01-12: ad-hoc 5 + 30 min, each rounded up to 30 (R3) → 1 h billable
  2026-01-13: a completed session logged 45 min (session_billing = logged) → 45 min
  2026-01-14: cancelled 10 h before a 60-min session (< 24 h notice): a 30-min fee (R6)
              → P1 has 120 - 60 - 45 = 15 min left: 15 min covered, 15 min uncovered (R8)
  2026-02-03: ad-hoc 10 min → 30 min from P2 → P2 has 30 min left (active as of 2026-04-30)
nk (a CJK name, two terminal cells a character) buys P3 5 h on 2026-04-01 and uses 20 min
  ad-hoc on 2026-04-10 → 30 min billable → 4 h 30 min left.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from billing.text_table import cells
from tests.builders import appointment, entry, purchase, write_csv, write_export

ROOT = Path(__file__).resolve().parent.parent
LONG = "Acme Logistics Incorporated Worldwide Holdings of Portland"
CJK = "中村商事株式会社 Nakamura Trading"
AS_OF = "2026-04-30"


def cli(width: int, *args, env: dict | None = None) -> str:
    environ = dict(os.environ, COLUMNS=str(width), **(env or {}))
    out = subprocess.run([sys.executable, "-m", "billing", *map(str, args)], cwd=ROOT, capture_output=True,
                         text=True, env=environ)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("widths")
    export = write_export(
        tmp / "export",
        entries=[entry("e1", "2026-01-12T09:00", 5), entry("e2", "2026-01-12T14:00", 30, staff="Bob"),
                 entry("e3", "2026-01-13T10:00", 45, appointment_id="S1"), entry("e5", "2026-02-03T10:00", 10),
                 entry("n1", "2026-04-10T10:00", 20, customer="nk"), entry("bad", "2026-02-03", 10)],
        appointments=[appointment("S1", "2026-01-13T10:00"),
                      appointment("C1", "2026-01-14T15:00", 60, "cancelled", cancelled_at="2026-01-14T05:00")],
        purchases=[purchase("P1", "2026-01-10", 2), purchase("P2", "2026-02-01", 1),
                   purchase("P3", "2026-04-01", 5, customer="nk")],
        customers=[{"customer_id": "acme", "customer_name": LONG}, {"customer_id": "nk", "customer_name": CJK}])
    db = tmp / "db.duckdb"
    policy = write_csv(tmp / "p.toml", 'timezone = "UTC"\n[alerts]\n[alerts.webhook]\n'
                                       'url = "http://127.0.0.1:9/hook"\n')
    cli(200, "import", export, "--db", db)
    cli(200, "adjust", "credit", "nk", "--minutes", "90", "--on", "2026-04-20", "--by", "Marta Kowalska-Szymańska",
        "--reason", "Goodwill for the outage on the 12th, agreed with the customer's office manager by phone",
        "--db", db, "--policy", policy)
    cli(200, "close", "--through", "2026-01-31", "--by", "lead@example.com", "--policy", policy,
        "--reason", "January statements sent to every customer after the review meeting", "--db", db)
    env = {"HOURBANK_SHARE_SECRET": "s" * 40, "HOME": str(tmp)}
    cli(200, "share", "nk", "--db", db, "--policy", policy, env=env)
    return db, policy, env


def rows_of(out: str, customer: str) -> list[str]:
    return [line for line in out.splitlines() if line.split()[:1] == [customer] or f" {customer} " in line]


def cell_slice(line: str, start: int, end: int) -> str:
    """The characters of ``line`` between terminal cells ``start`` and ``end``."""
    out, at = [], 0
    for ch in line:
        if start <= at < end:
            out.append(ch)
        at += cells(ch)
    return "".join(out).strip()


def table(out: str) -> list[dict[str, str]]:
    """A printed table's rows as {header: cell}, the columns read from the rule of dashes."""
    lines = out.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    spans, at = [], 0
    for dashes in lines[rule].split("  "):
        spans.append((at, at + len(dashes)))
        at += len(dashes) + 2
    heads = [cell_slice(lines[rule - 1], a, b) for a, b in spans]
    body = []
    for line in lines[rule + 1:]:
        if line.startswith(("(", "Left out", "what to do")):
            break
        body.append({h: cell_slice(line, a, b) for h, (a, b) in zip(heads, spans)})
    return body


def fits(out: str, width: int) -> None:
    assert out.strip(), "nothing printed"
    too_long = [line for line in out.splitlines() if cells(line) > width]
    assert not too_long, too_long


@pytest.mark.parametrize("width", [80, 120])
def test_each_report_fits_and_keeps_names_and_the_main_figures(books, width):
    db, policy, _ = books
    common = ("--db", db, "--as-of", AS_OF, "--policy", policy)
    summary = cli(width, "report", "summary", *common)
    fits(summary, width)
    acme, nk = table(summary)
    assert acme["customer"] == "acme" and acme["name"].startswith("Acme Logistics") and acme["name"].endswith("…")
    assert (acme["uncovered"], acme["remaining"]) == ("15 min", "30 min")
    assert nk["customer"] == "nk" and nk["name"].startswith("中村商事")
    assert nk["remaining"] == "6 h"   # 5 h bought + 1 h 30 min credited - 30 min used
    if width == 120:
        assert (acme["purchased"], acme["billable"]) == ("3 h", "2 h 45 min")   # 60 + 45 + 30 + 30 min

    daily = cli(width, "report", "daily", *common)
    fits(daily, width)
    fee_day = next(r for r in table(daily) if r["day"] == "2026-01-14")
    assert (fee_day["customer"], fee_day["billable"], fee_day["uncovered"]) == ("acme", "30 min", "15 min")
    assert fee_day["name"].startswith("Acme Logistics")

    blocks = cli(width, "report", "blocks", *common)
    fits(blocks, width)
    p2 = next(r for r in table(blocks) if r["block"] == "P2")
    assert (p2["customer"], p2["remaining"], p2["status"]) == ("acme", "30 min", "active")
    assert p2["name"].startswith("Acme Logistics")
    if width == 80:
        assert "Left out to fit 80 characters:" in blocks and "--format csv" in blocks

    review = cli(width, "report", "review", *common)
    fits(review, width)


@pytest.mark.parametrize("width", [80, 120])
def test_each_listing_fits(books, width):
    db, policy, env = books
    adjustments = cli(width, "adjustments", "--db", db)
    fits(adjustments, width)
    assert "credit 1 h 30 min" in adjustments and "nk · 中村" in adjustments
    closings = cli(width, "closings", "--db", db, "--policy", policy)
    fits(closings, width)
    assert "closed through 2026-01-31 (in force), by lead@example.com" in closings
    imports = cli(width, "imports", "--db", db, "--policy", policy)
    fits(imports, width)
    assert "1 rejected" in " ".join(imports.split())
    rejects = cli(width, "rejects", "--db", db)
    fits(rejects, width)
    assert "line 7" in rejects
    links = cli(width, "share", "--list", "--db", db, "--policy", policy, env=env)
    fits(links, width)
    assert "nk (中村商事株式会社 Nakamura Trading)" in " ".join(links.split())
    dry = cli(width, "alerts", "--dry-run", "--as-of", AS_OF, "--db", db, "--policy", policy)
    fits(dry, width)
    assert "dry run: nothing sent" in dry


def test_a_table_that_cannot_fit_says_so_in_one_line(books):
    db, policy, _ = books
    out = cli(50, "report", "summary", "--db", db, "--as-of", AS_OF, "--policy", policy)
    assert out.startswith("This table needs ") and "--format csv" in out and "acme" not in out
    fits(out, 50)


def test_the_csv_and_json_keep_every_column_whatever_the_width(books):
    db, policy, _ = books
    csv = cli(40, "report", "summary", "--db", db, "--as-of", AS_OF, "--policy", policy, "--format", "csv")
    assert csv.splitlines()[0].count(",") == 10
    rows = json.loads(cli(40, "report", "summary", "--db", db, "--as-of", AS_OF, "--policy", policy,
                          "--format", "json"))
    assert {r["customer_id"]: r["remaining_minutes"] for r in rows} == {"acme": 30.0, "nk": 360.0}


def test_a_report_written_to_a_folder_keeps_every_column(books, tmp_path):
    db, policy, _ = books
    cli(80, "report", "summary", "--db", db, "--as-of", AS_OF, "--policy", policy, "--format", "table",
        "--out", tmp_path)
    text = (tmp_path / "summary.txt").read_text(encoding="utf-8")
    assert LONG in text and "nonbillable" in text and "Left out" not in text
