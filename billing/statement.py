"""A customer statement: every billed minute of one customer and period, explained.

``build_statement`` reads one snapshot and fills ``billing.statement_model.Statement``:
the opening balance at the period's start, day by day how each billed figure was reached
(entries, the daily rounding of R5, sessions of R4, fees of R6) and which block paid for
it (R8), purchases and forfeitures as they happen (R7, R9), the closing balance, and the
blocks as they stood at the end of the period. The ledger lines always balance: opening +
purchases − draws − forfeitures = closing, and the blocks' minutes left at the end add up to
the closing balance. Each text is there twice, in the internal copy's words (rule ids) and
in the customer's (billing.statement_words); the downloads choose (billing.exports).

Issued statements are recorded (``issue_statement``) with their figures and files, so a
later look can tell whether today's data still gives the same figures.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone

import duckdb
import numpy as np
import pandas as pd

from datetime import timedelta

from billing import ledger, reports, rules
from billing import statement_context as sc
from billing import statement_words as words
from billing.customers import customer_names
from billing.display import block_text, duration_text, late_credit_days
from billing.errors import HourbankError
from billing.policy import Policy, validate_policy
from billing.statement_model import (ADJUSTMENT_COLUMNS, BLOCK_COLUMNS, DAY_COLUMNS, ENTRY_COLUMNS, FEE_COLUMNS,
                                     LEDGER_COLUMNS, Statement, StatementError, format_minutes)
from billing.store import open_db, transaction

KIND_LABEL = {"adhoc": "ad-hoc", "session": "session", "general": "general (free)", "held": "held",
              "excluded": "excluded"}


def _written(wall, offset) -> str:
    """A stored timestamp as the export wrote it (offset kept when there was one)."""
    if wall is None or pd.isna(wall):
        return ""
    text = pd.Timestamp(wall).isoformat()
    if offset is None or pd.isna(offset):
        return text
    off = int(offset)
    sign = "+" if off >= 0 else "-"
    return f"{text}{sign}{abs(off) // 3600:02d}:{abs(off) % 3600 // 60:02d}"


def statement_entries(con, policy: Policy, as_of: date, customer: str, first: date, last: date) -> pd.DataFrame:
    """The customer's entries of ``first``..``last`` (dated ≤ T) as they are now, with business
    day and kind (R1, R2, R4; kind 'excluded' for those an adjustment in force as of T
    excludes, R10), in day, start and id order. (A statement reads closed days from their
    close instead: billing.statement_context.period_entries.)"""
    from billing.adjusting import adjustments_as_of, excluded_entries

    where = "AND e.customer_id = $customer AND e.day BETWEEN $first AND $last"
    excluded = excluded_entries(adjustments_as_of(con, as_of, customer))
    df = con.execute(f"""SELECT * FROM ({rules.classified_entries_sql(where, excluded)})
                         ORDER BY day, started_at, entry_id""",
                     {"tz": policy.timezone, "asof": as_of, "customer": customer, "first": first,
                      "last": last}).df()
    df["day"] = pd.to_datetime(df["day"]).dt.date
    return df


def _grouped(frame: pd.DataFrame, key: str) -> dict:
    """``frame``'s rows by the value of ``key`` (one pass; an empty frame gives {})."""
    return {k: g for k, g in frame.groupby(key, sort=False)} if len(frame) else {}


def _started(day, written) -> str:
    """An entry's start for people (the clock time, "14:00"), for the texts of a day."""
    from billing.exports.cells import started_text

    return started_text(day, written) or ""


def _day_facts(day_row, entries: pd.DataFrame, fees: pd.DataFrame, ctx: sc.Context) -> dict:
    """What one ordinary day's explanation says (billing.statement_words.day_explanation's
    arguments), from its ``entries`` (R4, R5; excluded ones named, R10), its ``fees`` (R6;
    waived ones with their reason, R10), its charges (R10) and the settings in force on it
    (R11, the close's for a closed day); gathered once for both copies."""
    day = day_row.day
    kinds = entries["kind"].to_numpy() if len(entries) else np.array([], dtype=object)
    minutes = entries["minutes_us"].to_numpy("int64") if len(entries) else np.array([], dtype="int64")
    adhoc = [int(m) for m in minutes[kinds == "adhoc"]]
    session = entries[kinds == "session"] if len(entries) else entries
    sessions = [(appt, [int(m) for m in group["minutes_us"]])
                for appt, group in session.groupby("appointment_id", sort=True)] if len(session) else []
    top_up = int(day_row.session_us) - int(minutes[kinds == "session"].sum())
    fee_list = [(f.fee_kind, f.appointment_id, int(f.fee_us),
                 *((int(f.waived_us), int(f.waived_by), f.waived_reason) if pd.notna(f.waived_by) else ()))
                for f in fees.itertuples()] if len(fees) else []
    charges = [(int(c["adjustment_id"]), int(c["minutes_us"]), c["reason"]) for c in ctx.charges_on(day)]
    excluded = [(e.entry_id, int(e.minutes_us), None if pd.isna(e.excluded_by) else int(e.excluded_by),
                 e.excluded_reason, _started(e.day, statement_started(e)))
                for e in entries[kinds == "excluded"].itertuples()] if (kinds == "excluded").any() else []
    return {"args": (adhoc, int(day_row.adhoc_raw_us), int(day_row.adhoc_billed_us), sessions, top_up, fee_list,
                     ctx.settings_on(day)),
            "charges": charges, "excluded": excluded}


