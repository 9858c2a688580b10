"""The small books the customer links' tests share, relative to a day T (the page's T is today,
so the page tests pass today; the unit tests pass 2026-04-30). UTC, default policy: 30-minute
rounding (R5), blocks usable for 90 days after the purchase day (R7). By hand:

acme ("Acme Ltd"):
- P1, 1 h, bought T-100 (last day T-10). T-95: Ann logs 20 min → 30 min billed (R5), from P1
  (30 min left), which is forfeited at the end of T-10 (R9).
- T-8: 15 min → 30 min billed; P1 has ended and P2 is not bought yet: 30 min not covered (R8).
- P2, 4 h, bought T-5 (last day T+85, 85 days left). T-2: 10 min → 30 min billed, from P2:
  3 h 30 min left.
- Pace, the last 30 days (T-29..T): 30 + 30 = 60 min / 30 = 2 min a day. From T+1 to T+85 that
  draws 170 min of P2's 210: 40 min projected to be forfeited; the blocks never fall short, so the
  run-out is the day after P2's last day, T+86 (covered through T+85).

beta ("Beta GmbH"), the other customer whose figures must never show on acme's page:
- B1, 1 h, bought T-20; T-15: Bob logs 45 min → 60 min billed, B1 used up.
- B2, 10 h, bought T-3 (last day T+87): 10 h left.

With T = 2026-04-30: P1 2026-01-20 (last day 2026-04-20), 2026-01-25 billed, 2026-04-22
uncovered, P2 2026-04-25 (last day 2026-07-24), 2026-04-28 billed; by month: January bought
1 h, used and paid 30 min; April bought 4 h, used 1 h, paid 30 min, 30 min not covered, 30 min
forfeited; February and March nothing.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from billing.policy import Policy
from tests.builders import Ledger, entry, purchase

SECRET = "test-only share secret, long enough: 0123456789abcdef"
NOTE = "internal: customer keeps forgetting the VPN password"
STAFF = ("Ann", "Bob")


def day(t: date, offset: int) -> str:
    return (t + timedelta(days=offset)).isoformat()


def build(folder: Path, t: date) -> Ledger:
    """The books above as of ``t``, imported into ``folder``/test.duckdb."""
    led = Ledger(folder, Policy(timezone="UTC"))
    led.load(
        entries=[entry("a1", f"{day(t, -95)}T09:00:00", 20, customer="acme", staff="Ann", notes=NOTE,
                       activity="setup"),
                 entry("a2", f"{day(t, -8)}T09:00:00", 15, customer="acme", staff="Ann", notes=NOTE),
                 entry("a3", f"{day(t, -2)}T09:00:00", 10, customer="acme", staff="Bob"),
                 entry("b1", f"{day(t, -15)}T09:00:00", 45, customer="beta", staff="Bob", notes=NOTE)],
        purchases=[purchase("P1", day(t, -100), 1, customer="acme"), purchase("P2", day(t, -5), 4, customer="acme"),
                   purchase("B1", day(t, -20), 1, customer="beta"), purchase("B2", day(t, -3), 10, customer="beta")],
        customers=[{"customer_id": "acme", "customer_name": "Acme Ltd"},
                   {"customer_id": "beta", "customer_name": "Beta GmbH"}])
    return led


def build_today(folder: Path) -> tuple[Ledger, Path]:
    """The books above as of today (a page's T), with a UTC policy file beside them: (ledger,
    policy path)."""
    from billing.calendar import today_in

    led = build(folder, today_in("UTC"))
    policy = folder / "policy.toml"
    policy.write_text('timezone = "UTC"\n')
    return led, policy
