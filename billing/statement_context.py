"""What a customer statement needs besides the books, over time (RULES.md R10–R14).

The books (billing.reports.Books) give the figures; a statement also says why they are what
they are, and a statement of a closed period must say it as it was closed (R12). This module
finds, for one customer and as of T:

- the closes in force (``Close``: through D, when and by whom, the policy and data version
  it was made with): a day ≤ D is explained with the close that froze it;
- the adjustments that applied to each day (R10): for an open day those in force as of T;
  for a closed day those that were in force at its close (dated ≤ D and recorded before the
  close), so a later waiver or exclusion posts as a late change and does not rewrite it;
- the entries each day was computed from: an open day's as they are now (an excluded one is
  kind ``excluded``), a closed day's as the close kept them (billing.closing.closed_entries);
- each late change (a late row or a late credit, R12) as facts: the closed day it belongs to,
  the close it came after, the difference of each figure, and the adjustments recorded or
  voided since that close that touch that day.

Nothing here is stored or rounded: minutes stay integer µs; billing.statement_words writes
the words, billing.statement assembles the statement.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from billing import closing
from billing.adjusting import excluded_entries
from billing.adjustments import APPLIED
from billing.adjustments import history as adjustment_history
from billing.calendar import business_day_expr
from billing.policy import Policy
from billing.rules import LATE_CANCELLATION, NO_SHOW, classified_entries_sql

FIGURES = ("adhoc_raw_us", "adhoc_billed_us", "session_us", "fee_us", "charged_us", "billable_us")
ENTRY_COLUMNS = closing.ENTRY_COLUMNS


@dataclass(frozen=True)
class Close:
    """One close in force (R12): its days are those after ``after`` (the close before it, or
    the beginning) through ``through``."""
    closing_id: int
    through: date
    after: date | None
    recorded_at: datetime
    recorded_by: str
    policy: Policy
    data_version: int


@dataclass(frozen=True)
class LateChange:
    """A late change (R12): what changed in the closed day ``late_for`` since the close through
    ``closed_through``, posted on ``posted`` (the day after it). ``diff``: FIGURES → µs (now, or
    at the next close, less what was closed). ``added``/``removed``: the adjustments (history
    rows) that touch that day and apply now but did not at the close, or the reverse (a void;
    ``void_reason`` says why)."""
    late_for: date
    posted: date
    closed_through: date
    diff: dict
    added: pd.DataFrame
    removed: pd.DataFrame


def applying(history: pd.DataFrame, as_of: date, until=None) -> pd.DataFrame:
    """R10: the rows of ``history`` (billing.adjustments.history) that reports as of T apply:
    kind extend, waive, exclude, credit or charge, dated ≤ T, not voided by a void dated ≤ T;
    with ``until`` (a UTC instant) only what was recorded by then counts, voids included (the
    adjustments a close saw). Sorted by adjustment number."""
    h = history if until is None else history[history["recorded_at"] <= pd.Timestamp(until)]
    dated = h[np.array([pd.Timestamp(d).date() <= as_of for d in h["on_day"]], dtype=bool)]
    voided = {int(t) for t in dated.loc[dated["kind"] == "void", "target"]}
    keep = dated["kind"].isin(list(APPLIED)) & ~dated["adjustment_id"].isin(voided)
    return dated[keep].sort_values("adjustment_id").reset_index(drop=True)


@dataclass
class Context:
    """The statement's view over time of one customer as of T (see the module's doc)."""
    customer: str
    as_of: date
    policy: Policy
    closes: list[Close]
    history: pd.DataFrame
    target_days: dict = field(default_factory=dict)   # waive/exclude target → its business day
    _cache: dict = field(default_factory=dict)

    @property
    def close(self) -> Close | None:
        """The close in force (the latest), or None."""
        return self.closes[-1] if self.closes else None

    @property
    def closed_through(self) -> date | None:
        return self.close.through if self.close else None

    def close_of(self, day: date) -> Close | None:
        """The close that froze ``day`` (the first in force through it or later), or None (open)."""
        for c in self.closes:
            if day <= c.through:
                return c
        return None

    def policy_on(self, day: date) -> Policy:
        """The settings a day's figures were computed with (R11): those in force on the day,
        from the close's policy for a closed day (R12), else from the active one."""
        c = self.close_of(day)
        return (c.policy if c else self.policy).on(day)

    def adjustments(self, close: Close | None) -> pd.DataFrame:
        """The adjustments in force at ``close`` (as of its D, recorded by then), or as of T (None)."""
        key = close.closing_id if close else None
        if key not in self._cache:
            self._cache[key] = (applying(self.history, close.through, close.recorded_at) if close
                                else applying(self.history, self.as_of))
        return self._cache[key]

    def adjustments_on(self, day: date) -> pd.DataFrame:
        """The adjustments that applied to ``day``'s figures: at its close if closed, else as of T."""
        return self.adjustments(self.close_of(day))

    def recorded(self, number) -> dict | None:
        """Adjustment ``number`` as recorded (a history row as a dict), or None."""
        if number is None or pd.isna(number):
            return None
        row = self.history[self.history["adjustment_id"] == int(number)]
        return row.iloc[0].to_dict() if len(row) else None

    def charges_on(self, day: date) -> list[dict]:
        """The charges (R10) billed on ``day``, as the adjustments that applied to it say."""
        close = self.close_of(day)
        key = ("charges", close.closing_id if close else None)
        if key not in self._cache:   # once per close (or T): day → its charges
            a = self.adjustments(close)
            by_day: dict = {}
            for rec in a[a["kind"] == "charge"].to_dict("records"):
                by_day.setdefault(pd.Timestamp(rec["on_day"]).date(), []).append(rec)
            self._cache[key] = by_day
        return self._cache[key].get(day, [])

    def settings_on(self, day: date) -> dict:
        """``policy_on(day)`` as the policy file writes it (Policy.as_dict), kept per day."""
        key = ("settings", day)
        if key not in self._cache:
            self._cache[key] = self.policy_on(day).as_dict()
        return self._cache[key]

    def exclusion_of(self, entry_id: str, day: date) -> dict | None:
        """The ``exclude`` adjustment that took ``entry_id`` (of ``day``) out of the figures."""
        a = self.adjustments_on(day)
        a = a[(a["kind"] == "exclude") & (a["target"] == entry_id)]
        return a.iloc[-1].to_dict() if len(a) else None

    def extension_of(self, purchase_id: str, last_day) -> dict | None:
        """The ``extend`` adjustment that gave block ``purchase_id`` its last day ``last_day``
        (the latest such on record), or None."""
        h = self.history
        h = h[((h["kind"] == "extend") & (h["target"] == purchase_id)).to_numpy()
              & np.array([d is not None and pd.Timestamp(d).date() == pd.Timestamp(last_day).date()
                          for d in h["to_day"]], dtype=bool)]
        return h.iloc[-1].to_dict() if len(h) else None

    def void_of(self, number: int) -> dict | None:
        """The void of adjustment ``number`` on record, or None."""
        h = self.history
        h = h[(h["kind"] == "void") & (h["target"] == str(int(number)))]
        return h.iloc[-1].to_dict() if len(h) else None

    def touches(self, frame: pd.DataFrame, day: date) -> pd.DataFrame:
        """The adjustments of ``frame`` that change ``day``'s figures: a waived fee of an
        appointment on that day, an excluded entry of that day, a charge dated that day."""
        def on_day(r):
            if r["kind"] == "charge":
                return pd.Timestamp(r["on_day"]).date() == day
            if r["kind"] in ("waive", "exclude"):
                return self.target_days.get((r["kind"], r["target"])) == day
            return False
        return frame[np.array([on_day(r) for r in frame.to_dict("records")], dtype=bool)] if len(frame) else frame


