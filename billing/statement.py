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

from billing import ledger, reports, rules
from billing import statement_words as words
from billing.customers import customer_names
from billing.display import duration_text
from billing.errors import HourbankError
from billing.policy import Policy, validate_policy
from billing.statement_model import (BLOCK_COLUMNS, DAY_COLUMNS, FEE_COLUMNS, LEDGER_COLUMNS, Statement,
                                     StatementError, format_minutes)
from billing.store import open_db

KIND_LABEL = {"adhoc": "ad-hoc", "session": "session", "general": "general (free)", "held": "held"}


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
    """The customer's entries of ``first``..``last`` (dated ≤ T) with business day and kind
    (R1, R2, R4), in day, start and id order."""
    where = "AND e.customer_id = $customer AND e.day BETWEEN $first AND $last"
    df = con.execute(f"""SELECT * FROM ({rules.classified_entries_sql(where)}) ORDER BY day, started_at, entry_id""",
                     {"tz": policy.timezone, "asof": as_of, "customer": customer, "first": first,
                      "last": last}).df()
    df["day"] = pd.to_datetime(df["day"]).dt.date
    return df


def _grouped(frame: pd.DataFrame, key: str) -> dict:
    """``frame``'s rows by the value of ``key`` (one pass; an empty frame gives {})."""
    return {k: g for k, g in frame.groupby(key, sort=False)} if len(frame) else {}


def _day_texts(day_row, entries: pd.DataFrame, fees: pd.DataFrame, draws: pd.DataFrame, policy: dict,
               internal: bool, minutes_text) -> tuple[str, str]:
    """One day's explanation and "paid by" in the internal or the customer copy's words
    (billing.statement_words): ``entries`` and ``fees`` (R4-R6) and ``draws`` (R8) of that day."""
    adhoc = [int(m) for m in entries.loc[entries["kind"] == "adhoc", "minutes_us"]]
    session = entries[entries["kind"] == "session"]
    sessions = [(appt, [int(m) for m in group["minutes_us"]])
                for appt, group in session.groupby("appointment_id", sort=True)] if len(session) else []
    fee_list = [(f.fee_kind, f.appointment_id, int(f.fee_us)) for f in fees.itertuples()]
    explanation = words.day_explanation(adhoc, int(day_row.adhoc_raw_us), int(day_row.adhoc_billed_us), sessions,
                                        int(day_row.top_up_us), fee_list, policy, internal, minutes_text)
    paid = words.paid_by_text([(r.purchase_id, int(r.drawn_us)) for r in draws.itertuples()],
                              int(day_row.uncovered_us), internal, minutes_text)
    return explanation, paid


