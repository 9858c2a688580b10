"""A realistic demo export (FORMATS.md): a year of a small Tech Support team.

``write_demo`` writes about 40 customers, so a manager can click through every kind of row
the rules (RULES.md R1-R9) care about. It is deterministic for a given ``today`` and
``seed`` and imports with zero rejects. Its customers buy blocks as a sensible customer
would, planned with the engine's own rules (billing.demo_purchases).
The synthetic benchmark generator is billing.synthetic.

Minutes are kept as integer millionths of a minute (billing.canonical.MICRO), hours as
integer hundredths and money as integer cents; they become text only when written.
Timestamps are naive wall times in America/New_York (the project's policy timezone), a few
carrying an offset (R1).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from billing.canonical import COLUMNS, MICRO, format_fixed, format_wall, output_folder
from billing.demo_purchases import HOURS_VALID_DAYS, plan_purchases, planned_billable
from billing.errors import HourbankError
from billing.made_up import hours_before, minutes_choice, pick

ZONE = ZoneInfo("America/New_York")

GENERAL_ACTIVITIES = ["chat", "coaching", "tickets"]     # R2: General Support, never billable
ONBOARDING_ACTIVITIES = ["orientation", "familiarization", "setup", "project_management"]
ONGOING_ACTIVITIES = ["monitoring", "research", "testing", "project_management", "setup"]

# Block sizes in hours and their list price per hour, in cents.
BLOCK_PRICE_CENTS = {5: 16_000, 10: 15_000, 20: 14_000}


def _with_offset(wall: dt.datetime, utc: bool) -> str:
    """A New York wall time written with its offset (or as UTC with Z); same instant (R1)."""
    aware = wall.replace(tzinfo=ZONE)
    if utc:
        return aware.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return aware.isoformat(timespec="seconds")


def _epoch_seconds(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * 86_400


# --------------------------------------------------------------------------------------
# The demo

DEMO_STAFF = ["Ana Souza", "Ben Okafor", "Chloé Martin", "Dmitri Volkov", "Priya Nair"]  # 1-on-1
DEMO_GENERAL_STAFF = ["Grace Lee", "Tomás Rivera"]                                        # General Support

DEMO_CUSTOMERS = [
    "Acme Logistics Inc.", "Birchwood Dental Group", "Café Müller GmbH", "Łódź Design",
    "Northwind Traders", "Blue Heron Architects", "Kestrel Analytics LLC", "Harbor & Pine Law",
    "Søndergaard Bryggeri", "Crescent Moon Bakery", "Maple Street Clinic", "Oakridge Realty",
    "Pinnacle Freight Co.", "Riverbend Veterinary", "São Paulo Imports Ltda", "Summit Outdoor Gear",
    "Tidewater Insurance", "Verde Landscaping", "Wexford Accounting, LLP", "Yellowstone Media",
    "Zephyr Software", "Ålesund Seafood AS", "Brightside Tutoring", "Copperleaf Interiors",
    "Dunmore & Sons Plumbing", "Evergreen Senior Living", "Foxglove Florist",
    "Granite State Credit Union", "Hudson Valley Orchards", "Iron Bridge Fitness",
    "Juniper Health Partners", "Koç Textiles", "Lakeside Montessori", "Meridian Travel",
    "Nakamura Trading 中村商事", "O'Brien Family Dentistry", "Peñasco Coffee Roasters",
    "Quarry Hill Vineyards", "Redwood Nonprofit Alliance", "Straße 12 Studio",
]
# Fixed per customer (not per seed), so every seed shows every situation.
DEMO_PROFILES = (["healthy", "expiring", "forfeited", "overage", "healthy", "expiring", "new",
                  "healthy", "forfeited", "general_only"] * 4)
DEMO_PROFILES[9 + 10] = "churned"    # one general_only of four becomes churned
DEMO_PROFILES[9 + 30] = "churned"

NOTES = {
    "orientation": ["Walked through the admin console", "Intro to ticket workflow, shared runbook"],
    "familiarization": ["Read through their network diagram", "Reviewed existing backup jobs"],
    "setup": ['Configured "admin" role, reset MFA for two users', "Set up VPN profiles",
              "Installed monitoring agent on 3 servers"],
    "project_management": ["Updated project plan", "Prepared migration checklist"],
    "monitoring": ["Disk alert on file server, cleared old snapshots", "Checked overnight alerts"],
    "research": ["Compared two backup vendors", "Looked into printer driver issue"],
    "testing": ["Restore test from last night's backup", "Tested failover, all good"],
    "status_call": ["Monthly status call", "Weekly check-in"],
    "kickoff": ["Kickoff: goals, contacts, access"],
    "chat": ["Password reset via chat", "Chat: Outlook not syncing"],
    "coaching": ["Coaching call: shared mailboxes", "Coaching call: Teams meetings"],
    "tickets": ["Ticket: printer offline", "Ticket: new laptop request"],
}


@dataclass
class _DemoCustomer:
    customer_id: str
    name: str
    profile: str
    start: dt.date
    end: dt.date
    # (first day, last day, chance of ad-hoc 1-on-1 work on a weekday, sessions per month)
    phases: list = field(default_factory=list)
    general_chance: float = 0.04
    forced: list = field(default_factory=list)          # (day, hours*100, amount cents or None)
    windows: list = field(default_factory=list)         # when the purchase planner may buy
    small_blocks: bool = False
    discount: bool = False


def _demo_plan(rng: np.random.Generator, today: dt.date) -> list[_DemoCustomer]:
    """Who the customers are and what their year looked like, by profile."""
    first = today - dt.timedelta(days=364)
    days = dt.timedelta
    out = []
    for i, (name, profile) in enumerate(zip(DEMO_CUSTOMERS, DEMO_PROFILES)):
        c = _DemoCustomer(f"C{1001 + i}", name, profile, first, today)
        c.discount = bool(rng.random() < 0.25)
        busy = float(rng.uniform(0.15, 0.35))
        sessions = float(rng.uniform(1.5, 4.0))
        c.general_chance = float(rng.uniform(0.01, 0.06))
        if profile == "healthy":
            c.start = first + days(int(rng.integers(0, 40)))
            c.phases = [(c.start, today, busy, sessions)]
            c.windows = [(c.start, today)]
        elif profile == "expiring":
            # R7/R9: a block bought 62-83 days ago expires in 7-28 days with hours left.
            bought = today - days(HOURS_VALID_DAYS) + days(int(rng.integers(7, 29)))
            c.start = first + days(int(rng.integers(0, 30)))
            c.phases = [(c.start, bought - days(1), busy, sessions),
                        (bought, today, 0.05, 0.7)]
            c.forced = [(bought, 2000)]
            c.windows = [(c.start, bought - days(1))]
        elif profile == "forfeited":
            # R9: a 10-hour block barely used, its expiry passed: minutes forfeited.
            bought = today - days(int(rng.integers(130, 240)))
            c.start = first + days(int(rng.integers(0, 20)))
            quiet_end = bought + days(HOURS_VALID_DAYS)
            c.phases = [(c.start, bought - days(1), busy, sessions),
                        (bought, quiet_end, 0.03, 0.3)]
            c.forced = [(bought, 1000)]
            c.windows = [(c.start, bought - days(1))]
            if i % 20 == 2:      # half of them came back later and bought again
                back = quiet_end + days(int(rng.integers(10, 30)))
                if back < today - days(10):
                    c.phases.append((back, today, busy, sessions))
                    c.windows.append((back, today))
            c.end = max(p[1] for p in c.phases)
        elif profile == "overage":
            # R8: kept working after the last block ran out: uncovered minutes.
            c.start = first + days(int(rng.integers(0, 40)))
            stop = today - days(int(rng.integers(100, 160)))
            c.phases = [(c.start, today, float(rng.uniform(0.3, 0.45)), sessions + 1)]
            c.windows = [(c.start, stop)]
            c.small_blocks = True
        elif profile == "new":
            c.start = today - days(int(rng.integers(12, 36)))
            c.phases = [(c.start, today, 0.4, 2.0)]
            c.forced = [(c.start, 1000)]
            c.windows = [(c.start + days(1), today)]
        elif profile == "general_only":
            c.start = first + days(int(rng.integers(0, 60)))
            c.phases = []
            c.general_chance = float(rng.uniform(0.15, 0.3))
        elif profile == "churned":
            c.start = first + days(int(rng.integers(0, 20)))
            c.end = c.start + days(int(rng.integers(100, 150)))
            c.phases = [(c.start, c.end, busy, sessions)]
            c.windows = [(c.start, c.end)]
        # Work starts on a weekday (the kickoff of a new customer is on its first day).
        weekday = np.busday_offset(np.datetime64(c.start), 0, roll="forward").astype(dt.date)
        c.phases = [(weekday, *phase[1:]) if phase[0] == c.start else phase for phase in c.phases]
        c.forced = [(weekday, h) if d == c.start else (d, h) for d, h in c.forced]
        c.windows = [(weekday, w[1]) if w[0] == c.start else w for w in c.windows]
        c.start = weekday
        out.append(c)
    # A goodwill block of 2.5 hours, given for free (no amount), to one healthy customer.
    goodwill = out[0]
    goodwill.forced.append((goodwill.start + dt.timedelta(days=150), 250))
    return out


def _weekdays(start: dt.date, end: dt.date) -> np.ndarray:
    """Weekday dates from start to end inclusive, as numpy datetime64[D]."""
    if end < start:
        return np.array([], dtype="datetime64[D]")
    span = np.arange(np.datetime64(start), np.datetime64(end) + 1)
    return span[np.is_busday(span)]


def _demo_adhoc(rng, c: _DemoCustomer, phase, staff_primary: int) -> pd.DataFrame:
    start, end, chance, _ = phase
    days = _weekdays(start, end)
    days = days[rng.random(len(days)) < chance]
    if not len(days):
        return pd.DataFrame()
    per_day = rng.choice([1, 2, 3], len(days), p=[0.65, 0.25, 0.10])   # R3: several staff a day
    day = np.repeat(days, per_day)
    nth = np.arange(len(day)) - np.repeat(np.cumsum(per_day) - per_day, per_day)
    step = np.repeat(rng.integers(1, len(DEMO_STAFF), len(days)), per_day)
    staff = (staff_primary + nth * step) % len(DEMO_STAFF)     # distinct staff within a day
    first_minute = np.repeat(rng.integers(8 * 60, 17 * 60 + 30, len(days)), per_day)
    together = rng.random(len(day)) < 0.35                    # worked at the same time
    later = rng.integers(10, 150, len(day))
    minute = np.where((nth == 0) | together, first_minute, first_minute + later)
    day_index = (day - np.datetime64(c.start)).astype(int)
    onboarding = day_index < 21
    activity = np.where(onboarding, pick(rng, ONBOARDING_ACTIVITIES, len(day)),
                        pick(rng, ONGOING_ACTIVITIES, len(day)))
    seconds = day.astype("datetime64[s]").astype(np.int64) + minute * 60
    return pd.DataFrame({
        "customer_id": c.customer_id, "staff": np.asarray(DEMO_STAFF, dtype=object)[staff],
        "start_s": seconds, "micro": minutes_choice(rng, len(day)), "tier": "one_on_one",
        "activity": activity, "appt": -1, "requested": False, "nth": nth,
    })


def _demo_general(rng, c: _DemoCustomer) -> pd.DataFrame:
    days = _weekdays(c.start, c.end)
    days = days[rng.random(len(days)) < c.general_chance]
    n = len(days)
    if not n:
        return pd.DataFrame()
    activity = rng.choice(GENERAL_ACTIVITIES, n, p=[0.5, 0.2, 0.3])
    minutes = np.where(activity == "coaching", rng.choice([30, 45], n),
                       np.where(activity == "chat", rng.integers(3, 21, n), rng.integers(10, 31, n)))
    minute = rng.integers(8 * 60, 18 * 60, n)
    return pd.DataFrame({
        "customer_id": c.customer_id, "staff": pick(rng, DEMO_GENERAL_STAFF, n),
        "start_s": days.astype("datetime64[s]").astype(np.int64) + minute * 60,
        "micro": minutes.astype(np.int64) * MICRO, "tier": "general", "activity": activity.astype(object),
        "appt": -1, "requested": False, "nth": 0,
    })


def _demo_sessions(rng, c: _DemoCustomer, phase, staff_primary: int) -> pd.DataFrame:
    start, end, _, per_month = phase
    days = _weekdays(start, end)
    if not len(days):
        return pd.DataFrame()
    n = int(rng.poisson(per_month * len(days) / 21.7))
    if n == 0:
        return pd.DataFrame()
    day = np.sort(rng.choice(days, n))
    kind = rng.random(n) < 0.55        # status calls, otherwise working sessions
    minutes = np.where(kind, 30, rng.choice([45, 60, 90], n))
    activity = np.where(kind, "status_call", pick(rng, ONGOING_ACTIVITIES, n)).astype(object)
    slot = rng.integers(9 * 2, 16 * 2 + 1, n) * 30                 # on the hour or half hour
    staff = np.where(rng.random(n) < 0.8, staff_primary, rng.integers(0, len(DEMO_STAFF), n))
    return pd.DataFrame({
        "customer_id": c.customer_id, "staff": np.asarray(DEMO_STAFF, dtype=object)[staff],
        "start_s": day.astype("datetime64[s]").astype(np.int64) + slot * 60,
        "micro": minutes.astype(np.int64) * MICRO, "activity": activity,
    })


def _wall_minus(start_s: int, seconds: int) -> int:
    """The wall time `seconds` of real elapsed time before a New York wall time (R6, DST-aware)."""
    wall = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(start_s))
    instant = wall.replace(tzinfo=ZONE).astimezone(dt.timezone.utc) - dt.timedelta(seconds=int(seconds))
    back = instant.astimezone(ZONE).replace(tzinfo=None)
    return int((back - dt.datetime(1970, 1, 1)).total_seconds())


def build_demo(today: dt.date | None = None, seed: int = 7) -> dict[str, pd.DataFrame]:
    """The demo's four tables as text columns, exactly FORMATS.md's columns."""
    today = today or dt.date.today()
    rng = np.random.default_rng(seed)
    customers = _demo_plan(rng, today)
    entry_parts, session_parts = [], []
    for k, c in enumerate(customers):
        primary = k % len(DEMO_STAFF)
        for phase in c.phases:
            entry_parts.append(_demo_adhoc(rng, c, phase, primary))
            session_parts.append(_demo_sessions(rng, c, phase, primary))
        entry_parts.append(_demo_general(rng, c))
        if c.profile == "new":          # the kickoff session on day one, two staff (R3)
            start_s = _epoch_seconds(c.start) + 10 * 3600
            session_parts.append(pd.DataFrame({
                "customer_id": [c.customer_id], "staff": [DEMO_STAFF[primary]], "start_s": [start_s],
                "micro": [60 * MICRO], "activity": ["kickoff"]}))
        if c.end >= today and c.phases:   # a few future sessions, not yet happened
            n = int(rng.integers(1, 4))
            future = _weekdays(today + dt.timedelta(days=1), today + dt.timedelta(days=21))
            day = np.sort(rng.choice(future, n, replace=False))
            session_parts.append(pd.DataFrame({
                "customer_id": c.customer_id, "staff": DEMO_STAFF[primary],
                "start_s": day.astype("datetime64[s]").astype(np.int64) + rng.integers(18, 33, n) * 1800,
                "micro": rng.choice([30, 60], n).astype(np.int64) * MICRO, "activity": "status_call"}))
    entries = pd.concat([p for p in entry_parts if len(p)], ignore_index=True)
    appts = pd.concat([p for p in session_parts if len(p)], ignore_index=True)
    appts = appts.sort_values(["start_s", "customer_id", "staff"], kind="stable", ignore_index=True)

    # Outcomes of past sessions (R4, R6); future ones stay scheduled.
    n = len(appts)
    past = appts["start_s"].to_numpy() < _epoch_seconds(today + dt.timedelta(days=1))
    roll = rng.random(n)
    status = np.where(roll < 0.82, "completed", np.where(roll < 0.91, "cancelled",
                      np.where(roll < 0.95, "cancelled", "no_show"))).astype(object)
    by = np.where(roll < 0.91, "customer", np.where(roll < 0.95, "staff", "")).astype(object)
    kickoff = (appts["activity"] == "kickoff").to_numpy()
    status[kickoff] = "completed"
    status[~past] = "scheduled"
    by[status != "cancelled"] = ""
    # A couple of past sessions nobody updated: still 'scheduled'.
    stale = np.flatnonzero(past & (status == "completed") & ~kickoff
                           & (appts["start_s"].to_numpy() > _epoch_seconds(today - dt.timedelta(days=60))))
    status[rng.choice(stale, min(2, len(stale)), replace=False)] = "scheduled"
    notice = hours_before(rng, n)
    appts["status"] = status
    appts["cancelled_by"] = by
    appts["notice_s"] = np.where(status == "cancelled", notice, 0)
    # Two cancellations by the customer leave 'cancelled_by' empty, which means customer (R6).
    cust_cancel = np.flatnonzero((status == "cancelled") & (by == "customer"))
    blank_by = rng.choice(cust_cancel, min(2, len(cust_cancel)), replace=False)
    appts["id"] = [f"AP-{i + 1:04d}" for i in range(n)]

    # Session entries: one per completed session, sometimes a second staff member (R3, R4).
    done = appts[appts["status"] == "completed"]
    second = rng.random(len(done)) < 0.18
    reps = np.where(second, 2, 1)
    s = done.loc[done.index.repeat(reps)].reset_index()
    s_nth = np.arange(len(s)) - np.repeat(np.cumsum(reps) - reps, reps)
    scale = rng.choice([0.75, 0.9, 1.0, 1.0, 1.0, 1.1, 1.25], len(s))
    s_micro = np.round(s["micro"].to_numpy() * scale / MICRO * 4).astype(np.int64) * (MICRO // 4)
    staff_idx = np.array([DEMO_STAFF.index(x) for x in s["staff"]])
    staff_idx = np.where(s_nth == 1, (staff_idx + 1 + rng.integers(0, len(DEMO_STAFF) - 1, len(s)))
                         % len(DEMO_STAFF), staff_idx)
    session_entries = pd.DataFrame({
        "customer_id": s["customer_id"], "staff": np.asarray(DEMO_STAFF, dtype=object)[staff_idx],
        "start_s": s["start_s"].to_numpy() + rng.integers(0, 4, len(s)) * 60,
        "micro": np.maximum(s_micro, 5 * MICRO), "tier": "one_on_one", "activity": s["activity"],
        "appt": s["index"].to_numpy(), "requested": False, "nth": s_nth,
    })
    entries = pd.concat([entries, session_entries], ignore_index=True)

    # R3: a few extra people the customer asked for.
    extra = np.flatnonzero((entries["nth"] > 0).to_numpy() & (entries["tier"] == "one_on_one").to_numpy())
    asked = rng.choice(extra, min(8, len(extra)), replace=False)
    entries.loc[asked, "requested"] = True
    # R1: one monitoring job started late in the evening and ran past midnight.
    late_one = int(rng.choice(np.flatnonzero(((entries["tier"] == "one_on_one") & (entries["appt"] < 0)).to_numpy())))
    entries.loc[late_one, "start_s"] = (entries.loc[late_one, "start_s"] // 86_400) * 86_400 + (23 * 60 + 35) * 60
    entries.loc[late_one, "micro"] = 50 * MICRO
    entries.loc[late_one, "activity"] = "monitoring"
    # Only entries up to today: nothing in the demo is dated after T.
    entries = entries[entries["start_s"] < _epoch_seconds(today + dt.timedelta(days=1))]
    entries = entries.sort_values(["start_s", "customer_id", "staff", "micro"], kind="stable",
                                  ignore_index=True)

    daily = planned_billable(entries, appts, today)
    by_customer = {cid: part.droplevel(0) for cid, part in daily.groupby(level=0)}
    purchase_rows = []
    for c in customers:
        mine = by_customer.get(c.customer_id, pd.Series(dtype=np.int64))
        for day, hours100 in plan_purchases(rng, c, mine):
            purchase_rows.append((c.customer_id, day, hours100, c.discount))
    purchase_rows.sort(key=lambda r: (r[1], r[0]))

    return _demo_tables(rng, customers, entries, appts, purchase_rows, blank_by)


def _demo_tables(rng, customers, entries, appts, purchase_rows, blank_by) -> dict[str, pd.DataFrame]:
    names = {c.customer_id: c.name for c in customers}
    n = len(entries)
    started = np.asarray(format_wall(entries["start_s"]).to_pylist(), dtype=object)
    # R1: a few timestamps carry an offset (or are written in UTC); same instant, same day.
    for k, i in enumerate(rng.choice(n, 6, replace=False)):
        wall = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(entries["start_s"].iat[i]))
        started[i] = _with_offset(wall, utc=(k % 3 == 2))
    notes_pick = rng.random(n) < 0.3
    notes = np.array([NOTES[a][int(j) % len(NOTES[a])] if pick and a in NOTES else ""
                      for a, j, pick in zip(entries["activity"], rng.integers(0, 10, n), notes_pick)],
                     dtype=object)
    requested = entries["requested"].to_numpy()
    notes[requested] = "Customer asked for an extra engineer to join"
    appt_ids = appts["id"].to_numpy()
    appt_col = np.where(entries["appt"].to_numpy() >= 0, appt_ids[np.maximum(entries["appt"].to_numpy(), 0)], "")
    time_entries = pd.DataFrame({
        "entry_id": [f"TE-{i + 1:05d}" for i in range(n)],
        "customer_id": entries["customer_id"].to_numpy(),
        "customer_name": [names[x] for x in entries["customer_id"]],
        "staff": entries["staff"].to_numpy(),
        "started_at": started,
        "minutes": format_fixed(entries["micro"], 6).to_pylist(),
        "tier": entries["tier"].to_numpy(),
        "activity": entries["activity"].to_numpy(),
        "appointment_id": appt_col,
        "customer_requested": np.where(requested, "true", "false"),
        "notes": notes,
    })

    m = len(appts)
    start_s = appts["start_s"].to_numpy()
    scheduled = np.asarray(format_wall(start_s).to_pylist(), dtype=object)
    cancelled = appts["status"].to_numpy() == "cancelled"
    cancel_s = np.array([_wall_minus(s, notice) if c else 0
                         for s, notice, c in zip(start_s, appts["notice_s"], cancelled)], dtype=np.int64)
    cancelled_at = np.where(cancelled, np.asarray(format_wall(cancel_s).to_pylist(), dtype=object), "")
    for k, i in enumerate(rng.choice(m, 2, replace=False)):
        scheduled[i] = _with_offset(dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(start_s[i])), utc=k == 1)
    one_cancel = rng.choice(np.flatnonzero(cancelled), 1)
    for i in one_cancel:
        cancelled_at[i] = _with_offset(dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(cancel_s[i])), utc=False)
    by = appts["cancelled_by"].to_numpy().copy()
    by[blank_by] = ""
    appointments = pd.DataFrame({
        "appointment_id": appt_ids, "customer_id": appts["customer_id"].to_numpy(),
        "staff": appts["staff"].to_numpy(), "scheduled_start": scheduled,
        "scheduled_minutes": format_fixed(appts["micro"], 6).to_pylist(),
        "status": appts["status"].to_numpy(), "cancelled_at": cancelled_at, "cancelled_by": by,
    })

    p = len(purchase_rows)
    when = []
    for k, (_, day, _, _) in enumerate(purchase_rows):
        roll = rng.random()
        wall = dt.datetime.combine(day, dt.time(int(rng.integers(7, 18)), int(rng.integers(0, 60))))
        if roll < 0.25:
            when.append(day.isoformat())                        # a date alone is allowed here
        elif roll < 0.3:
            when.append(_with_offset(wall, utc=roll < 0.27))
        else:
            when.append(wall.isoformat(timespec="seconds"))
    hours100 = np.array([r[2] for r in purchase_rows], dtype=np.int64)
    amount = []
    for (_, _, h100, discount) in purchase_rows:
        if h100 % 100 or h100 // 100 not in BLOCK_PRICE_CENTS:
            amount.append("")                                   # a goodwill block: no price
            continue
        cents = BLOCK_PRICE_CENTS[h100 // 100] * (h100 // 100)
        if discount:
            cents = cents * 90 // 100
        amount.append(format_fixed([cents], 2, keep_zeros=True)[0].as_py())
    purchases = pd.DataFrame({
        "purchase_id": [f"PO-{i + 1:04d}" for i in range(p)],
        "customer_id": [r[0] for r in purchase_rows], "purchased_at": when,
        "hours": format_fixed(hours100, 2).to_pylist() if p else [], "amount": amount,
    })
    customers_df = pd.DataFrame({"customer_id": [c.customer_id for c in customers],
                                 "customer_name": [c.name for c in customers]})
    return {"time_entries": time_entries, "appointments": appointments,
            "purchases": purchases, "customers": customers_df}


def write_demo(out_dir, today: dt.date | None = None, seed: int = 7) -> dict[str, int]:
    """Write the demo export (four CSV files) into out_dir; return the row count per file."""
    path = output_folder(out_dir)
    tables = build_demo(today, seed)
    counts = {}
    for name, frame in tables.items():
        target = path / f"{name}.csv"
        try:
            frame[COLUMNS[name]].to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
        except OSError as exc:
            raise HourbankError(f"{target}: cannot write the demo file ({exc.strerror}).") from None
        counts[name] = len(frame)
    return counts
