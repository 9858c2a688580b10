"""What each dashboard page shows, computed from the engine's frames (no Streamlit here).

Every figure a page renders comes from a function in this module, so it can be tested
on its own against ``billing.reports``. Minutes stay integer microseconds (``*_us``);
hours become numbers only for chart axes (``hours_float``) and text only through
``billing.statement_model.format_minutes`` (the one people's style of the app).

The shared filters (``Filters``): the as-of date T, a period inside it, customers and
staff (empty = all). The staff filter applies to entry-level figures (logged minutes by
staff and activity, appointments by staff); billable minutes are a customer's (R5 rounds
a customer's whole day, across all staff), so those figures are not split by staff.
"""
from __future__ import annotations

import json

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from billing import ledger, rules
from billing.policy import US_PER_HOUR, US_PER_MINUTE, Policy
from billing.reports import Books, minutes_text
from billing.statement_model import format_minutes

MAX_CHART_POINTS = 50_000
FORFEITED_LOOKBACK_DAYS = 90
PACE_WINDOW_DAYS = 30
URGENT_BLOCKS = 5

# --------------------------------------------------------------------------- filters
PERIODS = {
    "last_30_days": "Last 30 days",
    "this_month": "This month",
    "last_month": "Last month",
    "last_90_days": "Last 90 days",
    "this_year": "This year",
    "last_365_days": "Last 365 days",
    "custom": "Custom range",
}
GRAINS = {"day": "Day", "week": "Week", "month": "Month"}


@dataclass(frozen=True)
class Filters:
    """The sidebar's filters, shared by every page. Empty customers/staff = all."""
    as_of: date
    start: date
    end: date
    customers: tuple[str, ...] = ()
    staff: tuple[str, ...] = ()

    def __post_init__(self):
        if self.start > self.end:
            raise ValueError(f"period {self.start}..{self.end}: the first day is after the last day")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Filters":
        """The period of the same length just before this one (for trends)."""
        end = self.start - timedelta(days=1)
        return Filters(self.as_of, end - timedelta(days=self.days - 1), end, self.customers, self.staff)

    def key(self) -> tuple:
        """Small scalars for cache keys."""
        return (self.as_of.isoformat(), self.start.isoformat(), self.end.isoformat(),
                self.customers, self.staff)


def period_bounds(preset: str, as_of: date, custom: tuple[date, date] | None = None) -> tuple[date, date]:
    """First and last day of a named period relative to T; the last day is never after T."""
    if preset == "last_30_days":
        return as_of - timedelta(days=29), as_of
    if preset == "last_90_days":
        return as_of - timedelta(days=89), as_of
    if preset == "last_365_days":
        return as_of - timedelta(days=364), as_of
    if preset == "this_month":
        return as_of.replace(day=1), as_of
    if preset == "last_month":
        end = as_of.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if preset == "this_year":
        return as_of.replace(month=1, day=1), as_of
    if preset == "custom":
        if not custom or len(custom) != 2 or custom[0] is None or custom[1] is None:
            return as_of - timedelta(days=29), as_of
        start, end = min(custom), max(custom)
        end = min(end, as_of)
        return min(start, end), end
    raise ValueError(f"unknown period {preset!r} (known: {', '.join(PERIODS)})")


# --------------------------------------------------------------------------- helpers
def hours_float(us) -> np.ndarray | float:
    """Hours as floats, for chart axes only (never summed back into a figure)."""
    if np.isscalar(us):
        return int(us) / US_PER_HOUR
    return np.asarray(us, dtype="int64") / US_PER_HOUR


def hours_text(us) -> list[str] | str:
    """The app's one style for hours ("1 h 30 min"), for a figure or a column."""
    if np.isscalar(us):
        return format_minutes(int(us))
    return [format_minutes(int(v)) for v in np.asarray(us, dtype="int64")]


def _dt(values) -> pd.Series:
    s = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    return pd.to_datetime(s)


def in_period(days, start: date, end: date) -> np.ndarray:
    d = _dt(days)
    return ((d >= pd.Timestamp(start)) & (d <= pd.Timestamp(end))).to_numpy()


def of_customers(frame: pd.DataFrame, customers: tuple[str, ...]) -> pd.DataFrame:
    if not customers:
        return frame
    return frame[frame["customer_id"].isin(list(customers))]