def _day_texts(day_row, facts: dict, paid: dict, ctx: sc.Context, names: dict, internal: bool,
               minutes_text) -> tuple[str, str]:
    """One ordinary day's explanation and "paid by" in the internal or the customer copy's
    words (billing.statement_words), from its ``facts`` (``_day_facts``) and ``paid`` (R8, R14)."""
    explanation = words.day_explanation(*facts["args"], internal, minutes_text, charges=facts["charges"],
                                        excluded=facts["excluded"])
    return explanation, _paid_text(day_row, paid, ctx, names, internal, minutes_text)


def statement_started(e) -> str:
    """An entry row's start as written (offset kept)."""
    return _written(e.started_at, e.started_at_offset)


def _paid_text(day_row, paid: dict, ctx: sc.Context, names: dict, internal: bool, minutes_text) -> str:
    """A row's "paid by" (R8): the blocks that paid it by the period's end (with the day owed
    minutes were paid, R14), and what was uncovered or owed then (and who paid it later)."""
    name = (lambda pid: names[pid][0]) if internal else (lambda pid: names[pid][1])
    draws = [(name(pid), us, (d.isoformat() if d > day_row.day else None) if d is not None else None)
             for pid, us, d in paid["draws"]]
    carry = ctx.policy_on(day_row.late_for if day_row.late_for is not None else day_row.day).overage == "carry"
    later = [(name(pid), us, d.isoformat()) for pid, us, d in paid["later"]]
    return words.paid_by_text(draws, int(day_row.uncovered_us), internal, minutes_text, carry=carry, later=later)


def _take(queue: list, need: int) -> tuple[list, int]:
    """Take ``need`` µs from the front of ``queue`` ([(block, µs, paid on)], shortened in
    place): the parts taken, in order, and what is still short."""
    taken = []
    while need > 0 and queue:
        pid, amount, d = queue[0]
        take = min(need, amount)
        taken.append((pid, take, d))
        need -= take
        if take == amount:
            queue.pop(0)
        else:
            queue[0] = (pid, amount - take, d)
    return taken, need


def _allocate(rows: pd.DataFrame, draws: pd.DataFrame, last: date) -> tuple[list[dict], list[int]]:
    """Each day row's draws as at the end of ``last`` (R8, R14): a day's draws paid by then go
    to its ordinary row first, then to its late rows in order (the engine's order, R12); the
    draws paid after ``last`` are listed as ``later``. Returns ([{"draws": [(purchase_id,
    µs, paid_on)], "later": [...]}] positionally like ``rows``, [covered µs at the end])."""
    by_day = _grouped(draws, "day")
    out, covered = [], []
    queues = {}
    for r in rows.itertuples():
        if r.day not in queues:
            mine = by_day.get(r.day)
            if mine is None:
                queues[r.day] = ([], [])
            else:
                now = mine[mine["paid_on"] <= last].sort_values("paid_on", kind="stable")
                later = mine[mine["paid_on"] > last].sort_values("paid_on", kind="stable")
                queues[r.day] = ([[p, int(u), d] for p, u, d in zip(now["purchase_id"], now["drawn_us"],
                                                                     now["paid_on"])],
                                 [(p, int(u), d) for p, u, d in zip(later["purchase_id"], later["drawn_us"],
                                                                   later["paid_on"])])
        queue, later = queues[r.day]
        taken, need = _take(queue, int(r.billable_us))
        covered.append(int(r.billable_us) - need)
        # What was paid later pays the rows still short, in the same order.
        mine_later, _ = _take(later, need)
        out.append({"draws": taken, "later": mine_later})
    return out, covered


