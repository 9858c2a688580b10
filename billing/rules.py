"""R1–R6: from what the export said to billable minutes per customer and business day.

The stored rows are classified and summed in DuckDB (vectorised); the per-day policy
arithmetic (rounding, session top-ups, fees) is done with pandas on integer
microseconds. Nothing here is stored: the same database gives another policy's figures.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from billing.load import business_day_sql
from billing.policy import Policy

EPOCH = date(1970, 1, 1)

# --------------------------------------------------------------------------- R1 time
def business_day_expr(alias: str, column: str) -> str:
    return business_day_sql(f"{alias}.{column}", f"{alias}.{column}_offset")


def to_utc(wall: pd.Series, offset_s: pd.Series, tz: str) -> pd.Series:
    """R1: the instant (naive UTC, microseconds) of stored timestamps.

    With an offset, the offset decides. Without one, the wall time is local in ``tz``; a
    wall time that a daylight-saving change skips or repeats means its first occurrence
    (fold 0), exactly as zoneinfo reads it.
    """
    wall = pd.to_datetime(wall).astype("datetime64[us]")
    offset = pd.to_numeric(offset_s).astype("Int64")
    out = pd.Series(pd.NaT, index=wall.index, dtype="datetime64[us]")
    has_off = offset.notna() & wall.notna()
    if has_off.any():
        out[has_off] = wall[has_off] - pd.to_timedelta(offset[has_off].astype("int64"), unit="s")
    local = ~has_off & wall.notna()
    if local.any():
        loc = wall[local].dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        conv = loc.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
        odd = conv.isna()
        if odd.any():  # skipped or repeated wall times: rare, read them as zoneinfo does (fold 0)
            zone = ZoneInfo(tz)
            conv[odd] = [
                pd.Timestamp(w.to_pydatetime().replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
                             .replace(tzinfo=None))
                for w in wall[local][odd]]
        out[local] = conv
    return out


def day_ordinal(days) -> np.ndarray:
    """Dates as day numbers (int64), for vectorised arithmetic."""
    arr = pd.to_datetime(pd.Series(days)).to_numpy(dtype="datetime64[D]")
    return arr.astype("int64")


def ordinal_to_date(ordinals) -> pd.Series:
    return pd.Series(np.asarray(ordinals, dtype="int64").astype("datetime64[D]")).dt.date


# --------------------------------------------------------------------------- classification
ENTRY_KIND_SQL = """
    CASE WHEN e.appointment_id IS NOT NULL AND (a.appointment_id IS NULL OR a.customer_id <> e.customer_id
                                                OR a.status <> 'completed') THEN 'held'
         WHEN e.tier = 'general' THEN 'general'
         WHEN e.appointment_id IS NOT NULL THEN 'session'
         ELSE 'adhoc' END"""

HOLD_REASON_SQL = """
    CASE WHEN e.appointment_id IS NULL THEN NULL
         WHEN a.appointment_id IS NULL THEN 'appointment ' || e.appointment_id || ' is not in the data (as of this date)'
         WHEN a.customer_id <> e.customer_id THEN 'appointment ' || e.appointment_id || ' belongs to customer ' || a.customer_id
         WHEN a.status <> 'completed' THEN 'appointment ' || e.appointment_id || ' has status ' || a.status
    END"""


def classified_entries_sql(where: str = "") -> str:
    """Every entry dated ≤ T (param $asof) with its business day and kind (R1, R2, R4).

    kind: 'adhoc' (R5), 'session' (R4), 'general' (R2, never billable) or 'held' (R4:
    counts toward nothing until its appointment is completed). Parameters: $tz, $asof.
    """
    e_day = business_day_expr("e", "started_at").replace("?", "$tz")
    a_day = business_day_expr("ap", "scheduled_start").replace("?", "$tz")
    return f"""
        WITH a AS (SELECT ap.appointment_id, ap.customer_id, ap.status FROM appointments ap
                   WHERE {a_day} <= $asof),
        e AS (SELECT *, {e_day} AS day FROM time_entries e)
        SELECT e.*, {ENTRY_KIND_SQL} AS kind, {HOLD_REASON_SQL} AS hold_reason
        FROM e LEFT JOIN a ON a.appointment_id = e.appointment_id
        WHERE e.day <= $asof {where}"""


def _params(policy: Policy, as_of: date, customer: str | None = None) -> dict:
    p = {"tz": policy.timezone, "asof": as_of}
    if customer is not None:
        p["customer"] = customer
    return p


def entry_day_totals(con, policy: Policy, as_of: date, customer: str | None = None) -> pd.DataFrame:
    """Per customer and business day: raw ad-hoc, session and general minutes (µs)."""
    where = "AND e.customer_id = $customer" if customer is not None else ""
    sql = f"""
        SELECT customer_id, day,
               CAST(coalesce(sum(minutes_us) FILTER (kind = 'adhoc'), 0) AS BIGINT) AS adhoc_raw_us,
               CAST(coalesce(sum(minutes_us) FILTER (kind = 'session'), 0) AS BIGINT) AS session_logged_us,
               CAST(coalesce(sum(minutes_us) FILTER (kind = 'general'), 0) AS BIGINT) AS general_us
        FROM ({classified_entries_sql(where)})
        WHERE kind <> 'held'
        GROUP BY customer_id, day"""
    df = con.execute(sql, _params(policy, as_of, customer)).df()
    return df


def appointments_as_of(con, policy: Policy, as_of: date, customer: str | None = None) -> pd.DataFrame:
    """Appointments dated ≤ T with their business day and exact instants (R1, R6)."""
    day = business_day_expr("ap", "scheduled_start").replace("?", "$tz")
    where = "AND ap.customer_id = $customer" if customer is not None else ""
    e_day = business_day_expr("e", "started_at").replace("?", "$tz")
    df = con.execute(f"""
        WITH logged AS (
            SELECT appointment_id, customer_id,
                   CAST(coalesce(sum(minutes_us) FILTER (tier = 'one_on_one'), 0) AS BIGINT) AS one_on_one_logged_us,
                   count(*) AS entries_logged
            FROM time_entries e WHERE appointment_id IS NOT NULL AND {e_day} <= $asof
            GROUP BY appointment_id, customer_id)
        SELECT ap.*, {day} AS day, coalesce(l.one_on_one_logged_us, 0) AS one_on_one_logged_us,
               coalesce(l.entries_logged, 0) AS entries_logged
        FROM appointments ap LEFT JOIN logged l
             ON l.appointment_id = ap.appointment_id AND l.customer_id = ap.customer_id
        WHERE {day} <= $asof {where}""", _params(policy, as_of, customer)).df()
    # Instants are needed only for the notice of a cancellation (R6): convert just those rows.
    cancelled = df["status"] == "cancelled"
    df["start_utc"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
    df["cancelled_utc"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
    if cancelled.any():
        sub = df[cancelled]
        df.loc[cancelled, "start_utc"] = to_utc(sub["scheduled_start"], sub["scheduled_start_offset"], policy.timezone)
        df.loc[cancelled, "cancelled_utc"] = to_utc(sub["cancelled_at"], sub["cancelled_at_offset"], policy.timezone)
    return apply_fees(df, policy)


# --------------------------------------------------------------------------- R5, R6, R4
def round_daily(raw_us, increment_us: int):
    """R5: a day's ad-hoc sum rounded UP to the next multiple of the increment (0 stays 0)."""
    raw = np.asarray(raw_us, dtype="int64")
    return -(-raw // increment_us) * increment_us


def notice_us(start_utc: pd.Series, cancelled_utc: pd.Series) -> pd.Series:
    """R6: real elapsed time between two instants, in µs (negative when after the start)."""
    delta = start_utc.astype("datetime64[us]") - cancelled_utc.astype("datetime64[us]")
    return delta.astype("int64").where(cancelled_utc.notna())


def apply_fees(appts: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """R6: late cancellations by the customer and no-shows cost a fee, dated on the start's day."""
    df = appts.copy()
    notice = notice_us(df["start_utc"], df["cancelled_utc"])
    df["notice_us"] = notice.astype("Int64")
    by_customer = df["cancelled_by"].fillna("customer") == "customer"
    late = (df["status"] == "cancelled") & by_customer & (notice < policy.notice_us)
    no_show = df["status"] == "no_show"
    df["fee_kind"] = np.where(late, "late cancellation", np.where(no_show, "no-show", None))
    df["fee_us"] = np.where(late, policy.late_fee_us, np.where(no_show, policy.no_show_fee_us, 0)).astype("int64")
    return df


def session_top_ups(appts: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """R4 `at_least_booked`: a completed session bills at least its booked length.

    The shortfall (booked − 1-on-1 minutes logged in it, dated ≤ T) is billed as session
    minutes on the business day of ``scheduled_start``. With `logged`, nothing is added.
    """
    cols = ["customer_id", "day", "appointment_id", "top_up_us"]
    if policy.session_billing != "at_least_booked" or appts.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "top_up_us" else "object") for c in cols})
    done = appts[appts["status"] == "completed"]
    short = (done["scheduled_us"] - done["one_on_one_logged_us"]).clip(lower=0)
    out = done.assign(top_up_us=short.astype("int64"))
    return out.loc[out["top_up_us"] > 0, cols]


