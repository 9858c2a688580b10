"""Whether a canonical row is good (FORMATS.md), as SQL over its text: each value is parsed
once, then checked and typed from the parts; one regular expression per value, no loop in
Python per row."""
from __future__ import annotations

from dataclasses import dataclass


from billing.addresses import sql_bad_address_list
from billing.load.specs import SPECS


MAX_MINUTES_US = 1440 * 60_000_000


# --------------------------------------------------------------------------- SQL pieces
# Each value is parsed once (a CTE of parsed parts), then checked and typed from the parts:
# one regular expression per value, no per-row Python.
_TS_RE = (r"^(\d{4}-\d{2}-\d{2})[Tt ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,9}))?)?"
          r"([Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?$")
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_NUM_RE = r"^(\d*)\.?(\d*)$"          # plain decimal: digits, an optional point, digits
_SIGNED_NUM_RE = r"^[+-]?(\d+\.?\d*|\.\d+)$"
TS_FORMAT = "YYYY-MM-DDTHH:MM[:SS][offset]"


def sql_ts_ok(v: str) -> str:
    """The text has the form of a timestamp (a DFA match: no capture groups, fast)."""
    return f"regexp_full_match({v}, '{_TS_RE}')"


def sql_offset_at(v: str) -> str:
    """Where the offset starts (0: none). The time part has no + - Z of its own, so the
    first of them after the date (position 11 on) starts the offset."""
    tail = f"substr({v}, 12)"
    # least() skips NULLs: NULL only when none of the three is there.
    return (f"coalesce(least(nullif(instr({tail}, '+'), 0), nullif(instr({tail}, '-'), 0), "
            f"nullif(instr(upper({tail}), 'Z'), 0)) + 10, 0)")


def sql_wall(v: str, at: str) -> str:
    """Wall time as written (no offset applied); valid only where sql_ts_ok holds, NULL for
    a day or time that does not exist (2026-02-30)."""
    text = f"CASE WHEN {at} > 0 THEN left({v}, {at}) ELSE {v} END"
    return f"try_cast(replace(replace({text}, 'T', ' '), 't', ' ') AS TIMESTAMP)"


def sql_offset(v: str, at: str) -> str:
    """UTC offset in seconds; NULL when written without one (R1)."""
    o = f"substr({v}, {at} + 1)"
    return (f"CASE WHEN {at} = 0 THEN NULL WHEN upper({o}) = 'Z' THEN 0 ELSE "
            f"(CASE WHEN left({o}, 1) = '-' THEN -1 ELSE 1 END) * "
            f"(CAST(substr({o}, 2, 2) AS INTEGER) * 3600 + "
            f"coalesce(CAST(nullif(right(replace({o}, ':', ''), -3), '') AS INTEGER), 0) * 60) END")


def sql_is_date(v: str) -> str:
    return f"({v} IS NOT NULL AND regexp_full_match({v}, '{_DATE_RE}') AND try_cast({v} AS DATE) IS NOT NULL)"


_PLAIN_RE = r"^(\d+\.?\d*|\.\d+)$"
_SIX_DECIMALS_RE = r"^\d*(\.\d{0,6}0*)?$"


def sql_num_parts(v: str) -> str:
    """Integer digits and decimals of a plain decimal (every part '' when it is not one)."""
    return f"regexp_extract({v}, '{_NUM_RE}', ['i', 'f'])"


def sql_num_ok(v: str, p: str | None = None) -> str:
    return f"regexp_full_match({v}, '{_PLAIN_RE}')"


def _frac(p: str) -> str:
    return f"rtrim({p}.f, '0')"


def sql_minutes_us(v: str) -> str:
    """Minutes (plain decimal, ≤ 6 decimals, checked before) as exact integer microseconds:
    DECIMAL arithmetic, no float (0.000001 min = 60 µs)."""
    return f"CAST(try_cast({v} AS DECIMAL(18, 6)) * 60000000 AS BIGINT)"


def sql_hours_minutes(p: str) -> str:
    """hours × 60 as a whole number of minutes (valid only when the checks passed)."""
    f = _frac(p)
    return (f"(try_cast(coalesce(nullif({p}.i, ''), '0') AS BIGINT) * 60 + "
            f"CASE WHEN {f} = '' THEN 0 ELSE CAST(CAST({f} AS HUGEINT) * 60 // "
            f"CAST(pow(10, length({f})) AS HUGEINT) AS BIGINT) END)")