def build_statement(con, policy: Policy, customer: str, period_from: date, period_to: date,
                    as_of: date, generated_at: datetime | None = None, minutes_text=duration_text) -> Statement:
    """One customer's statement of ``period_from``..``period_to`` as of T (nothing after T
    counts, R1), from one read of ``con``: days explained (R4-R6, R10, R11) and paid (R8,
    R14), the ledger of purchases, credits, draws, uncovered minutes, rollovers and
    forfeitures (R7-R10, R12-R14) with opening and closing balances, the adjustments behind the
    figures with their reasons (R10), late changes to closed days (R12), and the blocks as they
    stood at the end of the period (their minutes left add up to the closing balance). Every
    text is written twice: for the internal copy (rule ids) and for the customer (words), see
    billing.statement_words. ``minutes_text`` writes the times in those texts: hours and
    whole minutes (billing.display) by default; the figures are exact µs whatever it is.

    Closed days (R12) are explained as they were closed: with the entries, adjustments and
    policy of their close; a statement whose days are all closed is the close's, its policy and
    data version included, whatever was imported or adjusted since.

    Raises HourbankError when the period is reversed, starts after T, or the customer has
    nothing dated on or before T; StatementError when the books would not balance (a bug)."""
    if period_from > period_to:
        raise HourbankError(f"statement period {period_from}..{period_to}: the first day is after the last day.")
    if period_from > as_of:
        raise HourbankError(f"statement period {period_from}..{period_to} starts after the as-of date {as_of}: "
                            f"nothing in it counts yet (R1); choose an as-of date on or after {period_from}.")
    last = min(period_to, as_of)  # nothing after T counts (R1)
    books = reports.compute_books(con, policy, as_of, customer)
    if customer not in set(books.customers):
        raise HourbankError(f"customer {customer!r} has nothing dated on or before {as_of}.")
    ctx = sc.context(con, policy, customer, as_of)
    frozen = ctx.close_of(last) if ctx.close is not None and last <= ctx.close.through else None
    shown_policy = frozen.policy if frozen else policy

    days_all, blocks = books.days, books.blocks
    day_of = pd.to_datetime(days_all["day"]).dt.date
    in_period = (day_of >= period_from) & (day_of <= last)
    rows = days_all[in_period & (days_all["billable_us"] > 0)].copy()
    rows["day"] = pd.to_datetime(rows["day"]).dt.date
    late = rows["late_for"] if "late_for" in rows else pd.Series(pd.NaT, index=rows.index)
    rows["late_for"] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in late]
    rows["charged_us"] = rows["charged_us"].astype("int64") if "charged_us" in rows else 0
    rows = rows.reset_index(drop=True)
    draws = books.draws.assign(day=pd.to_datetime(books.draws["day"]).dt.date,
                               paid_on=pd.to_datetime(books.draws["paid_on"]).dt.date)
    paid, covered = _allocate(rows, draws, last)
    rows["covered_us"] = np.asarray(covered, dtype="int64")
    rows["uncovered_us"] = rows["billable_us"].astype("int64") - rows["covered_us"]

    entries = sc.period_entries(con, ctx, period_from, last)
    fee_rows = sc.fee_rows(books.appointments, ctx, period_from, last)
    names = _block_names(blocks)

    by_day = (_grouped(entries, "day"), _grouped(fee_rows, "day"))
    empty = (entries.iloc[:0], fee_rows.iloc[:0])
    changes = {}
    for r in rows[rows["late_for"].notna()].itertuples():
        changes[(r.late_for, r.day)] = sc.late_change(con, ctx, books.truth, r.late_for, r.day)
    facts = [None if r.late_for is not None else
             _day_facts(r, *(group.get(r.day, e) for group, e in zip(by_day, empty)), ctx)
             for r in rows.itertuples()]
    for internal, (explained, paid_col) in ((True, ("explanation", "paid_by")),
                                            (False, ("customer_explanation", "customer_paid_by"))):
        texts = []
        for r, p, f in zip(rows.itertuples(), paid, facts):
            if r.late_for is not None:
                ch = changes[(r.late_for, r.day)]
                texts.append((words.late_row_text(r.late_for, ch.closed_through, ch.diff, ch.added.to_dict("records"),
                                                  ch.removed.to_dict("records"), internal, minutes_text),
                              _paid_text(r, p, ctx, names, internal, minutes_text)))
            else:
                texts.append(_day_texts(r, f, p, ctx, names, internal, minutes_text))
        rows[explained] = [t[0] for t in texts]
        rows[paid_col] = [t[1] for t in texts]

    b = blocks.copy()
    b["left_at_start"] = ledger.left_after(b, draws[draws["paid_on"] < period_from])
    b["left_at_end"] = ledger.left_after(b, draws[draws["paid_on"] <= last])
    at_end = _blocks_at_end(b, period_from, last, as_of)
    at_end = _describe_blocks(at_end, ctx, names, period_from, last, minutes_text)
    opening = int(at_end["left_at_start_us"].sum())
    lines = _ledger_lines(con, at_end, b, draws, rows, ctx, books.truth, names, period_from, last)
    ledger_frame, closing_us = _ledger_frame(lines, opening, period_from, last, minutes_text, names)
    totals = _totals(rows, lines, int(days_all[in_period]["general_us"].sum()), period_from)
    _check_balances(customer, period_from, last, at_end, closing_us, totals)
    late_credits = [late_credit_days(p) for p in at_end.loc[(at_end["kind"] == "late_credit")
                                                             & (at_end["purchased_on"] >= period_from), "purchase_id"]]
    for late_for, posted in late_credits:
        changes[(date.fromisoformat(late_for), date.fromisoformat(posted))] = sc.late_change(
            con, ctx, books.truth, date.fromisoformat(late_for), date.fromisoformat(posted))
    adjustments = _adjustment_lines(con, at_end, entries, fee_rows, rows, ctx, books.appointments,
                                    list(changes.values()), minutes_text)

    alive = at_end[at_end["left_at_end_us"] > 0]
    next_expiry = min(alive["expires_on"]) if len(alive) else None
    soon = alive[ledger.expiring_soon(alive["expires_on"], last, policy)]
    close = ctx.close
    return Statement(
        customer_id=customer, customer_name=customer_names(con).get(customer, customer), period_from=period_from,
        period_to=period_to, as_of=as_of, policy=shown_policy.as_dict(), policy_fingerprint=shown_policy.fingerprint(),
        data_version=frozen.data_version if frozen else books.data_version,
        generated_at=generated_at or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0),
        opening_remaining_us=opening, closing_remaining_us=closing_us, next_expiry=next_expiry,
        next_expiry_us=int(alive.loc[alive["expires_on"] == next_expiry, "left_at_end_us"].sum()),
        expiring_us=int(soon["left_at_end_us"].sum()), totals=totals,
        days=rows[list(DAY_COLUMNS)].reset_index(drop=True),
        entries=_entries_table(entries), fees=_fees_table(fee_rows), ledger=ledger_frame, blocks=at_end,
        adjustments=adjustments,
        closed_through=close.through if close else None, closing_id=close.closing_id if close else None,
        closed_by=close.recorded_by if close else None,
        closed_at=pd.Timestamp(close.recorded_at).to_pydatetime().replace(microsecond=0) if close else None,
    )


