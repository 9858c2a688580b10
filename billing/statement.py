"""A customer statement: every billed minute of one customer and period, explained.

``build_statement`` reads one snapshot and fills ``billing.statement_model.Statement``:
the opening balance at the period's start, day by day how each billed figure was reached
(entries, the daily rounding of R5, sessions of R4, fees of R6) and which block paid for
it (R8), purchases and forfeitures as they happen (R7, R9), and the closing balance.
The ledger lines always balance: opening + purchases − draws − forfeitures = closing.

Issued statements are recorded (``issue_statement``) with their figures and files, so a
later look can tell whether today's data still gives the same figures.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone

import duckdb
import pandas as pd

from billing import ledger, reports, rules
from billing.customers import customer_names
from billing.errors import HourbankError
from billing.policy import US_PER_HOUR, Policy, validate_policy
from billing.statement_model import Statement, StatementError, format_minutes
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


def _explain_day(day_row, entries: pd.DataFrame, fees: pd.DataFrame, policy: Policy,
                 format_minutes=format_minutes) -> str:
    parts = []
    adhoc = entries[entries["kind"] == "adhoc"]
    if len(adhoc):
        terms = " + ".join(format_minutes(m) for m in adhoc["minutes_us"])
        raw, billed = int(day_row.adhoc_raw_us), int(day_row.adhoc_billed_us)
        text = f"ad-hoc {terms}" + (f" = {format_minutes(raw)}" if len(adhoc) > 1 else "")
        text += (f" → rounded up to {format_minutes(billed)} (R5, {policy.rounding_increment_minutes}-min increments)"
                 if billed != raw else f" → {format_minutes(billed)} (R5, already a whole increment)")
        parts.append(text)
    session = entries[entries["kind"] == "session"]
    if len(session):
        for appt, group in session.groupby("appointment_id", sort=True):
            parts.append(f"session {appt}: " + " + ".join(format_minutes(m) for m in group["minutes_us"])
                         + " as logged (R4)")
    if int(day_row.top_up_us):
        parts.append(f"booked-length top-up {format_minutes(int(day_row.top_up_us))} (R4, at least booked)")
    for fee in fees.itertuples():
        parts.append(f"{fee.fee_kind} fee {format_minutes(int(fee.fee_us))} for {fee.appointment_id} (R6)")
    return "; ".join(parts)


def _paid_by(draws: pd.DataFrame, uncovered_us: int, format_minutes=format_minutes) -> str:
    parts = [f"{r.purchase_id} {format_minutes(int(r.drawn_us))}" for r in draws.itertuples()]
    text = ", ".join(parts) if parts else "no prepaid block"
    if uncovered_us:
        text += f"; {format_minutes(uncovered_us)} uncovered (invoiced separately, R8)"
    return text


def build_statement(con, policy: Policy, customer: str, period_from: date, period_to: date,
                    as_of: date, generated_at: datetime | None = None, minutes_text=format_minutes) -> Statement:
    """One customer's statement of ``period_from``..``period_to`` as of T (nothing after T
    counts, R1), from one read of ``con``: days explained (R4-R6) and paid (R8), the ledger
    of purchases, draws, uncovered minutes and forfeitures (R7-R9) with opening and closing
    balances. ``minutes_text`` writes the times in the explanations and the ledger's
    descriptions: exact (format_minutes, the files) by default; the page passes
    billing.display.duration_text (whole minutes). The figures are the same. Raises HourbankError when the period is reversed or the customer has nothing
    dated on or before T, StatementError when the ledger would not balance (a bug)."""
    if period_from > period_to:
        raise HourbankError(f"statement period {period_from}..{period_to}: the first day is after the last day.")
    last = min(period_to, as_of)  # nothing after T counts (R1)
    books = reports.compute_books(con, policy, as_of, customer)
    if customer not in set(books.customers):
        raise HourbankError(f"customer {customer!r} has nothing dated on or before {as_of}.")
    days_all, blocks = books.days, books.blocks
    in_period = (pd.to_datetime(days_all["day"]).dt.date >= period_from) & (pd.to_datetime(days_all["day"]).dt.date <= last)
    days = days_all[in_period & (days_all["billable_us"] > 0)].copy()
    days["day"] = pd.to_datetime(days["day"]).dt.date
    draws = books.draws.assign(day=pd.to_datetime(books.draws["day"]).dt.date)
    entries = statement_entries(con, policy, as_of, customer, period_from, last)
    appts = books.appointments.assign(day=pd.to_datetime(books.appointments["day"]).dt.date)
    fee_rows = appts[(appts["fee_us"] > 0) & (appts["day"] >= period_from) & (appts["day"] <= last)]

    days["explanation"] = [
        _explain_day(r, entries[entries["day"] == r.day], fee_rows[fee_rows["day"] == r.day], policy,
                     minutes_text)
        for r in days.itertuples()]
    days["paid_by"] = [_paid_by(draws[draws["day"] == r.day], int(r.uncovered_us), minutes_text) for r in days.itertuples()]

    b = blocks.copy()
    b["left_at_start"] = ledger.left_after(b, draws[draws["day"] < period_from])
    b["left_at_end"] = ledger.left_after(b, draws[draws["day"] <= last])
    lines = _ledger_lines(b, draws, days, period_from, last, as_of, minutes_text)
    ledger_frame, opening, closing = _ledger_frame(lines, b, period_from, last)
    alive = b[ledger.usable_at_end_of(b, b["left_at_end"], last, as_of)]
    if int(alive["left_at_end"].sum()) != closing:
        raise StatementError(
            f"statement of {customer} for {period_from}..{period_to}: the ledger does not balance (closing "
            f"balance {format_minutes(closing)}, blocks still usable {format_minutes(int(alive['left_at_end'].sum()))}); "
            "this is a bug in Hourbank, not in the data.")
    next_expiry = min(alive["expires_on"]) if len(alive) else None
    soon = alive[ledger.expiring_soon(alive["expires_on"], last, policy)]
    return Statement(
        customer_id=customer, customer_name=customer_names(con).get(customer, customer), period_from=period_from,
        period_to=period_to, as_of=as_of, policy=policy.as_dict(), policy_fingerprint=policy.fingerprint(),
        data_version=books.data_version,
        generated_at=generated_at or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0),
        opening_remaining_us=opening, closing_remaining_us=closing, next_expiry=next_expiry,
        expiring_us=int(soon["left_at_end"].sum()),
        totals=_totals(days, lines, int(days_all[in_period]["general_us"].sum())),
        days=days[["day", "adhoc_raw_us", "adhoc_billed_us", "session_us", "fee_us", "billable_us", "covered_us",
                   "uncovered_us", "explanation", "paid_by"]].reset_index(drop=True),
        entries=_entries_table(entries), fees=_fees_table(fee_rows), ledger=ledger_frame,
        blocks=blocks[["purchase_id", "purchased_on", "expires_on", "purchased_us", "used_us", "forfeited_us",
                       "remaining_us", "status"]].reset_index(drop=True),
    )


def _ledger_lines(b: pd.DataFrame, draws: pd.DataFrame, days: pd.DataFrame, period_from: date, last: date,
                  as_of: date, format_minutes=format_minutes) -> list[tuple]:
    """The period's ledger events, sorted: (date, order, kind, description, purchase_id, minutes_us).
    ``b``: the blocks with left_at_end (ledger.left_after through the period's last day)."""
    lines = []
    for r in b[(b["purchased_on"] >= period_from) & (b["purchased_on"] <= last)].itertuples():
        lines.append((r.purchased_on, 1, "purchase", f"purchase {r.purchase_id}: {format_minutes(int(r.purchased_us))}, "
                      f"usable through {r.expires_on} (R7)", r.purchase_id, int(r.purchased_us)))
    for r in draws[(draws["day"] >= period_from) & (draws["day"] <= last)].itertuples():
        lines.append((r.day, 2, "billed", f"billed on {r.day}, paid by {r.purchase_id} (R8)", r.purchase_id,
                      -int(r.drawn_us)))
    for r in days[days["uncovered_us"] > 0].itertuples():
        lines.append((r.day, 3, "uncovered", f"{format_minutes(int(r.uncovered_us))} billed on {r.day} with no "
                      f"prepaid minutes left: invoiced separately (R8)", None, 0))
    gone = b[(b["expires_on"] >= period_from) & (b["expires_on"] <= last) & (b["expires_on"] < as_of)
             & (b["left_at_end"] > 0) & (b["purchased_on"] <= last)]
    for r in gone.itertuples():
        lines.append((r.expires_on, 4, "forfeited", f"{format_minutes(int(r.left_at_end))} left in {r.purchase_id} "
                      f"forfeited at the end of its last day {r.expires_on} (R9)", r.purchase_id, -int(r.left_at_end)))
    lines.sort(key=lambda t: (t[0], t[1], t[4] or ""))
    return lines


def _ledger_frame(lines: list[tuple], b: pd.DataFrame, period_from: date, last: date) -> tuple[pd.DataFrame, int, int]:
    """The ledger table (opening, the events with the balance after each, closing), and the
    opening and closing balances in µs. ``b``: the blocks with left_at_start."""
    open_mask = (b["purchased_on"] < period_from) & (b["expires_on"] >= period_from)
    opening = int(b.loc[open_mask, "left_at_start"].sum())
    balance = opening
    rows = [{"date": period_from, "kind": "opening", "description": "prepaid minutes left at the start of the period",
             "purchase_id": None, "minutes_us": opening, "balance_us": opening}]
    for day, _, kind, text, pid, minutes in lines:
        balance += minutes
        rows.append({"date": day, "kind": kind, "description": text, "purchase_id": pid,
                     "minutes_us": minutes, "balance_us": balance})
    rows.append({"date": last, "kind": "closing", "description": "prepaid minutes left at the end of the period",
                 "purchase_id": None, "minutes_us": balance, "balance_us": balance})
    return pd.DataFrame(rows), opening, balance


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
    """The statement's fees (R6): timestamps as written, the notice in hours (1 decimal)."""
    return pd.DataFrame({
        "day": fee_rows["day"], "appointment_id": fee_rows["appointment_id"], "status": fee_rows["status"],
        "cancelled_by": fee_rows["cancelled_by"],
        "scheduled_start": [_written(w, o) for w, o in zip(fee_rows["scheduled_start"], fee_rows["scheduled_start_offset"])],
        "cancelled_at": [_written(w, o) or None for w, o in zip(fee_rows["cancelled_at"], fee_rows["cancelled_at_offset"])],
        "notice_hours": [("" if pd.isna(n) else f"{int(n) / US_PER_HOUR:.1f}") for n in fee_rows["notice_us"]],
        "fee_us": fee_rows["fee_us"].astype("int64"),
    }).reset_index(drop=True)


def _totals(days: pd.DataFrame, lines: list[tuple], general_us: int) -> dict:
    """The statement's totals in µs: the period's billed days and its ledger's purchases and forfeitures."""
    return {
        "billable_us": int(days["billable_us"].sum()), "covered_us": int(days["covered_us"].sum()),
        "uncovered_us": int(days["uncovered_us"].sum()), "fee_us": int(days["fee_us"].sum()),
        "session_us": int(days["session_us"].sum()), "adhoc_raw_us": int(days["adhoc_raw_us"].sum()),
        "adhoc_billed_us": int(days["adhoc_billed_us"].sum()),
        "purchased_us": int(sum(m for _, _, k, _, _, m in lines if k == "purchase")),
        "forfeited_us": int(-sum(m for _, _, k, _, _, m in lines if k == "forfeited")),
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
    """Record an issued statement (its figures and its files); returns its id."""
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