def bucket_start(days, grain: str) -> pd.Series:
    """The first day of each date's day/week (Monday)/month bucket, as datetime64."""
    d = _dt(days).dt.normalize()
    if grain == "day":
        return d
    if grain == "week":
        return d - pd.to_timedelta(d.dt.day_of_week, unit="D")
    if grain == "month":
        return d - pd.to_timedelta(d.dt.day - 1, unit="D")
    raise ValueError(f"unknown grain {grain!r} (known: day, week, month)")


def period_days(books: Books, f: Filters) -> pd.DataFrame:
    """The customer-days of the period for the chosen customers (R1 business days ≤ T)."""
    d = of_customers(books.days, f.customers)
    return d[in_period(d["day"], f.start, f.end)]


# --------------------------------------------------------------------------- overview
@dataclass
class Kpi:
    label: str
    value_us: int
    previous_us: int | None = None
    help: str = ""

    @property
    def delta_us(self) -> int | None:
        return None if self.previous_us is None else self.value_us - self.previous_us

    @property
    def text(self) -> str:
        return format_minutes(self.value_us)

    @property
    def delta_text(self) -> str | None:
        if self.delta_us is None:
            return None
        sign = "+" if self.delta_us > 0 else ""
        return f"{sign}{format_minutes(self.delta_us)} vs previous period"


@dataclass
class Overview:
    billable: Kpi
    uncovered: Kpi
    forfeited_90d: Kpi
    expiring: Kpi
    fees: Kpi
    general: Kpi
    fee_count: int
    uncovered_customers: pd.DataFrame      # customer_id, uncovered_us, remaining_us, needs
    urgent_blocks: pd.DataFrame            # purchase_id, customer_id, expires_on, days_left, remaining_us
    trend: pd.DataFrame                    # bucket, billable_us, previous_us (previous period aligned)
    empty: bool = False


def _sum(frame: pd.DataFrame, col: str) -> int:
    return int(frame[col].sum()) if len(frame) else 0


def overview(books: Books, f: Filters) -> Overview:
    """The Overview page's figures for the period, with the previous period for trends."""
    cur, prev = period_days(books, f), period_days(books, f.previous())
    blocks = of_customers(books.blocks, f.customers)
    policy = books.policy
    kpi_billable = Kpi("Billable", _sum(cur, "billable_us"), _sum(prev, "billable_us"),
                       "Billable hours in the period: sessions, rounded ad-hoc work and fees (R4-R6).")
    kpi_uncovered = Kpi("Uncovered (overage)", _sum(cur, "uncovered_us"), _sum(prev, "uncovered_us"),
                        "Billable time no prepaid block covered (R8): invoice it separately.")
    kpi_fees = Kpi("Cancellation fees", _sum(cur, "fee_us"), _sum(prev, "fee_us"),
                   "Late cancellations by the customer and no-shows (R6).")
    kpi_general = Kpi("General support (free)", _sum(cur, "general_us"), _sum(prev, "general_us"),
                      "General Support time: never billable (R2).")
    # R9: forfeited at the end of expires_on; "last 90 days" = expired in T-90 .. T-1.
    lookback = f.as_of - timedelta(days=FORFEITED_LOOKBACK_DAYS)
    exp = _dt(blocks["expires_on"])
    recent = blocks[((exp >= pd.Timestamp(lookback)) & (exp < pd.Timestamp(f.as_of))).to_numpy()]
    kpi_forfeited = Kpi("Forfeited, last 90 days", _sum(recent, "forfeited_us"), None,
                        f"Prepaid time left in blocks that expired since {lookback} (R9).")
    soon = blocks[(blocks["status"] == ledger.STATUS_ACTIVE) & blocks["expiring_soon"]]
    kpi_expiring = Kpi(f"Expiring within {policy.expiring_window_days} days", _sum(soon, "remaining_us"), None,
                       "Prepaid time left in active blocks that expire soon (R9, expiring_window_days).")

    unc = cur[cur["uncovered_us"] > 0].groupby("customer_id", as_index=False)["uncovered_us"].sum()
    active = blocks[blocks["status"] == ledger.STATUS_ACTIVE]
    remaining = active.groupby("customer_id")["remaining_us"].sum()
    unc["remaining_us"] = unc["customer_id"].map(remaining).fillna(0).astype("int64")
    unc["needs"] = np.where(unc["remaining_us"] > 0, "check the balance", "needs a new block")
    unc = unc.sort_values(["uncovered_us", "customer_id"], ascending=[False, True], kind="stable")

    urgent = active[active["remaining_us"] > 0].sort_values(
        ["expires_on", "remaining_us", "purchase_id"], ascending=[True, False, True], kind="stable")
    urgent = urgent.head(URGENT_BLOCKS)[["purchase_id", "customer_id", "expires_on", "days_left", "remaining_us"]]

    trend = _aligned_trend(cur, prev, f)
    fee_count = int(of_customers(books.appointments, f.customers).pipe(
        lambda a: ((a["fee_us"] > 0) & in_period(a["day"], f.start, f.end)).sum()))
    return Overview(kpi_billable, kpi_uncovered, kpi_forfeited, kpi_expiring, kpi_fees, kpi_general,
                    fee_count, unc.reset_index(drop=True), urgent.reset_index(drop=True), trend,
                    empty=books.days.empty and books.blocks.empty and books.appointments.empty)