def _block_names(blocks: pd.DataFrame) -> dict:
    """purchase_id → (the block in the internal copy's words, in the customer's), billing.display.block_text."""
    return {pid: (block_text(pid, kind), block_text(pid, kind, on, customer=True))
            for pid, kind, on in zip(blocks["purchase_id"], blocks["kind"] if "kind" in blocks else [None] * len(blocks),
                                     blocks["purchased_on"])}


def _blocks_at_end(b: pd.DataFrame, period_from: date, last: date, as_of: date) -> pd.DataFrame:
    """The blocks usable on some day of the period, as they stood at the end of its last day
    ``last`` (R7-R9, R13), in drawing order: left at the start (missing for a block bought in
    the period), used, forfeited and rolled over in the period, left at the end, status at the
    end. Per block: left at start (or purchased, if bought in the period) − used − forfeited −
    rolled over = left at end; a block bought after ``last`` is not there. ``b``: the
    customer's blocks with left_at_start (after the draws paid before the period) and
    left_at_end (after those paid through ``last``), kind and rolled_over_us (as of T: what
    moved into its rollover block at the end of its last day)."""
    s = b[(b["purchased_on"] <= last) & (b["expires_on"] >= period_from)].reset_index(drop=True)
    usable = ledger.usable_at_end_of(s, s["left_at_end"], last, as_of).to_numpy(dtype=bool)
    bought_in = (s["purchased_on"] >= period_from).to_numpy(dtype=bool)
    purchased = s["purchased_us"].to_numpy("int64")
    start = np.where(bought_in, 0, s["left_at_start"].to_numpy("int64"))
    left = s["left_at_end"].to_numpy("int64")
    gone = ~usable & (left > 0)   # past its last day by the end of the period (and before T)
    rolled_total = s["rolled_over_us"].to_numpy("int64") if "rolled_over_us" in s else np.zeros(len(s), "int64")
    rolled = np.where(gone, np.minimum(rolled_total, left), 0)
    forfeited = np.where(gone, left - rolled, 0)
    status = np.where(left <= 0, ledger.STATUS_USED_UP,
                      np.where(forfeited > 0, ledger.STATUS_FORFEITED,
                               np.where(rolled > 0, ledger.STATUS_ROLLED_OVER, ledger.STATUS_ACTIVE)))
    kind = s["kind"].astype(object) if "kind" in s else pd.Series([ledger.KIND_PURCHASE] * len(s), dtype=object)
    return pd.DataFrame({
        "purchase_id": s["purchase_id"].astype(object), "purchased_on": s["purchased_on"],
        "expires_on": s["expires_on"], "purchased_us": purchased,
        "left_at_start_us": pd.Series(start, dtype="Int64").mask(bought_in),
        "used_us": (start + np.where(bought_in, purchased, 0) - left).astype("int64"),
        "forfeited_us": forfeited.astype("int64"), "left_at_end_us": np.where(usable, left, 0).astype("int64"),
        "status": status.astype(object), "kind": kind.to_numpy(), "rolled_over_us": rolled.astype("int64"),
        "base_expires_on": s["base_expires_on"] if "base_expires_on" in s else s["expires_on"],
        "source": s["source"] if "source" in s else None,
    })


def _describe_blocks(at_end: pd.DataFrame, ctx: sc.Context, names: dict, first: date, last: date,
                     minutes_text) -> pd.DataFrame:
    """The blocks with their names and what else each is, in both copies' words: a credit's
    reason (R10), a late credit's day (R12), a rollover block's source (R13), an extension
    with its reason (R10)."""
    about, customer_about = [], []
    for r in at_end.itertuples():
        inside, outside = [], []
        if r.kind == "credit":
            rec = ctx.recorded(str(r.purchase_id)[len("adj-"):]) if str(r.purchase_id)[4:].isdigit() else None
            if rec:
                inside.append(f"credit, adjustment {int(rec['adjustment_id'])} (R10): {rec['reason']}")
                outside.append(rec["reason"])
        elif r.kind == "late_credit":   # its name says it all to the customer
            inside.append(f"late credit {r.purchase_id} (R12)")
        elif r.kind == "rollover":
            inside.append(f"rollover block {r.purchase_id} (R13)")
        base = getattr(r, "base_expires_on", None)
        if base is not None and not pd.isna(base) and pd.Timestamp(base).date() != pd.Timestamp(r.expires_on).date():
            ext = ctx.extension_of(r.purchase_id, r.expires_on)
            why = f": {ext['reason']}" if ext else ""
            number = f"adjustment {int(ext['adjustment_id'])}, " if ext else ""
            inside.append(f"last day extended from {_iso(base)} ({number}R10){why}")
            outside.append(f"last day extended from {_iso(base)}{why}")
        if r.rolled_over_us:
            inside.append(f"{minutes_text(int(r.rolled_over_us))} rolled over (R13)")
            outside.append(f"{minutes_text(int(r.rolled_over_us))} carried over, not forfeited")
        about.append("; ".join(inside))
        customer_about.append("; ".join(outside))
    out = at_end.assign(block=[names[p][0] for p in at_end["purchase_id"]],
                        customer_block=[names[p][1] for p in at_end["purchase_id"]],
                        about=about, customer_about=customer_about)
    return out[list(BLOCK_COLUMNS) + ["base_expires_on", "source"]]


def _iso(value) -> str:
    return pd.Timestamp(value).date().isoformat()


