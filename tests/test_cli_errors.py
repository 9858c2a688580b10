"""The command line's own argument errors (billing.__main__.Parser): README's "Errors are one
sentence on stderr with exit code 1" holds for a missing option, a bad value, an unknown
option or command, on every command, not only for the errors the commands raise; --help is
argparse's own (exit 0)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from billing.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("argv, said", [
    (["adjust", "credit", "C1003", "--minutes", "90"],
     "adjust credit: --reason is required (why the adjustment is made, in words)."),
    (["adjust", "credit", "C1003", "--minutes", "90", "--reason", "x", "--on", "2026-13-01"],
     "adjust credit: --on '2026-13-01' is not a date (YYYY-MM-DD)."),
    (["adjust", "charge", "C1003", "--reason", "x"], "adjust charge: --minutes is required (minutes, a number > 0)."),
    (["adjust", "extend", "P1", "--reason", "x"], "adjust extend: --to is required (the block's new last day)."),
    (["adjust", "extend", "P1", "--reason", "x", "--to", "20270331"],
     "adjust extend: --to '20270331' is not a date (YYYY-MM-DD)."),   # fromisoformat alone would take it
    (["adjust", "credit"], "adjust credit: CUSTOMER_ID (the customer's id), --minutes (minutes, a number > 0) "
                           "and --reason (why the adjustment is made, in words) are required."),
    (["adjust"], "adjust: a kind is required: one of extend, waive, exclude, credit, charge, void "
                 "(python -m billing adjust --help says what each does)."),
    (["adjust", "refund", "C1"], "adjust: 'refund' is not a kind: one of extend, waive, exclude, credit, charge, void."),
    (["adjust", "void", "3", "--reason", "r", "--force"],
     "adjust void: --force: not an option or value adjust void takes (python -m billing adjust void --help lists them)."),
    ([], "a command is required: one of import, report, imports, undo, rejects, close, reopen, closings, adjust, "
         "adjustments, alerts, share, demo (python -m billing --help says what each does)."),
    (["reports"], "'reports' is not a command: one of import, report, imports, undo, rejects, close, reopen, "
                  "closings, adjust, adjustments, alerts, share, demo."),
    (["report"], "report: NAME is required (daily, blocks, summary or review)."),
    (["report", "dayly"], "report: NAME 'dayly' is not one of daily, blocks, summary, review."),
    (["report", "daily", "--format", "xlsx"], "report: --format 'xlsx' is not one of csv, table, json."),
    (["report", "daily", "--as-of"], "report: --as-of needs a value (report date T)."),
    (["report", "daily", "--as-of", "2026-02-30"], "report: --as-of '2026-02-30' is not a date (YYYY-MM-DD)."),
    (["import", "x", "--period", "2026-02-01..2026-13-01"],
     "import: --period '2026-02-01..2026-13-01': '2026-13-01' is not a date (YYYY-MM-DD)."),
    (["import", "x", "--period", "2026-02-01..2026-01-01"],
     "import: --period '2026-02-01..2026-01-01': the first day is after the last day."),
    (["undo"], "undo: IMPORT_ID is required (the import's number)."),
    (["undo", "x"], "undo: IMPORT_ID 'x' is not a whole number (digits 0-9)."),
    (["undo", "١٢"], "undo: IMPORT_ID '١٢' is not a whole number (digits 0-9)."),   # int() would read 12
    (["rejects", "+3"], "rejects: IMPORT_ID '+3' is not a whole number (digits 0-9)."),
    (["share", "C1003", "--days", "+5"], "share: --days '+5' is not a whole number (digits 0-9)."),
    (["alerts", "--send", "--dry-run"], "alerts: --dry-run and --send cannot be given together."),
    (["alerts", "--send=yes"], "alerts: --send takes no value ('yes' given)."),
    (["close"], "close: --through is required (the last day to close)."),
    (["reopen", "--from", "2026-1-5"], "reopen: --from '2026-1-5' is not a date (YYYY-MM-DD)."),
    (["closings", "--format", "pdf"], "closings: --format 'pdf' is not one of table, csv, json."),
    (["adjustments", "--format", "xml"], "adjustments: --format 'xml' is not one of csv, table, json."),
    (["demo"], "demo: --out is required (the folder to write the demo export to)."),
    (["demo", "--out", "x", "--seed", "seven"], "demo: --seed 'seven' is not a whole number (digits 0-9)."),
])
def test_an_argument_error_is_one_sentence_on_stderr_and_exit_1(argv, said, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HOURBANK_DB", str(tmp_path / "never.duckdb"))
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == f"error: {said}\n"
    assert not (tmp_path / "never.duckdb").exists()   # stopped before any command ran


def test_as_a_process_the_error_is_one_line_exit_1_and_help_still_works(tmp_path):
    run = [sys.executable, "-m", "billing"]
    bad = subprocess.run([*run, "adjust", "credit", "C1003", "--minutes", "90"], cwd=ROOT, capture_output=True,
                         text=True)
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr == "error: adjust credit: --reason is required (why the adjustment is made, in words).\n"
    helped = subprocess.run([*run, "adjust", "credit", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert (helped.returncode, helped.stderr) == (0, "")
    assert helped.stdout.startswith("usage: python -m billing adjust credit") and "--reason REASON" in helped.stdout