def build_statement(con, policy: Policy, customer: str, period_from: date, period_to: date,
                    as_of: date, generated_at: datetime | None = None, minutes_text=duration_text) -> Statement:
    """One customer's statement of ``period_from``..``period_to`` as of T (nothing after T
    counts, R1), from one read of ``con``: days explained (R4-R6) and paid (R8), the ledger
    of purchases, draws, uncovered minutes and forfeitures (R7-R9) with opening and closing
    balances, and the blocks as they stood at the end of the period (their minutes left add
    up to the closing balance). Every text is written twice: for the internal copy (rule
    ids) and for the customer (words), see billing.statement_words. ``minutes_text`` writes
    the times in those texts: hours and whole minutes (billing.display) by default; the
    figures are exact µs whatever it is. Raises HourbankError when the period is reversed,
    starts after T, or the customer has nothing dated on or before T; StatementError when
    the books would not balance (a bug)."""
    if period_from > period_to:
        raise HourbankError(f"statement period {period_from}..{period_to}: the first day is after the last day.")
    if period_from > as_of:
        raise HourbankError(f"statement period {period_from}..{period_to} starts after the as-of date {as_of}: "
                            f"nothing in it counts yet (R1); choose an as-of date on or after {period_from}.")
    last = min(period_to, as_of)  # nothing after T counts (R1)
    books = reports.compute_books(con, policy, as_of, customer)
    if customer not in set(books.customers):
        raise HourbankError(f"customer {customer!r} has nothing dated on or before {as_of}.")
    days_all, blocks = books.days, books.blocks
    day_of = pd.to_datetime(days_all["day"]).dt.date
    in_period = (day_of >= period_from) & (day_of <= last)
    days = days_all[in_period & (days_all["billable_us"] > 0)].copy()
    days["day"] = pd.to_datetime(days["day"]).dt.date
    draws = books.draws.assign(day=pd.to_datetime(books.draws["day"]).dt.date)
    entries = statement_entries(con, policy, as_of, customer, period_from, last)
    appts = books.appointments.assign(day=pd.to_datetime(books.appointments["day"]).dt.date)
    fee_rows = appts[(appts["fee_us"] > 0) & (appts["day"] >= period_from) & (appts["day"] <= last)]

    settings = policy.as_dict()
    by_day = (_grouped(entries, "day"), _grouped(fee_rows, "day"), _grouped(draws, "day"))
    empty = (entries.iloc[:0], fee_rows.iloc[:0], draws.iloc[:0])
    for internal, (explained, paid) in ((True, ("explanation", "paid_by")),
                                        (False, ("customer_explanation", "customer_paid_by"))):
        texts = [_day_texts(r, *(group.get(r.day, e) for group, e in zip(by_day, empty)), settings, internal,
                            minutes_text) for r in days.itertuples()]
        days[explained] = [t[0] for t in texts]
        days[paid] = [t[1] for t in texts]

    b = blocks.copy()
    b["left_at_start"] = ledger.left_after(b, draws[draws["day"] < period_from])
    b["left_at_end"] = ledger.left_after(b, draws[draws["day"] <= last])
    at_end = _blocks_at_end(b, period_from, last, as_of)
    opening = int(at_end["left_at_start_us"].sum())
    lines = _ledger_lines(b, draws, days, period_from, last, as_of)
    ledger_frame, closing = _ledger_frame(lines, opening, period_from, last, minutes_text)
    totals = _totals(days, lines, int(days_all[in_period]["general_us"].sum()))
    _check_balances(customer, period_from, last, at_end, closing, totals)

    alive = at_end[at_end["left_at_end_us"] > 0]
    next_expiry = min(alive["expires_on"]) if len(alive) else None
    soon = alive[ledger.expiring_soon(alive["expires_on"], last, policy)]
    return Statement(
        customer_id=customer, customer_name=customer_names(con).get(customer, customer), period_from=period_from,
        period_to=period_to, as_of=as_of, policy=settings, policy_fingerprint=policy.fingerprint(),
        data_version=books.data_version,
        generated_at=generated_at or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0),
        opening_remaining_us=opening, closing_remaining_us=closing, next_expiry=next_expiry,
        next_expiry_us=int(alive.loc[alive["expires_on"] == next_expiry, "left_at_end_us"].sum()),
        expiring_us=int(soon["left_at_end_us"].sum()), totals=totals,
        days=days[list(DAY_COLUMNS)].reset_index(drop=True),
        entries=_entries_table(entries), fees=_fees_table(fee_rows), ledger=ledger_frame, blocks=at_end,
    )


def _blocks_at_end(b: pd.DataFrame, period_from: date, last: date, as_of: date) -> pd.DataFrame:
    """The blocks usable on some day of the period, as they stood at the end of its last day
    ``last`` (R7-R9), in drawing order: left at the start (missing for a block bought in the
    period), used and forfeited in the period, left at the end, status at the end. Per block:
    left at start (or purchased, if bought in the period) − used − forfeited = left at end;
    a block bought after ``last`` is not there. ``b``: the customer's blocks with left_at_start
    (after the draws before the period) and left_at_end (after the draws through ``last``)."""
    s = b[(b["purchased_on"] <= last) & (b["expires_on"] >= period_from)].reset_index(drop=True)
    usable = ledger.usable_at_end_of(s, s["left_at_end"], last, as_of).to_numpy(dtype=bool)
    bought_in = (s["purchased_on"] >= period_from).to_numpy(dtype=bool)
    purchased = s["purchased_us"].to_numpy("int64")
    start = np.where(bought_in, 0, s["left_at_start"].to_numpy("int64"))
    left = s["left_at_end"].to_numpy("int64")
    forfeited = np.where(~usable & (left > 0), left, 0)
    status = np.where(left <= 0, ledger.STATUS_USED_UP,
                      np.where(forfeited > 0, ledger.STATUS_FORFEITED, ledger.STATUS_ACTIVE))
    return pd.DataFrame({
        "purchase_id": s["purchase_id"].astype(object), "purchased_on": s["purchased_on"],
        "expires_on": s["expires_on"], "purchased_us": purchased,
        "left_at_start_us": pd.Series(start, dtype="Int64").mask(bought_in),
        "used_us": (start + np.where(bought_in, purchased, 0) - left).astype("int64"),
        "forfeited_us": forfeited.astype("int64"), "left_at_end_us": np.where(usable, left, 0).astype("int64"),
        "status": status.astype(object),
    }, columns=list(BLOCK_COLUMNS))