def context(con, policy: Policy, customer: str, as_of: date) -> Context:
    """The Context of ``customer`` as of T from one connection (the closes in force, the
    customer's adjustments on record and the business days of their targets)."""
    closes, after = [], None
    for cid, through in closing.standing(con):
        rec = closing.record(con, cid)
        closes.append(Close(cid, through, after, rec["recorded_at"], rec["recorded_by"], rec["policy"],
                            int(rec["data_version"])))
        after = through
    history = adjustment_history(con, customer)
    ctx = Context(customer, as_of, policy, closes, history)
    ctx.target_days = _target_days(con, policy, history)
    return ctx


def _target_days(con, policy: Policy, history: pd.DataFrame) -> dict:
    """(kind, target) → the business day (R1) of each waived appointment and excluded entry."""
    out = {}
    for kind, table, column, at in (("waive", "appointments", "appointment_id", "scheduled_start"),
                                    ("exclude", "time_entries", "entry_id", "started_at")):
        ids = sorted(set(history.loc[history["kind"] == kind, "target"]))
        if not ids:
            continue
        rows = con.execute(f"SELECT {column}, {business_day_expr('t', at)} FROM {table} t "
                           f"WHERE list_contains($ids, {column})", {"tz": policy.timezone, "ids": ids}).fetchall()
        out.update({(kind, i): d for i, d in rows})
    return out