def _aligned_trend(cur: pd.DataFrame, prev: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """Billable per day (or week for long periods) of this period beside the previous one."""
    grain = "day" if f.days <= 62 else ("week" if f.days <= 400 else "month")
    pf = f.previous()
    offset = pd.Timestamp(f.start) - pd.Timestamp(pf.start)
    c = cur.assign(bucket=bucket_start(cur["day"], grain)).groupby("bucket")["billable_us"].sum()
    p = prev.assign(bucket=bucket_start(pd.Series(_dt(prev["day"]) + offset, index=prev.index), grain)) \
        .groupby("bucket")["billable_us"].sum()
    all_buckets = bucket_start(pd.Series(pd.date_range(f.start, f.end, freq="D")), grain).drop_duplicates()
    out = pd.DataFrame({"bucket": all_buckets.to_numpy()})
    out["billable_us"] = out["bucket"].map(c).fillna(0).astype("int64")
    out["previous_us"] = out["bucket"].map(p).fillna(0).astype("int64")
    out.attrs["grain"] = grain
    return out


# --------------------------------------------------------------------------- usage
def usage_over_time(books: Books, f: Filters, grain: str) -> pd.DataFrame:
    """Per bucket: billable, general (free), raw vs rounded ad-hoc, sessions, fees (R2, R4-R6)."""
    d = period_days(books, f)
    cols = ["billable_us", "general_us", "adhoc_raw_us", "adhoc_billed_us", "session_us", "fee_us"]
    g = d.assign(bucket=bucket_start(d["day"], grain)).groupby("bucket", as_index=False)[cols].sum()
    g["rounding_us"] = g["adhoc_billed_us"] - g["adhoc_raw_us"]
    return g.sort_values("bucket").reset_index(drop=True)


def usage_totals(books: Books, f: Filters) -> dict[str, int]:
    d = period_days(books, f)
    out = {c: _sum(d, c) for c in ["billable_us", "general_us", "adhoc_raw_us", "adhoc_billed_us",
                                   "session_us", "fee_us", "covered_us", "uncovered_us"]}
    out["rounding_us"] = out["adhoc_billed_us"] - out["adhoc_raw_us"]
    return out


def usage_by_customer(books: Books, f: Filters, top_n: int = 10, names: dict | None = None) -> pd.DataFrame:
    """Billable and general per customer, the top N by billable and the rest as one row."""
    d = period_days(books, f)
    cols = ["billable_us", "general_us", "adhoc_raw_us", "adhoc_billed_us", "session_us", "fee_us"]
    g = d.groupby("customer_id", as_index=False)[cols].sum()
    g = g.sort_values(["billable_us", "general_us", "customer_id"], ascending=[False, False, True], kind="stable")
    top, rest = g.head(top_n), g.iloc[top_n:]
    if len(rest):
        other = {c: int(rest[c].sum()) for c in cols}
        other["customer_id"] = f"{len(rest)} other customers"
        top = pd.concat([top, pd.DataFrame([other])], ignore_index=True)
    top = top.reset_index(drop=True)
    names = names or {}
    top["customer"] = [f"{c} {names[c]}" if names.get(c) else c for c in top["customer_id"]]
    return top


ENTRY_KIND_LABELS = {"adhoc": "ad-hoc (1-on-1)", "session": "session (1-on-1)", "general": "general (free)"}


def usage_by(entries: pd.DataFrame, by: str) -> pd.DataFrame:
    """Logged minutes per staff member or activity, split by kind (not rounded: R5 rounds a
    customer's day, not a person's work). ``entries``: appdata.entry_usage's frame."""
    if entries.empty:
        return pd.DataFrame({by: pd.Series(dtype="str"), "adhoc_us": pd.Series(dtype="int64"),
                             "session_us": pd.Series(dtype="int64"), "general_us": pd.Series(dtype="int64"),
                             "total_us": pd.Series(dtype="int64"), "entries": pd.Series(dtype="int64")})
    p = entries.pivot_table(index=by, columns="kind", values="minutes_us", aggfunc="sum", fill_value=0)
    out = pd.DataFrame({by: p.index.astype(str)})
    for kind in ("adhoc", "session", "general"):
        out[f"{kind}_us"] = (p[kind].to_numpy() if kind in p.columns else np.zeros(len(p))).astype("int64")
    out["total_us"] = out["adhoc_us"] + out["session_us"] + out["general_us"]
    counts = entries.groupby(by)["entries"].sum()
    out["entries"] = out[by].map(counts).fillna(0).astype("int64")
    return out.sort_values(["total_us", by], ascending=[False, True], kind="stable").reset_index(drop=True)


def usage_table(over_time: pd.DataFrame) -> pd.DataFrame:
    """The figures under the usage charts, minutes as exact 2-decimal text (FORMATS.md style)."""
    out = pd.DataFrame({"period_start": [b.date().isoformat() for b in _dt(over_time["bucket"])]})
    for col in ["billable_us", "general_us", "adhoc_raw_us", "adhoc_billed_us", "rounding_us",
                "session_us", "fee_us"]:
        out[col.replace("_us", "_minutes")] = minutes_text(over_time[col]) if len(over_time) else []
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A download: text that a spreadsheet could run as a formula is neutralised (billing.safe)."""
    from billing.safe import safe_frame

    return safe_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")


# --------------------------------------------------------------------------- expiring hours
def active_blocks(books: Books, f: Filters) -> pd.DataFrame:
    """Active blocks with time left, by expiry date (R9)."""
    b = of_customers(books.blocks, f.customers)
    b = b[(b["status"] == ledger.STATUS_ACTIVE) & (b["remaining_us"] > 0)]
    return b.sort_values(["expires_on", "customer_id", "purchase_id"], kind="stable")[
        ["purchase_id", "customer_id", "purchased_on", "expires_on", "days_left", "purchased_us",
         "remaining_us", "expiring_soon"]].reset_index(drop=True)


def pace(books: Books, f: Filters, window: int = PACE_WINDOW_DAYS) -> pd.Series:
    """Average billable µs per day over the last ``window`` days up to T, per customer
    (integer µs, rounded half up: exact enough for a projection)."""
    d = of_customers(books.days, f.customers)
    d = d[in_period(d["day"], f.as_of - timedelta(days=window - 1), f.as_of)]
    total = d.groupby("customer_id")["billable_us"].sum().astype("int64")
    return (total * 2 + window) // (2 * window)


def project_customer(blocks: list[tuple[date, int]], pace_us: int, as_of: date) -> tuple[date | None, int]:
    """Walk forward from the day after T, drawing ``pace_us`` a day from the active blocks,
    earliest expiry first (R8); what is left in a block after its last day is projected lost
    (R9). ``blocks``: (expires_on, remaining_us) in drawing order. Returns (run-out date: the
    first day the blocks no longer cover in full, None if the pace is 0; projected lost µs)."""
    day = as_of + timedelta(days=1)
    need = pace_us          # still to draw on `day`
    lost = 0
    for expires_on, remaining in blocks:
        if remaining <= 0:
            continue
        if pace_us <= 0 or day > expires_on:
            lost += remaining
            continue
        span = (expires_on - day).days + 1
        demand = need + (span - 1) * pace_us
        if remaining >= demand:
            lost += remaining - demand
            day, need = expires_on + timedelta(days=1), pace_us
        elif remaining < need:
            need -= remaining
        else:
            rest = remaining - need
            full, part = divmod(rest, pace_us)
            day = day + timedelta(days=1 + full)
            need = pace_us - part
    return (day if pace_us > 0 else None), lost


def expiry_projection(books: Books, f: Filters, names: dict | None = None) -> pd.DataFrame:
    """Per customer with active time left: remaining, pace, run-out date at that pace,
    next expiry and the hours projected to be forfeited."""
    blocks = active_blocks(books, f)
    order = of_customers(books.blocks, f.customers)
    order = order[order["purchase_id"].isin(blocks["purchase_id"])]  # engine's drawing order (R8)
    paces = pace(books, f)
    rows = []
    for customer, g in order.groupby("customer_id", sort=True):
        items = list(zip(g["expires_on"], g["remaining_us"].astype("int64")))
        p = int(paces.get(customer, 0))
        run_out, lost = project_customer([(e, int(r)) for e, r in items], p, f.as_of)
        rows.append({"customer_id": customer, "remaining_us": int(g["remaining_us"].sum()),
                     "next_expiry": min(e for e, _ in items), "pace_per_day_us": p,
                     "run_out": run_out, "projected_lost_us": lost})
    cols = ["customer_id", "remaining_us", "next_expiry", "pace_per_day_us", "run_out", "projected_lost_us"]
    out = pd.DataFrame(rows, columns=cols)
    if len(out):
        out = out.sort_values(["projected_lost_us", "next_expiry", "customer_id"],
                              ascending=[False, True, True], kind="stable").reset_index(drop=True)
    names = names or {}
    out["customer_name"] = [names.get(c, "") for c in out["customer_id"]]
    return out


def run_out_text(run_out) -> list[str]:
    return [d.isoformat() if isinstance(d, date) else "no recent use" for d in run_out]


def at_risk(projection: pd.DataFrame) -> pd.DataFrame:
    return projection[projection["projected_lost_us"] > 0].reset_index(drop=True)


def at_risk_csv(projection: pd.DataFrame) -> bytes:
    r = at_risk(projection)
    out = pd.DataFrame({
        "customer_id": r["customer_id"], "customer_name": r["customer_name"],
        "remaining_minutes": minutes_text(r["remaining_us"]) if len(r) else [],
        "pace_minutes_per_day": minutes_text(r["pace_per_day_us"]) if len(r) else [],
        "next_expiry": [d.isoformat() for d in r["next_expiry"]],
        "run_out": [d.isoformat() if d is not None and not pd.isna(d) else "" for d in r["run_out"]],
        "projected_forfeited_minutes": minutes_text(r["projected_lost_us"]) if len(r) else [],
    })
    return csv_bytes(out)


def forfeited_by_month(books: Books, f: Filters) -> pd.DataFrame:
    """Minutes forfeited (R9), by the month of the block's expiry day."""
    b = of_customers(books.blocks, f.customers)
    b = b[b["forfeited_us"] > 0]
    g = b.assign(month=bucket_start(b["expires_on"], "month")).groupby("month", as_index=False)["forfeited_us"].sum()
    return g.sort_values("month").reset_index(drop=True)


# --------------------------------------------------------------------------- cancellation fees
def cancellations(books: Books, f: Filters) -> pd.DataFrame:
    """Cancelled and no-show appointments of the period with notice and fee (R6)."""
    a = of_customers(books.appointments, f.customers)
    if f.staff:
        a = a[a["staff"].isin(list(f.staff))]
    a = a[a["status"].isin(["cancelled", "no_show"]) & in_period(a["day"], f.start, f.end)]
    by = np.where(a["status"] == "no_show", "", a["cancelled_by"].fillna("customer").astype(object))
    kind = rules.cancellation_kind(a["status"], a["cancelled_by"], a["fee_us"])
    out = pd.DataFrame({
        "appointment_id": a["appointment_id"].to_numpy(), "customer_id": a["customer_id"].to_numpy(),
        "staff": a["staff"].to_numpy(), "day": _dt(a["day"]).dt.date.to_numpy(),
        "scheduled_start": a["scheduled_start"].to_numpy(),
        "cancelled_at": a["cancelled_at"].to_numpy(),
        "cancelled_by": by, "kind": kind,
        "notice_us": a["notice_us"].to_numpy(), "fee_us": a["fee_us"].astype("int64").to_numpy(),
    })
    return out.sort_values(["day", "scheduled_start", "appointment_id"], kind="stable").reset_index(drop=True)


def fees_by_month(c: pd.DataFrame) -> pd.DataFrame:
    c = c[c["kind"].isin(rules.FEE_KINDS)]
    g = c.assign(month=bucket_start(c["day"], "month")).groupby(["month", "kind"], as_index=False) \
        .agg(count=("appointment_id", "size"), fee_us=("fee_us", "sum"))
    return g.sort_values(["month", "kind"]).reset_index(drop=True)


def fees_by_customer(c: pd.DataFrame) -> pd.DataFrame:
    charged = c[c["kind"].isin(rules.FEE_KINDS)]
    g = charged.groupby("customer_id").agg(
        late_cancellations=("kind", lambda k: int((k == rules.LATE_CANCELLATION).sum())),
        no_shows=("kind", lambda k: int((k == rules.NO_SHOW).sum())),
        fee_us=("fee_us", "sum")).reset_index()
    return g.sort_values(["fee_us", "customer_id"], ascending=[False, True], kind="stable").reset_index(drop=True)


NOTICE_BINS_H = [-np.inf, 0, 2, 6, 12, 24, 48, 72, 168, np.inf]
NOTICE_LABELS = ["after the start", "0-2 h", "2-6 h", "6-12 h", "12-24 h", "24-48 h", "48-72 h",
                 "3-7 days", "over 7 days"]


def notice_histogram(c: pd.DataFrame) -> pd.DataFrame:
    """Cancellations by the notice given (hours before the start), pre-binned so the chart
    gets a handful of bars whatever the count; staff cancellations are kept apart."""
    cancelled = c[c["kind"] != rules.NO_SHOW]
    hours = cancelled["notice_us"].astype("float64") / US_PER_HOUR  # binning only
    # bins are right-open: exactly 24 h notice lands in "24-48 h" (free, R6)
    cat = pd.cut(hours, NOTICE_BINS_H, right=False, labels=NOTICE_LABELS)
    who = np.where(cancelled["cancelled_by"] == "staff", "by staff", "by the customer")
    g = pd.DataFrame({"notice": cat, "who": who}).groupby(["notice", "who"], observed=False).size()
    out = g.reset_index(name="count")
    out["notice"] = out["notice"].astype(str)
    return out


def notice_text(us) -> str:
    if us is None or pd.isna(us):
        return ""
    us = int(us)
    sign = "-" if us < 0 else ""
    total_min = (abs(us) + US_PER_MINUTE // 2) // US_PER_MINUTE
    h, m = divmod(total_min, 60)
    return f"{sign}{h} h {m:02d} min" + (" after the start" if us < 0 else "")


# --------------------------------------------------------------------------- policy
def rule_explanations(policy: Policy) -> list[tuple[str, str]]:
    """Each rule in plain words, with this policy's numbers (RULES.md R1-R9)."""
    inc = policy.rounding_increment_minutes
    notice = policy.cancellation_notice_hours
    session = ("a completed session bills exactly the time logged in it"
               if policy.session_billing == "logged"
               else "a completed session bills at least its booked length")
    return [
        ("R1", f"A business day is the calendar date in {policy.timezone}; work belongs to the day it started."),
        ("R2", "Only 1-on-1 work is billable; General Support (chat, calls, articles, tickets) is always free."),
        ("R3", "Every 1-on-1 staff member's time counts, also when several worked at once; "
               "extra people the customer asked for are billed and labelled."),
        ("R4", f"Work inside a pre-scheduled session is never rounded: {session}. "
               "Until its appointment is completed, such work is held and counts toward nothing."),
        ("R5", f"All other 1-on-1 work of a customer on one day is added up and rounded up once to the next "
               f"{inc} minutes (e.g. 5 + 30 min = 35 min, billed "
               f"{format_minutes(int(rules.round_daily(35 * US_PER_MINUTE, policy.increment_us)))})."),
        ("R6", f"A customer who cancels less than {notice:g} hours before the start is billed "
               f"{format_minutes(policy.late_fee_us)}; a no-show is billed {format_minutes(policy.no_show_fee_us)}; "
               "a cancellation by staff is free."),
        ("R7", f"Each purchase is a block of prepaid hours usable from its purchase day for "
               f"{policy.hours_valid_days} days, the last day included; hours are non-refundable."),
        ("R8", "Each day's billable time is paid from the block that expires first; what no block covers is "
               "uncovered (overage) and invoiced separately."),
        ("R9", f"Time left in a block after its last day is forfeited; a block is 'expiring soon' within "
               f"{policy.expiring_window_days} days of its last day."),
    ]


SETTING_LABELS = {
    "timezone": "Time zone of a business day",
    "rounding_increment_minutes": "Ad-hoc rounding increment (minutes)",
    "hours_valid_days": "Prepaid hours valid for (days)",
    "cancellation_notice_hours": "Free cancellation notice (hours)",
    "late_cancellation_minutes": "Late cancellation fee (minutes)",
    "no_show_minutes": "No-show fee (minutes)",
    "session_billing": "Session billing",
    "expiring_window_days": "'Expiring soon' window (days)",
}


def policy_settings(policy: Policy) -> pd.DataFrame:
    return pd.DataFrame([{"setting": k, "meaning": SETTING_LABELS.get(k, k), "value": str(v)}
                         for k, v in policy.as_dict().items()])


WHAT_IF_FIGURES = [("billable_us", "Billable"), ("adhoc_billed_us", "Ad-hoc, rounded"),
                   ("session_us", "Sessions"), ("fee_us", "Cancellation fees"),
                   ("covered_us", "Covered by prepaid blocks"), ("uncovered_us", "Uncovered (overage)")]


def what_if(active: Books, changed: Books, f: Filters) -> pd.DataFrame:
    """The period's figures under the active policy beside the same under changed settings."""
    a, c = usage_totals(active, f), usage_totals(changed, f)
    rows = [{"figure": label, "active_us": a[k], "what_if_us": c[k], "difference_us": c[k] - a[k]}
            for k, label in WHAT_IF_FIGURES]
    fa = int(of_customers(active.blocks, f.customers)["forfeited_us"].sum())
    fc = int(of_customers(changed.blocks, f.customers)["forfeited_us"].sum())
    rows.append({"figure": f"Forfeited up to {f.as_of}", "active_us": fa, "what_if_us": fc,
                 "difference_us": fc - fa})
    return pd.DataFrame(rows)


def what_if_by_customer(active: Books, changed: Books, f: Filters) -> pd.DataFrame:
    a = period_days(active, f).groupby("customer_id")["billable_us"].sum()
    c = period_days(changed, f).groupby("customer_id")["billable_us"].sum()
    idx = a.index.union(c.index)
    out = pd.DataFrame({"customer_id": idx.astype(str),
                        "active_us": a.reindex(idx, fill_value=0).astype("int64").to_numpy(),
                        "what_if_us": c.reindex(idx, fill_value=0).astype("int64").to_numpy()})
    out["difference_us"] = out["what_if_us"] - out["active_us"]
    return out.sort_values(["difference_us", "customer_id"], ascending=[False, True], kind="stable") \
        .reset_index(drop=True)


# --------------------------------------------------------------------------- data quality
def review_counts(review: pd.DataFrame) -> pd.DataFrame:
    """How many of each kind of issue, for the headline of the Data quality page."""
    if review.empty:
        return pd.DataFrame({"issue": pd.Series(dtype="str"), "count": pd.Series(dtype="int64")})
    kind = review["issue"].str.replace(r"\s*[:(].*$", "", regex=True)
    return kind.value_counts().rename_axis("issue").reset_index(name="count")


def rejects_with_action(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejected import rows with where they are and what to do (FORMATS.md: kept, not lost)."""
    out = rejects.copy()
    where = [f"{f}" + (f", line {int(l)}" if pd.notna(l) else "") + (f", column '{c}'" if isinstance(c, str) and c else "")
             for f, l, c in zip(out["file"], out["line"], out["column"])]
    out["what_to_do"] = [f"correct {w} in the export ({r}) and import it again" for w, r in zip(where, out["reason"])]
    return out


def unmapped_clients(imports: pd.DataFrame) -> pd.DataFrame:
    """Tracker clients that no customer-map entry named, per import not undone (issue: a
    renamed client, or one written two ways, would otherwise become a customer of its own)."""
    rows = []
    if "notes" in imports:
        for r in imports.itertuples():
            if pd.notna(r.undone_at) or not isinstance(r.notes, str):
                continue
            notes = json.loads(r.notes)
            for client in notes.get("unmapped_clients", []):
                rows.append({"client": client, "customer_id": client, "import_id": int(r.import_id),
                             "file": notes.get("file", ""),
                             "what_to_do": "if this is an existing customer, map the client to its id on the Import "
                                           "page (or in the mapping's [customers]) and import the file again"})
    return pd.DataFrame(rows, columns=["client", "customer_id", "import_id", "file", "what_to_do"])


def review_for(review: pd.DataFrame, f: Filters) -> pd.DataFrame:
    return of_customers(review, f.customers).reset_index(drop=True)