def _check_balances(customer: str, first: date, last: date, at_end: pd.DataFrame, closing: int, totals: dict) -> None:
    """The blocks at the end of the period agree with the ledger, figure by figure: their
    minutes left add up to the closing balance, their use to the minutes paid from prepaid
    hours, their forfeitures and purchases to the period's. A difference is a bug (StatementError)."""
    bought = at_end["purchased_on"] >= first
    pairs = [("closing balance", closing, int(at_end["left_at_end_us"].sum())),
             ("paid from prepaid hours", totals["covered_us"], int(at_end["used_us"].sum())),
             ("forfeited", totals["forfeited_us"], int(at_end["forfeited_us"].sum())),
             ("purchased", totals["purchased_us"], int(at_end.loc[bought, "purchased_us"].sum()))]
    wrong = [f"{name} {format_minutes(a)} in the ledger, {format_minutes(b)} in the blocks"
             for name, a, b in pairs if a != b]
    if wrong:
        raise StatementError(f"statement of {customer} for {first}..{last}: the books do not balance ("
                             + "; ".join(wrong) + "); this is a bug in Hourbank, not in the data.")


def _ledger_lines(b: pd.DataFrame, draws: pd.DataFrame, days: pd.DataFrame, period_from: date, last: date,
                  as_of: date) -> list[tuple]:
    """The period's ledger events, sorted: (date, order, kind, purchase_id, minutes_us, facts).
    ``minutes_us`` is what the line adds to the balance; ``facts`` the keywords of
    statement_words.ledger_text. ``b``: the blocks with left_at_end (ledger.left_after
    through the period's last day)."""
    lines = []
    for r in b[(b["purchased_on"] >= period_from) & (b["purchased_on"] <= last)].itertuples():
        lines.append((r.purchased_on, 1, "purchase", r.purchase_id, int(r.purchased_us),
                      {"minutes": int(r.purchased_us), "expires_on": r.expires_on}))
    for r in draws[(draws["day"] >= period_from) & (draws["day"] <= last)].itertuples():
        lines.append((r.day, 2, "billed", r.purchase_id, -int(r.drawn_us), {"day": r.day}))
    for r in days[days["uncovered_us"] > 0].itertuples():
        lines.append((r.day, 3, "uncovered", None, 0, {"day": r.day, "minutes": int(r.uncovered_us)}))
    gone = b[(b["expires_on"] >= period_from) & (b["expires_on"] <= last) & (b["expires_on"] < as_of)
             & (b["left_at_end"] > 0) & (b["purchased_on"] <= last)]
    for r in gone.itertuples():
        lines.append((r.expires_on, 4, "forfeited", r.purchase_id, -int(r.left_at_end),
                      {"minutes": int(r.left_at_end), "expires_on": r.expires_on}))
    lines.sort(key=lambda t: (t[0], t[1], t[3] or ""))
    return lines


def _ledger_frame(lines: list[tuple], opening: int, period_from: date, last: date,
                  minutes_text) -> tuple[pd.DataFrame, int]:
    """The ledger table (opening, the events with the balance after each, closing) with
    each line's description for the internal copy and for the customer, and the closing
    balance in µs."""
    def row(day, kind, pid, minutes, balance, facts):
        return {"date": day, "kind": kind,
                "description": words.ledger_text(kind, True, minutes_text, purchase_id=pid, **facts),
                "customer_description": words.ledger_text(kind, False, minutes_text, purchase_id=pid, **facts),
                "purchase_id": pid, "minutes_us": minutes, "balance_us": balance}

    balance = opening
    rows = [row(period_from, "opening", None, opening, opening, {})]
    for day, _, kind, pid, minutes, facts in lines:
        balance += minutes
        rows.append(row(day, kind, pid, minutes, balance, facts))
    rows.append(row(last, "closing", None, balance, balance, {}))
    return pd.DataFrame(rows, columns=list(LEDGER_COLUMNS)), balance