def sql_bool(v: str) -> str:
    return f"coalesce(lower({v}) IN ('true', 'yes', '1'), false)"


def sql_is_bool(v: str) -> str:
    return f"({v} IS NULL OR lower({v}) IN ('true', 'yes', '1', 'false', 'no', '0'))"


# --------------------------------------------------------------------------- per-file plans
@dataclass
class Plan:
    parsed: dict[str, str]                  # name → SQL over trimmed text columns
    walls: dict[str, str]                   # name → wall time SQL over the parsed columns
    checks: list[tuple[str, str, str]]      # (column, SQL condition that makes the row bad, SQL reason)
    typed: dict[str, str]                   # target column → SQL over trimmed and parsed columns


def _minutes_checks(v: str, us: str, what: str) -> list[tuple[str, str, str]]:
    return [
        (what, f"NOT {sql_num_ok(v)}", f"'{what} must be a plain decimal number, not ' || {v}"),
        (what, f"NOT regexp_full_match({v}, '{_SIX_DECIMALS_RE}')", f"'{what} has more than 6 decimals: ' || {v}"),
        (what, f"{us} IS NULL OR {us} > {MAX_MINUTES_US}", f"'{what} must be at most 1440, not ' || {v}"),
        (what, f"{us} <= 0", f"'{what} must be greater than 0, not ' || {v}"),
    ]


def _ts_checks(v: str, ok: str, wall: str, what: str) -> list[tuple[str, str, str]]:
    return [(what, f"NOT {ok} OR {wall} IS NULL", f"'{what} is not a timestamp ({TS_FORMAT}): ' || {v}")]