def _check_balances(customer: str, first: date, last: date, at_end: pd.DataFrame, closing: int, totals: dict) -> None:
    """The blocks at the end of the period agree with the ledger, figure by figure: their
    minutes left add up to the closing balance, their use to the minutes paid from prepaid
    hours, their forfeitures, rollovers and purchases (credits and carried-in minutes
    included) to the period's; and the period's billed minutes are what was paid for its days
    plus what was still uncovered at its end. A difference is a bug (StatementError)."""
    bought = at_end["purchased_on"] >= first
    entered = totals["purchased_us"] + totals["credited_us"] + totals["carried_in_us"]
    pairs = [("closing balance", closing, int(at_end["left_at_end_us"].sum())),
             ("paid from prepaid hours", totals["covered_us"], int(at_end["used_us"].sum())),
             ("forfeited", totals["forfeited_us"], int(at_end["forfeited_us"].sum())),
             ("rolled over", totals["rolled_over_us"], int(at_end["rolled_over_us"].sum())),
             ("purchased, credited and carried in", entered, int(at_end.loc[bought, "purchased_us"].sum())),
             ("billed", totals["billable_us"],
              totals["covered_us"] - totals["earlier_owed_paid_us"] + totals["uncovered_us"])]
    wrong = [f"{name} {format_minutes(a)} in the ledger, {format_minutes(b)} in the blocks"
             for name, a, b in pairs if a != b]
    if wrong:
        raise StatementError(f"statement of {customer} for {first}..{last}: the books do not balance ("
                             + "; ".join(wrong) + "); this is a bug in Hourbank, not in the data.")


ENTERING = {ledger.KIND_PURCHASE: "purchase", ledger.KIND_CREDIT: "credit", "late_credit": "late_credit",
            ledger.KIND_ROLLOVER: "carried_in"}


def _ledger_lines(con, at_end: pd.DataFrame, b: pd.DataFrame, draws: pd.DataFrame, rows: pd.DataFrame,
                  ctx: sc.Context, truth, names: dict, period_from: date, last: date) -> list[tuple]:
    """The period's ledger events, sorted: (date, order, kind, purchase_id, minutes_us, facts).
    ``minutes_us`` is what the line adds to the balance; ``facts`` the keywords of
    statement_words.ledger_text. A block enters on its first day (a purchase, a credit, a
    late credit or a rollover block); a draw leaves on the day it was paid (later than the
    day it paid for when owed minutes were carried, R14); what a block had left at the end of
    its last day rolls over (R13) or is forfeited (R9); an extension is a line of 0 minutes."""
    lines = []
    for r in at_end[at_end["purchased_on"] >= period_from].itertuples():
        kind = ENTERING.get(r.kind, "purchase")
        facts = {"minutes": int(r.purchased_us), "expires_on": r.expires_on}
        if kind == "credit":
            rec = ctx.recorded(str(r.purchase_id)[4:]) if str(r.purchase_id)[4:].isdigit() else None
            facts |= {"number": int(rec["adjustment_id"]) if rec else None, "reason": rec["reason"] if rec else None}
        elif kind == "late_credit":
            late_for, posted = late_credit_days(r.purchase_id)
            ch = sc.late_change(con, ctx, truth, date.fromisoformat(late_for), date.fromisoformat(posted))
            facts |= {"late_for": late_for, "closed_through": ch.closed_through.isoformat(), "why": ch}
        elif kind == "carried_in":
            facts |= {"source": r.source}
        lines.append((r.purchased_on, 1, kind, r.purchase_id, int(r.purchased_us), facts))
    moved = draws[(draws["paid_on"] >= period_from) & (draws["paid_on"] <= last)]
    for r in moved.itertuples():
        owed = r.paid_on > r.day
        lines.append((r.paid_on, 2 if owed else 3, "owed_paid" if owed else "billed", r.purchase_id,
                      -int(r.drawn_us), {"day": r.day, "minutes": int(r.drawn_us)}))
    for r in rows[rows["uncovered_us"] > 0].itertuples():
        carry = ctx.policy_on(r.late_for or r.day).overage == "carry"
        lines.append((r.day, 4, "uncovered", None, 0, {"day": r.day, "minutes": int(r.uncovered_us), "carry": carry}))
    for r in at_end[at_end["rolled_over_us"] > 0].itertuples():
        rule = ctx.policy_on(r.expires_on)
        until = r.expires_on + timedelta(days=rule.rollover_days)
        lines.append((r.expires_on, 5, "rolled_over", r.purchase_id, -int(r.rolled_over_us),
                      {"minutes": int(r.rolled_over_us), "expires_on": r.expires_on, "day": until}))
    for r in at_end[at_end["forfeited_us"] > 0].itertuples():
        lines.append((r.expires_on, 6, "forfeited", r.purchase_id, -int(r.forfeited_us),
                      {"minutes": int(r.forfeited_us), "expires_on": r.expires_on}))
    for r in at_end.itertuples():
        base = r.base_expires_on
        if base is None or pd.isna(base) or _iso(base) == _iso(r.expires_on):
            continue
        ext = ctx.extension_of(r.purchase_id, r.expires_on)
        on = pd.Timestamp(ext["on_day"]).date() if ext else None
        if on is not None and period_from <= on <= last:
            lines.append((on, 0, "extended", r.purchase_id, 0,
                          {"expires_on": r.expires_on, "previous_last_day": _iso(base),
                           "number": int(ext["adjustment_id"]), "reason": ext["reason"]}))
    lines.sort(key=lambda t: (t[0], t[1], t[3] or ""))
    return lines


