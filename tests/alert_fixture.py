"""The small books the alerts' tests share (T = 2026-04-30, UTC, default policy: 30-minute
rounding, 90 days of validity), by hand:

- acme bought A1 = 10 h on 2026-02-05 (last day 2026-05-06: 23 + 31 + 30 + 6 = 90 days on), logged
  30 min on each of 1–10 April: 300 min used, 5 h left, 6 days before its last day (the 7-day
  alert). Pace 300 min / 30 days = 10 min a day: May 1–6 draw 60 min, 4 h are projected forfeited.
- beta bought B1 = 2 h on 2026-04-01 and used 60 + 30 = 90 min: 30 min left, below 2 h (low
  balance). Pace 90 / 30 = 3 min a day: May 1–10 use the 30 min, it runs out on 2026-05-11.
- gamma bought nothing and logged 45 min on 2026-04-28, rounded up to 60 (R5): 1 h of overage.

acme's contact is ops@acme.example, beta's it@beta.example and boss@beta.example; gamma has none.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from billing.policy import Policy
from tests.builders import Ledger, entry, purchase

ROOT = Path(__file__).resolve().parents[1]
T = date(2026, 4, 30)
MANAGERS = ["lead@example.com", "billing@example.com"]

ACME_MANAGER = ("Acme Ltd (acme): block A1 (bought 2026-02-05, 10 h) has 5 h left; its last day is 2026-05-06, "
                "in 6 days (alert at 7 days). At the customer's pace (10 min a day over the last 30 days), 4 h of "
                "it are projected to be forfeited (R9).")
BETA_MANAGER = ("Beta GmbH (beta): 30 min of prepaid time left, below the alert threshold of 2 h (last purchase "
                "B1: 2 h on 2026-04-01). At its pace (3 min a day) it runs out on 2026-05-11.")
GAMMA_MANAGER = ("Gamma Inc (gamma): 1 h of billable time (it has bought no block) is not covered by any block "
                 "(R8), from 2026-04-28 to 2026-04-28; it needs a new block.")


def build(tmp_path: Path) -> Ledger:
    led = Ledger(tmp_path, Policy(timezone="UTC"))
    led.load(
        entries=[entry(f"a{d}", f"2026-04-{d:02d}T09:00:00", 30, customer="acme", staff="Ann",
                       notes="internal: slow VPN again") for d in range(1, 11)]
        + [entry("b1", "2026-04-20T09:00:00", 60, customer="beta", staff="Cy"),
           entry("b2", "2026-04-21T09:00:00", 30, customer="beta", staff="Cy"),
           entry("g1", "2026-04-28T09:00:00", 45, customer="gamma", staff="Dee")],
        purchases=[purchase("A1", "2026-02-05", 10, customer="acme"), purchase("B1", "2026-04-01", 2, customer="beta")],
        customers=[{"customer_id": "acme", "customer_name": "Acme Ltd", "contact_email": "ops@acme.example"},
                   {"customer_id": "beta", "customer_name": "Beta GmbH",
                    "contact_email": "it@beta.example; boss@beta.example"},
                   {"customer_id": "gamma", "customer_name": "Gamma Inc"}])
    return led


def policy_file(tmp_path: Path, smtp_port: int | None, hook_url: str | None, digest: str = "off",
                notify_customers: bool = True, smtp_extra: str = 'security = "none"\n') -> Path:
    smtp_extra += "timeout_seconds = 10\n"   # a test that hangs fails in seconds, not minutes
    text = f'timezone = "UTC"\n[alerts]\ndigest = "{digest}"\nnotify_customers = {str(notify_customers).lower()}\n'
    if smtp_port is not None:
        text += f"managers = {json.dumps(MANAGERS)}\n"
        text += f'[alerts.smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsender = "hourbank@example.com"\n{smtp_extra}'
    if hook_url is not None:
        text += f'[alerts.webhook]\nurl = "{hook_url}"\n'
    path = tmp_path / "alerts.toml"
    path.write_text(text, encoding="utf-8")
    return path