def _entries_table(entries: pd.DataFrame) -> pd.DataFrame:
    """The statement's entries: timestamps as written, kinds in words."""
    return pd.DataFrame({
        "day": entries["day"],
        "started_at": [_written(w, o) for w, o in zip(entries["started_at"], entries["started_at_offset"])],
        "entry_id": entries["entry_id"], "staff": entries["staff"], "activity": entries["activity"],
        "tier": entries["tier"], "kind": entries["kind"].map(KIND_LABEL),
        "minutes_us": entries["minutes_us"].astype("int64"), "customer_requested": entries["customer_requested"],
        "appointment_id": entries["appointment_id"], "notes": entries["notes"],
    }).reset_index(drop=True)


def _fees_table(fee_rows: pd.DataFrame) -> pd.DataFrame:
    """The statement's fees (R6): the fee's kind in billing.rules' words, timestamps as
    written, the notice given in µs (missing for a no-show)."""
    return pd.DataFrame({
        "day": fee_rows["day"], "appointment_id": fee_rows["appointment_id"], "fee_kind": fee_rows["fee_kind"],
        "status": fee_rows["status"], "cancelled_by": fee_rows["cancelled_by"],
        "scheduled_start": [_written(w, o) for w, o in zip(fee_rows["scheduled_start"], fee_rows["scheduled_start_offset"])],
        "cancelled_at": [_written(w, o) or None for w, o in zip(fee_rows["cancelled_at"], fee_rows["cancelled_at_offset"])],
        "notice_us": pd.array(fee_rows["notice_us"], dtype="Int64"),
        "fee_us": fee_rows["fee_us"].astype("int64"),
    }, columns=list(FEE_COLUMNS)).reset_index(drop=True)


def _totals(days: pd.DataFrame, lines: list[tuple], general_us: int) -> dict:
    """The statement's totals in µs: the period's billed days and its ledger's purchases and forfeitures."""
    return {
        "billable_us": int(days["billable_us"].sum()), "covered_us": int(days["covered_us"].sum()),
        "uncovered_us": int(days["uncovered_us"].sum()), "fee_us": int(days["fee_us"].sum()),
        "session_us": int(days["session_us"].sum()), "adhoc_raw_us": int(days["adhoc_raw_us"].sum()),
        "adhoc_billed_us": int(days["adhoc_billed_us"].sum()),
        "purchased_us": int(sum(t[4] for t in lines if t[2] == "purchase")),
        "forfeited_us": int(-sum(t[4] for t in lines if t[2] == "forfeited")),
        "nonbillable_us": int(general_us),
    }


# --------------------------------------------------------------------------- issuing
def statement_figures(st: Statement) -> dict:
    """The figures a customer was told: what a later check compares."""
    return {
        "opening_remaining_us": st.opening_remaining_us, "closing_remaining_us": st.closing_remaining_us,
        "next_expiry": st.next_expiry.isoformat() if st.next_expiry else None,
        "totals": {k: int(v) for k, v in st.totals.items()},
        "days": {r.day.isoformat(): [int(r.billable_us), int(r.covered_us), int(r.uncovered_us)]
                 for r in st.days.itertuples()},
    }


def issue_statement(db_path, st: Statement, files: dict[str, bytes], issued_by: str | None = None) -> int:
    """Record an issued statement: its figures, the policy it was made under, and ``files``
    (file name → bytes; the Statement page gives billing.exports.issued_files: the customer
    copy as sent and the internal copy that explains it, in every format). Returns its id."""
    with open_db(db_path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            sid = con.execute("SELECT coalesce(max(statement_id), 0) + 1 FROM statements").fetchone()[0]
            con.execute(
                "INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [sid, datetime.now(timezone.utc).replace(tzinfo=None), issued_by, st.customer_id, st.period_from,
                 st.period_to, st.as_of, st.data_version, json.dumps(st.policy, sort_keys=True),
                 json.dumps(statement_figures(st), sort_keys=True),
                 json.dumps({name: hashlib.sha256(data).hexdigest() for name, data in files.items()}), None])
            for name, data in files.items():
                con.execute("INSERT INTO statement_files VALUES (?, ?, ?)", [sid, name, data])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
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