# --------------------------------------------------------------------------- entries
def period_entries(con, ctx: Context, first: date, last: date) -> pd.DataFrame:
    """The customer's entries of first..last (≤ T) with business day and kind (R1, R2, R4,
    R10): a closed day's as its close kept them, an open day's as they are (excluded by the
    adjustments in force as of T). ENTRY_COLUMNS plus excluded_by (Int64, the ``exclude``
    adjustment) and excluded_reason; in day, start and id order."""
    parts = []
    closed_to = ctx.closed_through
    if closed_to is not None and first <= closed_to:
        parts.append(closing.closed_entries(con, ctx.customer, first, min(last, closed_to)))
    start = first if closed_to is None else max(first, closed_to + timedelta(days=1))
    if start <= last:
        where = "AND e.customer_id = $customer AND e.day BETWEEN $first AND $last"
        sql = classified_entries_sql(where, excluded_entries(ctx.adjustments(None)))
        live = con.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM ({sql}) ORDER BY day, started_at, entry_id",
                           {"tz": ctx.policy.timezone, "asof": ctx.as_of, "customer": ctx.customer,
                            "first": start, "last": last}).df()
        live["day"] = pd.to_datetime(live["day"]).dt.date
        parts.append(live)
    parts = [p for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else \
        pd.DataFrame({c: pd.Series(dtype=object) for c in ENTRY_COLUMNS})
    found = [ctx.exclusion_of(e, d) if k == "excluded" else None
             for e, d, k in zip(out["entry_id"], out["day"], out["kind"])]
    out["excluded_by"] = pd.array([f["adjustment_id"] if f else pd.NA for f in found], dtype="Int64")
    out["excluded_reason"] = [f["reason"] if f else None for f in found]
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- fees
def fee_rows(appointments: pd.DataFrame, ctx: Context, first: date, last: date) -> pd.DataFrame:
    """The appointments of first..last that bill a fee (R6) or whose fee was waived (R10), in
    day order, with waived_us (the fee it would have billed: the setting of its day) and
    waived_reason (the ``waive`` adjustment's reason) added."""
    a = appointments.assign(day=pd.to_datetime(appointments["day"]).dt.date)
    waived = a["waived_by"].notna() if "waived_by" in a else pd.Series(False, index=a.index)
    keep = ((a["fee_us"] > 0) | waived) & (a["day"] >= first) & (a["day"] <= last)
    rows = a[keep].sort_values(["day", "appointment_id"], kind="stable").reset_index(drop=True)
    if "waived_by" not in rows:
        rows["waived_by"] = pd.array([pd.NA] * len(rows), dtype="Int64")

    def would_bill(kind, day):
        rule = ctx.policy_on(day)
        return rule.late_fee_us if kind == LATE_CANCELLATION else rule.no_show_fee_us if kind == NO_SHOW else 0

    rows["waived_us"] = pd.array([would_bill(k, d) if pd.notna(w) else pd.NA
                                  for k, d, w in zip(rows["fee_kind"], rows["day"], rows["waived_by"])], dtype="Int64")
    rows["waived_reason"] = [(ctx.recorded(w) or {}).get("reason") if pd.notna(w) else None for w in rows["waived_by"]]
    return rows


# --------------------------------------------------------------------------- late changes
def _truth(con, closing_id: int, customer: str, day: date) -> dict:
    row = con.execute(f"SELECT {', '.join(FIGURES)} FROM closed_truth WHERE closing_id = ? AND customer_id = ? "
                      "AND day = ?", [closing_id, customer, day]).fetchone()
    return {k: int(v or 0) for k, v in zip(FIGURES, row)} if row else {k: 0 for k in FIGURES}


def late_change(con, ctx: Context, truth_now: pd.DataFrame | None, late_for: date, posted: date) -> LateChange:
    """The facts of the late change to ``late_for`` posted on ``posted`` (R12): the close it came
    after (through posted − 1), each figure's difference — then (at the close that froze the
    posting day) or now (``truth_now``: Books.truth, the days computed now) less what that close
    recorded — and the adjustments touching that day recorded or voided in between."""
    key = ("late", late_for, posted)
    if key not in ctx._cache:
        ctx._cache[key] = _late_change(con, ctx, truth_now, late_for, posted)
    return ctx._cache[key]


def _late_change(con, ctx: Context, truth_now, late_for: date, posted: date) -> LateChange:
    before = next((c for c in ctx.closes if c.through == posted - timedelta(days=1)), None)
    if before is None:   # cannot happen while the posting stands; say what is known
        empty = ctx.history.iloc[:0]
        return LateChange(late_for, posted, posted - timedelta(days=1), {}, empty, empty)
    then = _truth(con, before.closing_id, ctx.customer, late_for)
    later = ctx.close_of(posted)
    if later is not None:
        now = _truth(con, later.closing_id, ctx.customer, late_for)
    else:
        t = truth_now if truth_now is not None else pd.DataFrame(columns=["day"])
        row = t[pd.to_datetime(t["day"]).dt.date == late_for] if len(t) else t
        now = {k: int(row.iloc[0][k]) if len(row) and k in row else 0 for k in FIGURES}
    diff = {k: now[k] - then[k] for k in FIGURES}
    was = ctx.touches(ctx.adjustments(before), late_for)
    is_ = ctx.touches(ctx.adjustments(later), late_for)
    added = is_[~is_["adjustment_id"].isin(list(was["adjustment_id"]))].reset_index(drop=True)
    removed = was[~was["adjustment_id"].isin(list(is_["adjustment_id"]))].reset_index(drop=True)
    voids = [ctx.void_of(n) for n in removed["adjustment_id"]]
    removed = removed.assign(void_reason=[v["reason"] if v else None for v in voids],
                             void_by=pd.array([v["adjustment_id"] if v else pd.NA for v in voids], dtype="Int64"))
    return LateChange(late_for, posted, before.through, diff, added, removed)


__all__ = ["Close", "Context", "LateChange", "applying", "context", "period_entries", "fee_rows", "late_change"]
