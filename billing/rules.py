"""R1–R6: from what the export said to billable minutes per customer and business day.

The stored rows are classified and summed in DuckDB (vectorised); the per-day policy
arithmetic (rounding, session top-ups, fees) is done with pandas on integer
microseconds. Nothing here is stored: the same database gives another policy's figures.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from billing.calendar import business_day_expr, to_utc
from billing.policy import Policy

# --------------------------------------------------------------------------- classification
def entry_kind_sql(held="'held'", general="'general'", session="'session'", adhoc="'adhoc'") -> str:
    """SQL: the kind of entry ``e`` joined to its appointment ``a`` (R2, R4), as the labels given."""
    return f"""
    CASE WHEN e.appointment_id IS NOT NULL AND (a.appointment_id IS NULL OR a.customer_id <> e.customer_id
                                                OR a.status <> 'completed') THEN {held}
         WHEN e.tier = 'general' THEN {general}
         WHEN e.appointment_id IS NOT NULL THEN {session}
         ELSE {adhoc} END"""


ENTRY_KIND_SQL = entry_kind_sql()

HOLD_REASON_SQL = """
    CASE WHEN e.appointment_id IS NULL THEN NULL
         WHEN a.appointment_id IS NULL THEN 'appointment ' || e.appointment_id || ' is not in the data (as of this date)'
         WHEN a.customer_id <> e.customer_id THEN 'appointment ' || e.appointment_id || ' belongs to customer ' || a.customer_id
         WHEN a.status <> 'completed' THEN 'appointment ' || e.appointment_id || ' is ' || replace(a.status, '_', '-')
    END"""


_ID_SEPARATOR = "\x1f"  # ASCII unit separator: no tracker writes it inside an id


def id_set_sql(ids) -> str:
    """SQL: a subquery of the given ids (text), for ``x IN (…)``: DuckDB hashes it (a semi or
    anti join), where list_contains would scan the whole list for every row.

    The ids travel as one text literal split in SQL: DuckDB parses a list literal of N
    strings at about 8 µs each (3,000 excluded entries: 25 ms, in each query that names
    them), one long literal in well under a millisecond. Ids that contain the separator
    (none a tracker writes) fall back to the list literal."""
    ids = [str(i) for i in ids]
    if not ids:
        return "SELECT NULL::VARCHAR WHERE false"
    if not any(_ID_SEPARATOR in i for i in ids):
        joined = _ID_SEPARATOR.join(ids).replace("'", "''")
        return f"SELECT unnest(string_split('{joined}', chr({ord(_ID_SEPARATOR)})))"
    values = ", ".join("'" + i.replace("'", "''") + "'" for i in ids)
    return f"SELECT unnest([{values}]::VARCHAR[])"


def excluded_sql(excluded, alias: str = "e") -> str:
    """SQL: ``AND`` the entry is not excluded by an adjustment in force (R10: it counts toward
    nothing, like a held entry); empty when nothing is excluded, so the usual query is unchanged."""
    return f"AND {alias}.entry_id NOT IN ({id_set_sql(excluded)})" if len(excluded) else ""


def classified_entries_sql(where: str = "", excluded=()) -> str:
    """Every entry dated ≤ T (param $asof) with its business day and kind (R1, R2, R4, R10).

    kind: 'adhoc' (R5), 'session' (R4), 'general' (R2, never billable), 'held' (R4:
    counts toward nothing until its appointment is completed) or 'excluded' (R10: an
    adjustment in force excludes it; ``excluded``: their entry ids). Parameters: $tz, $asof.
    """
    e_day = business_day_expr("e", "started_at")
    a_day = business_day_expr("ap", "scheduled_start")
    kind = ENTRY_KIND_SQL
    if len(excluded):
        kind = f"CASE WHEN e.entry_id IN ({id_set_sql(excluded)}) THEN 'excluded' ELSE {ENTRY_KIND_SQL} END"
    return f"""
        WITH a AS (SELECT ap.appointment_id, ap.customer_id, ap.status FROM appointments ap
                   WHERE {a_day} <= $asof),
        e AS (SELECT *, {e_day} AS day FROM time_entries e)
        SELECT e.*, {kind} AS kind, {HOLD_REASON_SQL} AS hold_reason
        FROM e LEFT JOIN a ON a.appointment_id = e.appointment_id
        WHERE e.day <= $asof {where}"""


def settled(con):
    """``con`` with no half-read result pending (a caller's fetchone() leaves one), so that
    con.sql() may run: DuckDB refuses a relation query past a pending result, while
    con.execute() simply replaces it. Finishing it changes nothing the caller still reads."""
    con.complete()
    return con


def _params(policy: Policy, as_of: date, customer: str | None = None) -> dict:
    p = {"tz": policy.timezone, "asof": as_of}
    if customer is not None:
        p["customer"] = customer
    return p


def _logged_sql(excluded=()) -> str:
    """Per appointment: the entries logged in it by its own customer, dated ≤ T (R4), less the
    excluded ones (R10)."""
    e_day = business_day_expr("e", "started_at")
    return f"""
        SELECT appointment_id, customer_id,
               CAST(coalesce(sum(minutes_us) FILTER (tier = 'one_on_one'), 0) AS BIGINT) AS one_on_one_logged_us,
               count(*) AS entries_logged
        FROM time_entries e WHERE appointment_id IS NOT NULL AND {e_day} <= $asof {excluded_sql(excluded)}
        GROUP BY appointment_id, customer_id"""


def appointments_as_of(con, policy: Policy, as_of: date, customer: str | None = None) -> pd.DataFrame:
    """Appointments dated ≤ T that are not completed, with business day, instants and fee (R6).

    Those are the ones that bill a fee (late cancellations and no-shows) or can need a look
    (scheduled ones in the past). A completed appointment bills the entries logged in it (R4;
    at_least_booked top-ups are summed in SQL by daily_billable), and one with no 1-on-1 time
    is listed by ``empty_sessions``.
    """
    day = business_day_expr("ap", "scheduled_start")
    where = "AND ap.customer_id = $customer" if customer is not None else ""
    # Through Arrow: text stays Arrow-backed (DuckDB's .df() makes a Python string per value).
    df = settled(con).sql(f"""
        SELECT ap.*, {day} AS day FROM appointments ap
        WHERE {day} <= $asof AND ap.status <> 'completed' {where}""",
                 params=_params(policy, as_of, customer)).to_arrow_table().to_pandas(date_as_object=False)
    df["day"] = df["day"].astype("datetime64[us]")
    for col in ("scheduled_start_offset", "cancelled_at_offset"):
        df[col] = df[col].astype("Int32")
    # Instants are needed only for the notice of a cancellation (R6): convert just those rows.
    cancelled = df["status"] == "cancelled"
    df["start_utc"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
    df["cancelled_utc"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
    if cancelled.any():
        sub = df[cancelled]
        df.loc[cancelled, "start_utc"] = to_utc(sub["scheduled_start"], sub["scheduled_start_offset"], policy.timezone)
        df.loc[cancelled, "cancelled_utc"] = to_utc(sub["cancelled_at"], sub["cancelled_at_offset"], policy.timezone)
    return apply_fees(df, policy)


def empty_sessions(con, policy: Policy, as_of: date, customer: str | None = None, excluded=()) -> pd.DataFrame:
    """Completed appointments dated ≤ T with no 1-on-1 time logged in them by their customer
    (R4: in `logged` mode they bill nothing; excluded entries, R10, count as not logged):
    customer_id, day, appointment_id."""
    day = business_day_expr("ap", "scheduled_start")
    where = "AND ap.customer_id = $customer" if customer is not None else ""
    return con.execute(f"""
        WITH logged AS ({_logged_sql(excluded)})
        SELECT ap.customer_id, {day} AS day, ap.appointment_id
        FROM appointments ap LEFT JOIN logged l
             ON l.appointment_id = ap.appointment_id AND l.customer_id = ap.customer_id
        WHERE ap.status = 'completed' AND {day} <= $asof {where}
          AND coalesce(l.one_on_one_logged_us, 0) = 0""", _params(policy, as_of, customer)).df()


def customers_as_of(con, policy: Policy, as_of: date, customer: str | None = None) -> pd.Index:
    """Customers with an appointment dated ≤ T (entries and purchases add theirs elsewhere)."""
    day = business_day_expr("ap", "scheduled_start")
    where = "AND ap.customer_id = $customer" if customer is not None else ""
    return pd.Index(con.execute(f"SELECT DISTINCT customer_id FROM appointments ap WHERE {day} <= $asof {where}",
                                _params(policy, as_of, customer)).df()["customer_id"])


# --------------------------------------------------------------------------- R5, R6, R4
def round_daily(raw_us, increment_us: int):
    """R5: a day's ad-hoc sum rounded UP to the next multiple of the increment (0 stays 0)."""
    raw = np.asarray(raw_us, dtype="int64")
    return -(-raw // increment_us) * increment_us


def notice_given_us(start_utc: pd.Series, cancelled_utc: pd.Series) -> pd.Series:
    """R6: real elapsed time between two instants, in µs (negative when after the start)."""
    delta = start_utc.astype("datetime64[us]") - cancelled_utc.astype("datetime64[us]")
    return delta.astype("int64").where(cancelled_utc.notna())


# R6 in words: what a cancelled or missed appointment is, as every report and page says it.
LATE_CANCELLATION = "late cancellation"
NO_SHOW = "no-show"
STAFF_CANCELLATION = "staff cancellation (free)"
CANCELLED_IN_TIME = "cancelled in time (free)"
FEE_KINDS = (LATE_CANCELLATION, NO_SHOW)   # the kinds that cost the customer a fee


def fees(status, cancelled_by, notice, policy: Policy, days=None) -> tuple[np.ndarray, np.ndarray]:
    """R6: the fee of each appointment.

    ``status``: appointment statuses; ``cancelled_by``: 'customer', 'staff' or empty/None
    (= customer); ``notice``: µs between cancellation and start (negative after the start,
    NaN when not cancelled); ``days``: the appointments' business days, whose settings apply
    (R11; None: the policy's own settings), all of one length. Returns (fee kind:
    LATE_CANCELLATION, NO_SHOW or None; fee in integer µs, 0 when free).
    """
    status = np.asarray(status, dtype=object)
    by = pd.Series(np.asarray(cancelled_by, dtype=object)).fillna("customer").replace("", "customer")
    notice = pd.Series(np.asarray(notice, dtype="float64"))

    def setting(name):
        return policy.by_day(name, days) if days is not None and policy.varies_us(name) else getattr(policy, name)

    late = (status == "cancelled") & (by == "customer").to_numpy() & (notice < setting("notice_us")).to_numpy()
    no_show = status == "no_show"
    kind = np.where(late, LATE_CANCELLATION, np.where(no_show, NO_SHOW, None))
    fee = np.where(late, setting("late_fee_us"), np.where(no_show, setting("no_show_fee_us"), 0)).astype("int64")
    return kind, fee


def cancellation_kind(status, cancelled_by, fee) -> np.ndarray:
    """R6 in words for cancelled and no-show appointments: NO_SHOW, STAFF_CANCELLATION,
    LATE_CANCELLATION (a fee was billed) or CANCELLED_IN_TIME. ``status``, ``cancelled_by``
    (empty/None = customer) and ``fee`` (µs billed) are columns of one length."""
    status = np.asarray(status, dtype=object)
    by = np.asarray(pd.Series(np.asarray(cancelled_by, dtype=object)).fillna("customer"), dtype=object)
    fee = np.asarray(fee, dtype="int64")
    return np.where(status == "no_show", NO_SHOW,
                    np.where(by == "staff", STAFF_CANCELLATION,
                             np.where(fee > 0, LATE_CANCELLATION, CANCELLED_IN_TIME)))


def apply_fees(appts: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """R6: ``appts`` (status, cancelled_by, start_utc, cancelled_utc) with notice_us (Int64),
    fee_kind and fee_us added; a fee is dated on the start's business day by the caller."""
    df = appts.copy()
    notice = notice_given_us(df["start_utc"], df["cancelled_utc"])
    df["notice_us"] = notice.astype("Int64")
    df["fee_kind"], df["fee_us"] = fees(df["status"], df["cancelled_by"], notice, policy,
                                        days=df["day"].to_numpy() if "day" in df else None)
    return df


def sort_by_customer_day(table):
    """An Arrow table with one row per customer_id and day, sorted by both (customer in code
    point order).

    The customers are dictionary-encoded (one hash pass, no Python per row), the few distinct
    ones ranked, and the rows ordered by one integer key (rank, day). The sorted customer
    column is decoded from the ranked dictionary and the other columns are gathered by numpy:
    both cheaper than gathering the table's text row by row."""
    import pyarrow as pa

    if table.num_rows == 0:
        return table
    encoded = table.column("customer_id").combine_chunks().dictionary_encode()
    names = encoded.dictionary.to_numpy(zero_copy_only=False)
    by_name = np.argsort(names, kind="stable")
    rank = np.empty(len(names), dtype="int64")
    rank[by_name] = np.arange(len(names))
    codes = rank[encoded.indices.to_numpy()]
    days = table.column("day").combine_chunks().cast(pa.date32()).to_numpy(zero_copy_only=False)
    order = np.argsort((codes << 32) + days.astype("datetime64[D]").view("int64"))  # unique: one row per customer-day
    columns = {"customer_id": pa.DictionaryArray.from_arrays(
        pa.array(codes[order], pa.int32()), encoded.dictionary.take(pa.array(by_name))).dictionary_decode()}
    for name in table.column_names[1:]:
        col = table.column(name).combine_chunks()
        if pa.types.is_integer(col.type) and col.null_count == 0:
            columns[name] = pa.array(col.to_numpy()[order], col.type)
        else:
            columns[name] = col.take(pa.array(order))
    return pa.table(columns)


_DAY_COLUMNS = ["adhoc_raw_us", "session_logged_us", "general_us", "top_up_us", "fee_us"]


def daily_billable(con, policy: Policy, as_of: date, customer: str | None = None,
                   appts: pd.DataFrame | None = None, excluded=()) -> pd.DataFrame:
    """One row per customer and business day ≤ T with any minutes (R4–R6, daily total).

    Entries are classified and summed per customer-day in DuckDB, together with the
    `at_least_booked` top-ups (R4: a completed session bills at least its booked length;
    the shortfall is billed on the business day of ``scheduled_start``) and the fees of
    ``appts`` (R6); the rounding (R5) and the totals are integer numpy arithmetic. Each day
    uses the rounding and session billing in force on it (R11); ``excluded`` entry ids (R10)
    count toward nothing.

    Columns: customer_id, day (datetime64), adhoc_raw_us, session_logged_us, general_us,
    top_up_us, fee_us, adhoc_billed_us, session_us, billable_us (int64 µs).
    """
    if appts is None:
        appts = appointments_as_of(con, policy, as_of, customer)
    fees = appts.loc[appts["fee_us"] > 0, ["customer_id", "day", "fee_us"]]
    where = "AND e.customer_id = $customer" if customer is not None else ""
    ap_where = "AND ap.customer_id = $customer" if customer is not None else ""
    e_day = business_day_expr("e", "started_at")
    ap_day = business_day_expr("ap", "scheduled_start")
    booked_ever = policy.session_billing == "at_least_booked" or any(
        dict(c).get("session_billing") == "at_least_booked" for _, c in policy.changes)
    top_ups = "" if booked_ever else "AND false"
    excl = excluded_sql(excluded)
    name = f"fee_days_{id(fees)}"
    con.register(name, fees)
    # Entries are grouped once, by kind codes (0 ad hoc, 1 session, 2 general, 3 held); the few
    # days with only a top-up or a fee join them with one FULL JOIN. No ORDER BY: sorting on the
    # customer text costs DuckDB more than sorting integer codes below.
    try:
        table = settled(con).sql(f"""
            WITH logged AS ({_logged_sql(excluded)}),
            ent AS (SELECT customer_id, day,
                           CAST(coalesce(sum(minutes_us) FILTER (k = 0), 0) AS BIGINT) AS adhoc_raw_us,
                           CAST(coalesce(sum(minutes_us) FILTER (k = 1), 0) AS BIGINT) AS session_logged_us,
                           CAST(coalesce(sum(minutes_us) FILTER (k = 2), 0) AS BIGINT) AS general_us
                    FROM (SELECT e.customer_id, e.day, e.minutes_us, {entry_kind_sql(3, 2, 1, 0)} AS k
                          FROM (SELECT customer_id, appointment_id, tier, minutes_us, {e_day} AS day
                                FROM time_entries e WHERE {e_day} <= $asof {where} {excl}) e
                          LEFT JOIN (SELECT ap.appointment_id, ap.customer_id, ap.status FROM appointments ap
                                     WHERE {ap_day} <= $asof) a ON a.appointment_id = e.appointment_id)
                    WHERE k < 3 GROUP BY customer_id, day),
            tops AS (SELECT ap.customer_id, {ap_day} AS day,
                            greatest(ap.scheduled_us - coalesce(l.one_on_one_logged_us, 0), 0) AS top_up_us,
                            0 AS fee_us
                     FROM appointments ap LEFT JOIN logged l
                          ON l.appointment_id = ap.appointment_id AND l.customer_id = ap.customer_id
                     WHERE ap.status = 'completed' AND {ap_day} <= $asof {ap_where} {top_ups}
                       AND ap.scheduled_us > coalesce(l.one_on_one_logged_us, 0)),
            small AS (SELECT customer_id, day, CAST(sum(top_up_us) AS BIGINT) AS top_up_us,
                             CAST(sum(fee_us) AS BIGINT) AS fee_us
                      FROM (SELECT * FROM tops UNION ALL
                            SELECT customer_id, CAST(day AS DATE), 0, fee_us FROM {name})
                      GROUP BY customer_id, day)
            SELECT coalesce(ent.customer_id, small.customer_id) AS customer_id,
                   coalesce(ent.day, small.day) AS day,
                   coalesce(ent.adhoc_raw_us, 0) AS adhoc_raw_us,
                   coalesce(ent.session_logged_us, 0) AS session_logged_us,
                   coalesce(ent.general_us, 0) AS general_us,
                   coalesce(small.top_up_us, 0) AS top_up_us,
                   coalesce(small.fee_us, 0) AS fee_us
            FROM ent FULL JOIN small ON ent.customer_id = small.customer_id AND ent.day = small.day""",
                        params=_params(policy, as_of, customer)).to_arrow_table()
    finally:
        con.unregister(name)
    df = sort_by_customer_day(table).to_pandas(date_as_object=False)  # Arrow strings stay Arrow
    for c in _DAY_COLUMNS:
        df[c] = df[c].astype("int64")
    df["day"] = df["day"].astype("datetime64[us]")
    day = df["day"].to_numpy()
    if policy.varies("session_billing"):  # R11: a top-up only where its day bills at least the booking
        df["top_up_us"] = np.where(policy.by_day("session_billing", day) == "at_least_booked", df["top_up_us"], 0)
    increment = policy.by_day("increment_us", day) if policy.varies_us("increment_us") else policy.increment_us
    df["adhoc_billed_us"] = round_daily(df["adhoc_raw_us"], increment)
    df["session_us"] = df["session_logged_us"] + df["top_up_us"]
    df["billable_us"] = df["session_us"] + df["adhoc_billed_us"] + df["fee_us"]
    return df