def daily_billable(con, policy: Policy, as_of: date, customer: str | None = None,
                   appts: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per customer and business day ≤ T with any minutes (R4–R6, daily total)."""
    days = entry_day_totals(con, policy, as_of, customer)
    if appts is None:
        appts = appointments_as_of(con, policy, as_of, customer)
    fees = appts.loc[appts["fee_us"] > 0].groupby(["customer_id", "day"], as_index=False)["fee_us"].sum()
    tops = session_top_ups(appts, policy).groupby(["customer_id", "day"], as_index=False)["top_up_us"].sum()
    days, fees, tops = (f.assign(day=pd.to_datetime(f["day"]).astype("datetime64[us]"),
                                 customer_id=f["customer_id"].astype(str)) for f in (days, fees, tops))
    df = days.merge(fees, on=["customer_id", "day"], how="outer").merge(tops, on=["customer_id", "day"], how="outer")
    for c in ["adhoc_raw_us", "session_logged_us", "general_us", "fee_us", "top_up_us"]:
        df[c] = df[c].fillna(0).astype("int64") if c in df else 0
    df["adhoc_billed_us"] = round_daily(df["adhoc_raw_us"], policy.increment_us)
    df["session_us"] = df["session_logged_us"] + df["top_up_us"]
    df["billable_us"] = df["session_us"] + df["adhoc_billed_us"] + df["fee_us"]
    df["day"] = pd.to_datetime(df["day"]).dt.date
    return df.sort_values(["customer_id", "day"], kind="stable").reset_index(drop=True)
