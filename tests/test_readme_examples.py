"""Issue 11: every command the README's "Command line" section shows works, run as written on
the demo data: the files it names are made from the demo (an export folder, Toggl and Kimai
exports of the demo's customers, the README's own mapping file, a what-if policy). The alerts
go to a webhook on this machine (a policy with [alerts.webhook]), links are signed with a test
secret, and the link id the README revokes is the one its share command printed."""
from __future__ import annotations

import csv
import http.server
import os
import threading
import re
import shlex
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 29)   # the README's examples are of November 2026


def readme_block(title: str, language: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {title}", 1)[1] if title.startswith("Command") else text.split(f"### {title}", 1)[1]
    return re.search(rf"```{language}\n(.*?)```", section, re.S).group(1)


def commands() -> list[str]:
    lines = [line.split("  #", 1)[0].split(" # ", 1)[0].strip() for line in readme_block("Command line", "sh").splitlines()]
    return [line for line in lines if line.startswith("python -m billing")]


TOGGL = ["User", "Email", "Client", "Project", "Task", "Description", "Billable", "Start date", "Start time",
         "End date", "End time", "Duration", "Tags", "Amount (USD)"]


def toggl_rows(user: str, day: str, dates=lambda d: d) -> list[list[str]]:
    """Two entries of ``user`` for demo customers, written by name as a tracker's client (the
    import maps a client written like a known customer's name to its id)."""
    return [[user, "x@example.com", "Acme Logistics Inc.", "Support", "", "Setup", "Yes", dates(day), "09:00:00",
             dates(day), "09:25:00", "00:25:00", "", ""],
            [user, "x@example.com", "Café Müller GmbH", "Support", "", "Research", "Yes", dates(day), "10:00:00",
             dates(day), "10:40:00", "00:40:00", "", ""]]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    from billing.demo import write_demo

    work = tmp_path_factory.mktemp("readme")
    write_demo(work / "exports" / "2026-11", today=TODAY)
    write_csv(work / "toggl_detailed.csv", TOGGL, toggl_rows("Ana Souza", "2026-11-24"))
    write_csv(work / "toggl.csv", TOGGL, toggl_rows("Ana Souza", "2026-11-25"))
    write_csv(work / "ann_week.csv", TOGGL, toggl_rows("Ann Lee", "2026-10-20"))
    # The README's own mapping file (its day|month|year dates) and a file in that format.
    (work / "my_mapping.toml").write_text(readme_block("Tracker exports", "toml"), encoding="utf-8")
    write_csv(work / "export.csv", TOGGL,
              toggl_rows("Ben Okafor", "2026-11-23", lambda d: "|".join(reversed(d.split("-")))))
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Date", "From", "To", "Duration", "Rate", "User", "Customer", "Project", "Activity", "Description",
                  "Exported", "Tags", "Hourly rate", "Fixed rate", "Billable"])
    sheet.append(["2026-11-26", "09:00", "09:45", "0:45", "75.00", "ana", "Northwind Traders", "Support", "Setup",
                  "Console walk-through", "No", "", "100.00", "", "Yes"])
    book.save(work / "kimai_export.xlsx")
    policy = (ROOT / "billing.toml").read_text(encoding="utf-8")
    policy = re.sub(r"(?m)^rounding_increment_minutes\s*=.*$", "rounding_increment_minutes = 15", policy)
    assert "rounding_increment_minutes = 15" in policy
    (work / "what-if-15min.toml").write_text(policy, encoding="utf-8")
    return work


def test_the_readme_shows_the_commands_people_need():
    shown = commands()
    assert len(shown) >= 19
    for name in ("import", "report", "imports", "rejects", "undo", "demo"):
        assert any(c.split()[3] == name for c in shown), name


@pytest.fixture
def webhook():
    """A webhook on 127.0.0.1 that takes every POST; yields its URL and the bodies it got."""
    got = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", got
    server.shutdown()


def test_every_readme_command_works_on_the_demo(workdir, webhook):
    url, posted = webhook
    alerts_policy = workdir / "alerts.toml"
    alerts_policy.write_text((ROOT / "billing.toml").read_text(encoding="utf-8")
                             + f'\n[alerts.webhook]\nurl = "{url}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("HOURBANK_POLICY",)}
    env["HOURBANK_DB"] = "data/hourbank.duckdb"   # the README's own --db, for the commands without one
    env["PYTHONPATH"] = str(ROOT)
    env["HOURBANK_SHARE_SECRET"] = "a test secret of more than thirty-two characters"
    (workdir / "data").mkdir(exist_ok=True)
    ran, link_id = [], None
    for command in commands():
        args = shlex.split(command.replace("/tmp/", f"{workdir}/tmp/"))
        if "--revoke" in args and link_id:
            args[args.index("--revoke") + 1] = link_id      # the README's example id: the link made above
        if "--policy" not in args and args[3] in ("import", "report", "imports", "share"):
            args += ["--policy", str(ROOT / "billing.toml")]
        if "--policy" not in args and args[3] == "alerts":
            args += ["--policy", str(alerts_policy)]
        done = subprocess.run([sys.executable, *args[1:]], cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=300, stdin=subprocess.DEVNULL)
        ran.append(command)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr, command
        if args[3] == "report" and "--customer" in args:
            assert "Acme Logistics Inc." in done.stdout, done.stdout   # the name beside the id
        if args[3] == "share" and len(args) > 4 and not args[4].startswith("-"):
            found = re.search(r"^link (\S+) to ", done.stdout + done.stderr, re.M)
            assert found, done.stdout
            link_id = found.group(1)
    assert len(ran) == len(commands())
    assert (workdir / "reports" / "2026-11" / "summary.csv").is_file()
    assert link_id is not None and posted   # a link was made and revoked; the alerts reached the webhook