def _ledger_frame(lines: list[tuple], opening: int, period_from: date, last: date,
                  minutes_text, names: dict) -> tuple[pd.DataFrame, int]:
    """The ledger table (opening, the events with the balance after each, closing) with
    each line's description for the internal copy and for the customer, and the closing
    balance in µs. ``names``: purchase_id → (internal, customer) name (``_block_names``), so
    that a block has one name on every line (a credit by its own date, not the line's)."""
    def row(day, kind, pid, minutes, balance, facts, names=(None, None)):
        texts = []
        for internal in (True, False):
            f = dict(facts)
            why = f.pop("why", None)
            if why is not None:   # a late credit: what changed in the closed day
                f["why"] = "; ".join(words.late_change_parts(why.diff, why.added.to_dict("records"),
                                                             why.removed.to_dict("records"), internal, minutes_text))
            if f.get("source") is not None:
                f["source"] = block_text(f["source"], customer=not internal)
            texts.append(words.ledger_text(kind, internal, minutes_text, purchase_id=pid,
                                           name=names[0] if internal else names[1], **f))
        return {"date": day, "kind": kind, "description": texts[0], "customer_description": texts[1],
                "purchase_id": pid, "minutes_us": minutes, "balance_us": balance,
                "block": names[0], "customer_block": names[1]}

    balance = opening
    rows = [row(period_from, "opening", None, opening, opening, {})]
    for day, _, kind, pid, minutes, facts in lines:
        balance += minutes
        kinds = None if pid is None else names.get(pid) or (
            block_text(pid, _KIND_OF_LINE.get(kind)), block_text(pid, _KIND_OF_LINE.get(kind), day, customer=True))
        rows.append(row(day, kind, pid, minutes, balance, facts, kinds or (None, None)))
    rows.append(row(last, "closing", None, balance, balance, {}))
    return pd.DataFrame(rows, columns=list(LEDGER_COLUMNS)), balance


# A line's block kind, where the line says it (others: read from the id, billing.display.block_kind_of).
_KIND_OF_LINE = {"purchase": "purchase", "credit": "credit", "late_credit": "late_credit", "carried_in": "rollover"}


def _adjustment_lines(con, at_end: pd.DataFrame, entries: pd.DataFrame, fee_rows: pd.DataFrame,
                      rows: pd.DataFrame, ctx: sc.Context, appointments: pd.DataFrame, changes: list,
                      minutes_text) -> pd.DataFrame:
    """The adjustments behind the period's figures (R10), each once, by date: the waived fees and
    excluded entries of its days, the charges billed in it, the credits among its blocks, the
    extensions of its blocks, and those (voids too) that caused the late changes posted in it
    (R12) (ADJUSTMENT_COLUMNS)."""
    out = []

    def add(rec, kind, minutes, **facts):
        if rec is None:
            return
        texts = [words.adjustment_text(kind, internal, minutes_text, number=int(rec["adjustment_id"]),
                                       target=rec["target"], minutes=minutes,
                                       **{k: (v[0] if internal else v[1]) if isinstance(v, tuple) else v
                                          for k, v in facts.items()})
                 for internal in (True, False)]
        out.append({"date": pd.Timestamp(rec["on_day"]).date(), "adjustment_id": int(rec["adjustment_id"]),
                    "kind": kind, "description": texts[0], "customer_description": texts[1],
                    "reason": rec["reason"], "minutes_us": minutes, "recorded_by": rec.get("recorded_by")})

    for f in fee_rows[fee_rows["waived_by"].notna()].itertuples():
        add(ctx.recorded(f.waived_by), "waive", int(f.waived_us), day=f.day.isoformat(), fee_kind=f.fee_kind,
            policy=ctx.policy_on(f.day).as_dict())
    for e in entries[entries["kind"] == "excluded"].itertuples():
        add(ctx.recorded(e.excluded_by), "exclude", int(e.minutes_us), day=e.day.isoformat(),
            started=_started(e.day, statement_started(e)), activity=activity_words(e.activity))
    for day in sorted(set(rows.loc[(rows["charged_us"] > 0) & rows["late_for"].isna(), "day"])):
        for c in ctx.charges_on(day):
            add(c, "charge", int(c["minutes_us"]), day=day.isoformat())
    for r in at_end[at_end["kind"] == ledger.KIND_CREDIT].itertuples():
        number = str(r.purchase_id)[4:]
        rec = ctx.recorded(number) if number.isdigit() else None
        add(rec, "credit", int(r.purchased_us), day=_iso(rec["on_day"]) if rec else None, to_day=_iso(r.expires_on))
    for r in at_end.itertuples():
        base = r.base_expires_on
        if base is None or pd.isna(base) or _iso(base) == _iso(r.expires_on):
            continue
        add(ctx.extension_of(r.purchase_id, r.expires_on), "extend", None, name=(r.block, r.customer_block),
            to_day=_iso(r.expires_on), previous_last_day=_iso(base))
    for ch in changes:   # what changed a closed day since its close (R12)
        for rec in ch.added.to_dict("records"):
            kind, minutes, facts = _cause_facts(con, rec, ctx, appointments)
            add(rec, kind, minutes, **facts)
        for rec in ch.removed.to_dict("records"):
            void = ctx.void_of(rec["adjustment_id"])
            if void is None:
                continue
            kind, minutes, facts = _cause_facts(con, rec, ctx, appointments)
            texts = tuple(words.adjustment_text(kind, internal, minutes_text, number=int(rec["adjustment_id"]),
                                                target=rec["target"], minutes=minutes,
                                                **{k: (v[0] if internal else v[1]) if isinstance(v, tuple) else v
                                                   for k, v in facts.items()}) for internal in (True, False))
            add(void, "void", minutes, name=texts, day=_iso(void["on_day"]))
    frame = pd.DataFrame(out, columns=list(ADJUSTMENT_COLUMNS))
    frame["minutes_us"] = pd.array(frame["minutes_us"], dtype="Int64")
    return frame.drop_duplicates("adjustment_id").sort_values(["date", "adjustment_id"], kind="stable") \
        .reset_index(drop=True)