def plan_for(table: str, col: dict[str, str]) -> Plan:
    def opt(name):
        return col.get(name, "NULL")

    checks: list[tuple[str, str, str]] = [(c, f"{col[c]} IS NULL", f"'{c} is required'")
                                          for c in SPECS[table].required]
    if table == "time_entries":
        v, m = col["started_at"], col["minutes"]
        parsed = {"ok_start": sql_ts_ok(v), "at_start": sql_offset_at(v), "us_min": sql_minutes_us(m)}
        walls = {"w_start": f"CASE WHEN ok_start THEN {sql_wall(v, 'at_start')} END"}
        checks += _ts_checks(v, "ok_start", "w_start", "started_at")
        checks += _minutes_checks(m, "us_min", "minutes")
        checks.append(("tier", f"{col['tier']} NOT IN ('one_on_one', 'general')",
                       f"'tier must be one_on_one or general, not ' || {col['tier']}"))
        if "customer_requested" in col:
            b = col["customer_requested"]
            checks.append(("customer_requested", f"NOT {sql_is_bool(b)}",
                           f"'customer_requested must be true/false, yes/no or 1/0, not ' || {b}"))
        typed = {
            "entry_id": col["entry_id"], "customer_id": col["customer_id"],
            "customer_name": opt("customer_name"), "staff": col["staff"],
            "started_at": "w_start", "started_at_offset": sql_offset(v, "at_start"),
            "minutes_us": "us_min", "tier": col["tier"],
            "activity": opt("activity"), "appointment_id": opt("appointment_id"),
            "customer_requested": sql_bool(opt("customer_requested")), "notes": opt("notes"),
        }
    elif table == "appointments":
        v, m, s = col["scheduled_start"], col["scheduled_minutes"], col["status"]
        ca, cb = opt("cancelled_at"), opt("cancelled_by")
        parsed = {"ok_start": sql_ts_ok(v), "at_start": sql_offset_at(v), "us_min": sql_minutes_us(m),
                  "ok_canc": sql_ts_ok(ca), "at_canc": sql_offset_at(ca)}
        walls = {"w_start": f"CASE WHEN ok_start THEN {sql_wall(v, 'at_start')} END",
                   "w_canc": f"CASE WHEN ok_canc THEN {sql_wall(ca, 'at_canc')} END"}
        checks += _ts_checks(v, "ok_start", "w_start", "scheduled_start")
        checks += _minutes_checks(m, "us_min", "scheduled_minutes")
        checks.append(("status", f"{s} NOT IN ('scheduled', 'completed', 'cancelled', 'no_show')",
                       f"'status must be scheduled, completed, cancelled or no_show, not ' || {s}"))
        # Only a cancelled appointment needs cancelled_at / cancelled_by (FORMATS.md).
        checks.append(("cancelled_at", f"{s} = 'cancelled' AND {ca} IS NULL",
                       "'cancelled_at is required when status is cancelled'"))
        checks += [(c, f"{s} = 'cancelled' AND ({cond})", r)
                   for c, cond, r in _ts_checks(ca, "ok_canc", "w_canc", "cancelled_at")]
        checks.append(("cancelled_by", f"{s} = 'cancelled' AND {cb} IS NOT NULL AND {cb} NOT IN ('customer', 'staff')",
                       f"'cancelled_by must be customer or staff, not ' || {cb}"))
        typed = {
            "appointment_id": col["appointment_id"], "customer_id": col["customer_id"],
            "staff": opt("staff"), "scheduled_start": "w_start",
            "scheduled_start_offset": sql_offset(v, "at_start"),
            "scheduled_us": "us_min", "status": s,
            # On other statuses both cancellation columns are ignored (FORMATS.md).
            "cancelled_at": f"CASE WHEN {s} = 'cancelled' THEN w_canc END",
            "cancelled_at_offset": f"CASE WHEN {s} = 'cancelled' THEN {sql_offset(ca, 'at_canc')} END",
            "cancelled_by": f"CASE WHEN {s} = 'cancelled' THEN coalesce({cb}, 'customer') END",
        }
    elif table == "purchases":
        v, h = col["purchased_at"], col["hours"]
        parsed = {"ok_at": sql_ts_ok(v), "at_at": sql_offset_at(v), "p_h": sql_num_parts(h), "is_date": sql_is_date(v)}
        walls = {"w_at": f"CASE WHEN ok_at THEN {sql_wall(v, 'at_at')} END"}
        f = _frac("p_h")
        checks += [
            ("purchased_at", "w_at IS NULL AND NOT is_date", f"'purchased_at is not a date or timestamp: ' || {v}"),
            ("hours", f"NOT {sql_num_ok(h)}", f"'hours must be a plain decimal number, not ' || {h}"),
            ("hours", f"length({f}) > 18 OR length(p_h.i) > 9", f"'hours is out of range: ' || {h}"),
            ("hours", f"{f} <> '' AND (CAST({f} AS HUGEINT) * 60) % CAST(pow(10, length({f})) AS HUGEINT) <> 0",
             f"'hours × 60 must be a whole number of minutes, not ' || {h}"),
            ("hours", f"{sql_hours_minutes('p_h')} <= 0", f"'hours must be greater than 0, not ' || {h}"),
        ]
        if "amount" in col:
            a = col["amount"]
            checks.append(("amount", f"{a} IS NOT NULL AND NOT regexp_full_match({a}, '{_SIGNED_NUM_RE}')",
                           f"'amount must be a plain decimal number, not ' || {a}"))
        typed = {
            "purchase_id": col["purchase_id"], "customer_id": col["customer_id"],
            "purchased_at": f"CASE WHEN is_date THEN CAST(CAST({v} AS DATE) AS TIMESTAMP) ELSE w_at END",
            "purchased_at_offset": f"CASE WHEN is_date THEN NULL ELSE {sql_offset(v, 'at_at')} END",
            "date_only": "is_date",
            "minutes_us": f"{sql_hours_minutes('p_h')} * 60000000",
            "amount": opt("amount"),
        }
    else:
        parsed, walls = {}, {}
        if "contact_email" in col:  # kept in ``extra`` (specs.in_extra); the alerts write to it
            e = col["contact_email"]
            checks.append(("contact_email", f"{e} IS NOT NULL AND {sql_bad_address_list(e)}",
                           f"'contact_email must be e-mail addresses separated by ; or , (like "
                           f"ana@example.com), not ' || {e}"))
        typed = {"customer_id": col["customer_id"], "customer_name": opt("customer_name")}
    return Plan(parsed=parsed, walls=walls, checks=checks, typed=typed)
