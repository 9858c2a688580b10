"""The small real database the billing.pages tests (and the page tests) share.

RULES.md's worked example (customer acme) plus customer beta, who bought 10 h on
2026-04-01, logged 90 min of ad-hoc work in April and has three cancellations around T.
T = 2026-04-30, timezone UTC, default policy.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.pages.common import Filters
from billing.policy import US_PER_MINUTE, Policy
from tests.builders import Ledger, appointment, entry, purchase

T = date(2026, 4, 30)
MIN = US_PER_MINUTE
POLICY = Policy(timezone="UTC")


def load_fixture(led: Ledger) -> Ledger:
    led.load(
        entries=[
            entry("e1", "2026-01-12T09:00:00", 5, staff="Ann", activity="setup"),
            entry("e2", "2026-01-12T14:00:00", 30, staff="Bob", activity="research"),
            entry("e3", "2026-01-13T10:00:00", 45, staff="Ann", appointment_id="S1"),
            entry("e4", "2026-02-02T10:00:00", 40, staff="Gail", tier="general"),
            entry("e5", "2026-02-03T10:00:00", 10, staff="Ann", activity="setup"),
            entry("b1", "2026-04-20T09:00:00", 60, customer="beta", staff="Cy", activity="setup"),
            entry("b2", "2026-04-21T09:00:00", 30, customer="beta", staff="Cy", activity="testing"),
            entry("b3", "2026-04-22T09:00:00", 0.5, customer="beta", staff="Ann", tier="general"),
            entry("b4", "2026-05-02T09:00:00", 60, customer="beta", staff="Cy"),  # after T: not yet
        ],
        appointments=[
            appointment("S1", "2026-01-13T10:00:00", 60, "completed", staff="Ann"),
            appointment("C1", "2026-01-14T15:00:00", 60, "cancelled", staff="Ann",
                        cancelled_at="2026-01-14T05:00:00", cancelled_by="customer"),  # 10 h: fee (R6)
            appointment("A3", "2026-04-22T10:00:00", 60, "cancelled", customer="beta", staff="Cy",
                        cancelled_at="2026-04-21T10:00:00", cancelled_by="staff"),     # staff: free
            appointment("A4", "2026-04-23T10:00:00", 60, "no_show", customer="beta", staff="Cy"),
            appointment("A5", "2026-04-24T10:00:00", 60, "cancelled", customer="beta", staff="Cy",
                        cancelled_at="2026-04-23T10:00:00", cancelled_by="customer"),  # exactly 24 h: free
        ],
        purchases=[purchase("P1", "2026-01-10", 2), purchase("P2", "2026-02-01", 1),
                   purchase("P3", "2026-04-01", 10, customer="beta")],
        customers=[{"customer_id": "acme", "customer_name": "Acme Ltd"},
                   {"customer_id": "beta", "customer_name": "Beta GmbH"}],
    )
    return led


def F(start="2026-01-01", end="2026-04-30", customers=(), staff=(), as_of=T):
    return Filters(as_of, date.fromisoformat(start), date.fromisoformat(end), tuple(customers), tuple(staff))


def minutes(us: int) -> Decimal:
    return Decimal(int(us)) / MIN


def daily_sum(led, column: str, start: date, end: date, customer=None) -> Decimal:
    """The same figure from the engine's `daily` report (minutes as 2-decimal text)."""
    d = led.report("daily", T)
    d = d[(d["day"] >= start.isoformat()) & (d["day"] <= end.isoformat())]
    if customer:
        d = d[d["customer_id"] == customer]
    return sum((Decimal(v) for v in d[column]), Decimal(0))