def _cause_facts(con, rec: dict, ctx: sc.Context, appointments: pd.DataFrame) -> tuple[str, int | None, dict]:
    """(kind, minutes, facts for statement_words.adjustment_text) of an adjustment that changed a
    closed day: the fee it waived (the appointment as the books have it), the entry it excluded
    (as the data has it now), the charge."""
    kind, day = rec["kind"], ctx.target_days.get((rec["kind"], rec["target"]))
    if kind == "waive":
        a = appointments[appointments["appointment_id"] == rec["target"]]
        fee_kind = a.iloc[0]["fee_kind"] if len(a) else None
        day = day or (pd.Timestamp(a.iloc[0]["day"]).date() if len(a) else pd.Timestamp(rec["on_day"]).date())
        rule = ctx.policy_on(day)
        fee = rule.late_fee_us if fee_kind == rules.LATE_CANCELLATION else rule.no_show_fee_us
        return kind, int(fee), {"day": day.isoformat(), "fee_kind": fee_kind, "policy": rule.as_dict()}
    if kind == "exclude":
        found = con.execute("SELECT minutes_us, started_at, started_at_offset, activity FROM time_entries "
                            "WHERE entry_id = ?", [rec["target"]]).fetchone()
        minutes = int(found[0]) if found else 0
        day = day or pd.Timestamp(rec["on_day"]).date()
        return kind, minutes, {"day": day.isoformat(), "started": _started(day, _written(found[1], found[2]))
                               if found else None, "activity": activity_words(found[3]) if found else None}
    return kind, int(rec["minutes_us"]) if pd.notna(rec.get("minutes_us")) else None, \
        {"day": _iso(rec["on_day"])}


def activity_words(value) -> str | None:
    """A tracker's activity code in words ("status_call" → "status call"), None when missing."""
    return None if value is None or pd.isna(value) or not str(value).strip() else str(value).replace("_", " ")


def _entries_table(entries: pd.DataFrame) -> pd.DataFrame:
    """The statement's entries: timestamps as written, kinds in words, an excluded one's adjustment."""
    return pd.DataFrame({
        "day": entries["day"],
        "started_at": [_written(w, o) for w, o in zip(entries["started_at"], entries["started_at_offset"])],
        "entry_id": entries["entry_id"], "staff": entries["staff"], "activity": entries["activity"],
        "tier": entries["tier"], "kind": entries["kind"].map(KIND_LABEL),
        "minutes_us": entries["minutes_us"].astype("int64"), "customer_requested": entries["customer_requested"],
        "appointment_id": entries["appointment_id"], "notes": entries["notes"],
        "excluded_by": pd.array(entries["excluded_by"], dtype="Int64"), "excluded_reason": entries["excluded_reason"],
    }, columns=list(ENTRY_COLUMNS)).reset_index(drop=True)


def _fees_table(fee_rows: pd.DataFrame) -> pd.DataFrame:
    """The statement's fees (R6): the fee's kind in billing.rules' words, timestamps as
    written, the notice given in µs (missing for a no-show); a waived one (R10) bills 0 and
    says what it would have billed, which adjustment waived it and why."""
    return pd.DataFrame({
        "day": fee_rows["day"], "appointment_id": fee_rows["appointment_id"], "fee_kind": fee_rows["fee_kind"],
        "status": fee_rows["status"], "cancelled_by": fee_rows["cancelled_by"],
        "scheduled_start": [_written(w, o) for w, o in zip(fee_rows["scheduled_start"], fee_rows["scheduled_start_offset"])],
        "cancelled_at": [_written(w, o) or None for w, o in zip(fee_rows["cancelled_at"], fee_rows["cancelled_at_offset"])],
        "notice_us": pd.array(fee_rows["notice_us"], dtype="Int64"),
        "fee_us": fee_rows["fee_us"].astype("int64"),
        "waived_by": pd.array(fee_rows["waived_by"], dtype="Int64"),
        "waived_us": pd.array(fee_rows["waived_us"], dtype="Int64"), "waived_reason": fee_rows["waived_reason"],
    }, columns=list(FEE_COLUMNS)).reset_index(drop=True)


def _totals(days: pd.DataFrame, lines: list[tuple], general_us: int, period_from: date) -> dict:
    """The statement's totals in µs: the period's billed rows (covered and uncovered as at its
    end) and its ledger's movements."""
    def moved(*kinds):
        return int(sum(t[4] for t in lines if t[2] in kinds))

    return {
        "billable_us": int(days["billable_us"].sum()), "covered_us": -moved("billed", "owed_paid"),
        "uncovered_us": int(days["uncovered_us"].sum()), "fee_us": int(days["fee_us"].sum()),
        "session_us": int(days["session_us"].sum()), "adhoc_raw_us": int(days["adhoc_raw_us"].sum()),
        "adhoc_billed_us": int(days["adhoc_billed_us"].sum()), "charged_us": int(days["charged_us"].sum()),
        "purchased_us": moved("purchase"), "credited_us": moved("credit", "late_credit"),
        "carried_in_us": moved("carried_in"),
        "forfeited_us": -moved("forfeited"), "rolled_over_us": -moved("rolled_over"),
        "earlier_owed_paid_us": -int(sum(t[4] for t in lines if t[2] == "owed_paid" and t[5]["day"] < period_from)),
        "nonbillable_us": int(general_us),
    }


# --------------------------------------------------------------------------- issuing
def statement_figures(st: Statement) -> dict:
    """The figures a customer was told: what a later check compares."""
    return {
        "opening_remaining_us": st.opening_remaining_us, "closing_remaining_us": st.closing_remaining_us,
        "next_expiry": st.next_expiry.isoformat() if st.next_expiry else None,
        "totals": {k: int(v) for k, v in st.totals.items()},
        # A late row (R12) shares its day with the day's own row: it is keyed by both days.
        "days": {r.day.isoformat() + (f" late for {pd.Timestamp(r.late_for).date().isoformat()}"
                                      if r.late_for is not None and not pd.isna(r.late_for) else ""):
                 [int(r.billable_us), int(r.covered_us), int(r.uncovered_us)] for r in st.days.itertuples()},
    }


def issue_statement(db_path, st: Statement, files: dict[str, bytes], issued_by: str | None = None) -> int:
    """Record an issued statement: its figures, the policy it was made under, and ``files``
    (file name → bytes; the Statement page gives billing.exports.issued_files: the customer
    copy as sent and the internal copy that explains it, in every format). Returns its id."""
    with open_db(db_path) as con:
        with transaction(con):
            sid = con.execute("SELECT coalesce(max(statement_id), 0) + 1 FROM statements").fetchone()[0]
            con.execute(
                "INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [sid, datetime.now(timezone.utc).replace(tzinfo=None), issued_by, st.customer_id, st.period_from,
                 st.period_to, st.as_of, st.data_version, json.dumps(st.policy, sort_keys=True),
                 json.dumps(statement_figures(st), sort_keys=True),
                 json.dumps({name: hashlib.sha256(data).hexdigest() for name, data in files.items()}), None])
            for name, data in files.items():
                con.execute("INSERT INTO statement_files VALUES (?, ?, ?)", [sid, name, data])
    return sid


def issued_statements(con, customer: str | None = None) -> pd.DataFrame:
    """The recorded statements (of one customer, if given), newest first; empty with the
    table's columns for a database from before statements were recorded."""
    where = "WHERE customer_id = ?" if customer else ""
    try:
        return con.execute(f"SELECT * FROM statements {where} ORDER BY statement_id DESC",
                           [customer] if customer else []).df()
    except duckdb.CatalogException:  # a database from before statements were recorded
        return pd.DataFrame(columns=["statement_id", "issued_at", "issued_by", "customer_id", "period_from",
                                     "period_to", "as_of", "data_version", "policy", "figures", "files", "note"])


def issued_with_checks(con, customer: str) -> pd.DataFrame:
    """The customer's issued statements, each re-checked against today's data."""
    issued = issued_statements(con, customer)
    rows = []
    for _, row in issued.iterrows():
        diffs = recheck_issued(con, row)
        rows.append({"statement": int(row["statement_id"]), "issued at": row["issued_at"],
                     "issued by": row["issued_by"] or "",
                     "period": f"{pd.Timestamp(row['period_from']).date()} – {pd.Timestamp(row['period_to']).date()}",
                     "as of": pd.Timestamp(row["as_of"]).date(), "data version": int(row["data_version"]),
                     "status": "changed" if diffs else "unchanged", "differences": "; ".join(diffs)})
    return pd.DataFrame(rows, columns=["statement", "issued at", "issued by", "period", "as of", "data version",
                                       "status", "differences"])


def _then_and_now(then_us: int, now_us: int) -> str:
    """"issued 4 h 27 min, now 4 h 57 min" for people (billing.display: whole minutes); exact
    when the change is under a minute, so the two never read the same."""
    from billing.display import duration_text

    then, now = duration_text(then_us), duration_text(now_us)
    if then == now:
        then, now = format_minutes(then_us), format_minutes(now_us)
    return f"issued {then}, now {now}"


def recheck_issued(con, row) -> list[str]:
    """What differs between an issued statement and the same statement computed today.

    The statement is rebuilt with the policy it was issued under, so only a change of
    data (an import, an undo) can make it differ. An empty list means: still the same.
    """
    policy = validate_policy(json.loads(row["policy"]), source=f"statement {row['statement_id']}")
    def as_date(v):
        return pd.Timestamp(v).date()
    try:
        now = build_statement(con, policy, row["customer_id"], as_date(row["period_from"]), as_date(row["period_to"]),
                              as_date(row["as_of"]))
    except HourbankError as exc:
        return [str(exc)]
    then, today = json.loads(row["figures"]), statement_figures(now)
    diffs = []
    for key in ("opening_remaining_us", "closing_remaining_us"):
        if then[key] != today[key]:
            diffs.append(f"{key.replace('_us', '').replace('_', ' ')}: {_then_and_now(then[key], today[key])}")
    for key, value in then["totals"].items():
        if today["totals"].get(key) != value:
            diffs.append(f"{key.replace('_us', '').replace('_', ' ')}: "
                         f"{_then_and_now(value, today['totals'].get(key, 0))}")
    changed_days = sorted(set(then["days"]) ^ set(today["days"])
                          | {d for d in set(then["days"]) & set(today["days"]) if then["days"][d] != today["days"][d]})
    if changed_days:
        diffs.append("days that changed: " + ", ".join(changed_days[:10]) + (" …" if len(changed_days) > 10 else ""))
    return diffs

