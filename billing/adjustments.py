"""R10: adjustments, a manager's corrections recorded beside the imported data (never a change to it).

This module records them and says which are in force; the engine (billing/reports.py,
rules.py, ledger.py) applies them. One row per adjustment in the ``adjustments`` table
(its schema is in billing/store.py), numbered 1, 2, 3… (``adjustment_id``); a credit is the block
``adj-<adjustment_id>``. The kinds and their ``target``:

- ``extend``  a block (purchase_id, or ``adj-N`` of a credit) to a later last day ``to_day``;
- ``waive``   an appointment's fee (appointment_id): it bills 0 (R6);
- ``exclude`` a time entry (entry_id): it counts toward nothing and stays listed;
- ``credit``  a customer (customer_id) ``minutes_us``: a block purchased on the adjustment's date;
- ``charge``  a customer (customer_id) ``minutes_us``: billable minutes on the adjustment's date;
- ``void``    an adjustment (its id as text): it stops applying from the void's date; both stay.

Every adjustment has a date ``on_day`` (default: today in the policy's zone): reports as of T
apply those dated on or before T, unless a void dated on or before T voided them
(``in_force``). ``record`` and ``void`` check everything first and then write one row in one
transaction, or nothing; each error is one sentence (``AdjustmentError``) naming what is wrong.

Choices where the rules leave one open (docs/rules.md, R10):

- a ``waive`` is refused unless the appointment bills a fee as the data and policy stand
  (a late cancellation by the customer or a no-show; not a completed, scheduled or staff-
  cancelled one, nor one cancelled in time): there is nothing to waive, and a completed
  session's time is removed by excluding its entries instead;
- a second ``waive`` of one appointment or ``exclude`` of one entry while the first is not
  voided is refused (void the first to change its date);
- an ``extend`` must move the block's last day later than it is as of the extend's own date:
  R7's ``expires_on``, or the latest ``to_day`` of the extends of that block in force then;
- a ``void`` of a void, or of an adjustment already voided (whatever the dates), is refused;
- minutes are a plain decimal number > 0 ("12.5"), kept exact in integer microseconds (no
  float), at most ``MAX_MINUTES``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, localcontext
from pathlib import Path

import pandas as pd
import pyarrow as pa

from billing.calendar import business_day_sql, today_in
from billing.errors import HourbankError
from billing.policy import US_PER_MINUTE, Policy

KINDS = ("extend", "waive", "exclude", "credit", "charge", "void")
APPLIED = ("extend", "waive", "exclude", "credit", "charge")   # the kinds the engine applies
CREDIT_BLOCK_PREFIX = "adj-"
MAX_MINUTES = 60_000_000   # one million hours: anything more is a typo, and sums stay far inside BIGINT

IN_FORCE_COLUMNS = ["adjustment_id", "kind", "target", "customer_id", "on_day", "to_day", "minutes_us", "reason"]
HISTORY_COLUMNS = IN_FORCE_COLUMNS + ["recorded_by", "recorded_at", "voided_by", "voided_on"]

# What the target of each kind is, in words (errors, the page's labels).
TARGET_WORDS = {"extend": "block", "waive": "appointment", "exclude": "entry", "credit": "customer",
                "charge": "customer", "void": "adjustment"}
KIND_TEXT = {
    "extend": "Extend a block's last day",
    "waive": "Waive an appointment's fee",
    "exclude": "Exclude a time entry",
    "credit": "Credit minutes to a customer",
    "charge": "Charge minutes to a customer",
    "void": "Void an adjustment",
}


class AdjustmentError(HourbankError):
    """An adjustment that cannot be recorded: one sentence saying what and why; nothing written."""


# --------------------------------------------------------------------------- plain values
# ASCII digits only (``\d`` would take "١٢" as 12) and no sign: FORMATS.md's plain number.
_PLAIN_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")


def minutes_to_us(value) -> int:
    """Minutes as given (text "12.5", an int, a Decimal, a float) → exact integer µs (Decimal,
    never float arithmetic: "12.5" is 750,000,000 µs). Raises AdjustmentError for anything
    that is not a plain number ("abc", "1e3", "NaN", a bool), for 0 or less, for more than
    ``MAX_MINUTES``, and for a fraction of a microsecond. Text is FORMATS.md's plain number:
    ASCII digits with an optional decimal point, no sign ("+5" and "١٢" are refused)."""
    if value is None or isinstance(value, bool):
        raise AdjustmentError(f"minutes {value!r} is not a number: give the minutes as a number > 0, e.g. 90 or 12.5.")
    if isinstance(value, (int, float, Decimal)):
        # float: its shortest text (12.5 → "12.5"), so what was written is what counts
        minutes = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        text = str(value)
        if not minutes.is_finite():
            raise AdjustmentError(f"minutes {text!r} is not a number: give the minutes as a number > 0, e.g. 90 or 12.5.")
    else:
        text = str(value).strip()
        if text[:1] == "-" and _PLAIN_NUMBER.match(text[1:]):
            raise AdjustmentError(f"minutes {text}: must be more than 0 (a credit gives minutes, a charge bills "
                                  f"them).")
        if text[:1] == "+" and _PLAIN_NUMBER.match(text[1:]):
            raise AdjustmentError(f"minutes {text!r} has a sign: give the minutes as a plain number > 0 without "
                                  f"one, e.g. 90 or 12.5.")
        if not _PLAIN_NUMBER.match(text):
            raise AdjustmentError(f"minutes {text!r} is not a number: give the minutes as a plain number > 0, "
                                  f"e.g. 90 or 12.5.")
        minutes = Decimal(text)
    if minutes <= 0:
        raise AdjustmentError(f"minutes {text}: must be more than 0 (a credit gives minutes, a charge bills them).")
    if minutes > MAX_MINUTES:
        raise AdjustmentError(f"minutes {text}: more than {MAX_MINUTES:,} minutes (a million hours) is surely a typo.")
    with localcontext() as exact:   # enough digits for the product to be exact, however long the text
        exact.prec = len(minutes.as_tuple().digits) + 10
        us = minutes * US_PER_MINUTE
    if us != us.to_integral_value():
        raise AdjustmentError(f"minutes {text}: finer than a microsecond; give at most 7 decimals.")
    return int(us)


def minutes_text(us) -> str:
    """Exact minutes of integer µs as plain decimal text, at least 2 decimals ("12.50",
    "90.00", "0.0000001"): what was recorded, for CSV and JSON; '' when missing."""
    if us is None or pd.isna(us):
        return ""
    exact = (Decimal(int(us)) / US_PER_MINUTE).normalize()
    text = format(exact, "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _day(value, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise AdjustmentError(f"{what} {value!r} is not a date (YYYY-MM-DD).")


def _text(value, missing: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise AdjustmentError(missing)
    return text


NO_REASON = "a reason is required: say why the adjustment is made (it is kept with it and shown on statements)."
NO_RECORDER = "who records the adjustment is required (--by NAME, or the signed-in manager on the page)."


def adjustment_number(value) -> int:
    """An adjustment's number as given ("3", "adj-3", 3) → 3; AdjustmentError otherwise."""
    text = str(value).strip()
    if text.lower().startswith(CREDIT_BLOCK_PREFIX):
        text = text[len(CREDIT_BLOCK_PREFIX):]
    if not text.isdigit() or int(text) == 0:
        raise AdjustmentError(f"{str(value)!r} is not an adjustment number (1, 2, 3… as "
                              f"`python -m billing adjustments` lists them).")
    return int(text)


# --------------------------------------------------------------------------- reading
def has_table(con) -> bool:
    """Whether the database has the adjustments table (one made before it existed has not,
    and a read-only open cannot create it). A catalogue query, so no transaction is spoilt."""
    return con.execute("""SELECT count(*) FROM duckdb_tables() WHERE table_name = 'adjustments'
                          AND database_name = current_database() AND schema_name = current_schema()""").fetchone()[0] > 0


_DTYPES = {"adjustment_id": "int64", "minutes_us": "Int64", "voided_by": "Int64", "recorded_at": "datetime64[us]"}
_DATES = ("on_day", "to_day", "voided_on")
_INTEGERS = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype()}


def _frame(con, sql: str | None, params: dict, columns: list[str]) -> pd.DataFrame:
    """The rows of ``sql`` (None: no rows) in ``columns`` (of HISTORY_COLUMNS) with the documented
    dtypes: ids int64, minutes and void numbers Int64 (NA where none), days datetime.date
    objects (None where none), recorded_at datetime64[us], text str. Through Arrow: 10,000
    rows take a few milliseconds (building the columns from Python tuples took three times as long)."""
    if sql is None:
        return pd.DataFrame({c: pd.Series([], dtype="object" if c in _DATES else _DTYPES.get(c, "str"))
                             for c in columns})
    from billing.rules import settled

    table = settled(con).sql(sql, params=params).to_arrow_table()
    # Integers stay integers (never float, even with a NULL); a NULL day is None.
    frame = table.to_pandas(date_as_object=True, types_mapper=_INTEGERS.get)
    for name in columns:
        if name not in _DATES:
            frame[name] = frame[name].astype(_DTYPES.get(name, "str"))
    return frame[columns]


_VOIDS = "SELECT CAST(target AS INTEGER) AS voided, adjustment_id AS void_id, on_day AS void_on " \
         "FROM adjustments WHERE kind = 'void'"


def in_force(con, as_of: date, customer: str | None = None) -> pd.DataFrame:
    """R10: the adjustments reports as of T apply: kind extend, waive, exclude, credit or
    charge, dated on or before T, and not voided by a void dated on or before T.

    ``con``: an open connection; ``customer``: only that customer's (None: everyone's).
    Columns: adjustment_id (int64), kind, target, customer_id, reason (str), on_day (date),
    to_day (date, None unless extend), minutes_us (Int64, NA unless credit/charge); sorted
    by on_day, adjustment_id. Several extends of one block are all returned (the latest
    to_day applies). Empty, with these columns, when the database has no adjustments table.
    """
    if not has_table(con):
        return _frame(con, None, {}, IN_FORCE_COLUMNS)
    params = {"asof": as_of}
    where = ""
    if customer is not None:
        where = "AND a.customer_id = $customer"
        params["customer"] = customer
    return _frame(con, f"""
        SELECT {', '.join('a.' + c for c in IN_FORCE_COLUMNS)} FROM adjustments a
        WHERE a.kind IN ({', '.join(repr(k) for k in APPLIED)}) AND a.on_day <= $asof {where}
          AND NOT EXISTS (SELECT 1 FROM ({_VOIDS}) v WHERE v.voided = a.adjustment_id AND v.void_on <= $asof)
        ORDER BY a.on_day, a.adjustment_id""", params, IN_FORCE_COLUMNS)


def dated_in_force(adjustments: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """R10 for adjustments handed in rather than read (compute_books' ``adjustments``: what-if
    runs, benchmarks, property tests): the rows dated on or before T. ``adjustments`` has
    in_force's columns and no voids (a void is applied by leaving its adjustment out), so the
    date is what is left to apply. The rows in force as of T, in their order."""
    return adjustments[[d <= as_of for d in adjustments["on_day"]]] if len(adjustments) else adjustments


def history(con, customer: str | None = None) -> pd.DataFrame:
    """Every adjustment on record, voids included, for listing: the ``in_force`` columns plus
    recorded_by (str), recorded_at (UTC instant, datetime64[us]), voided_by (Int64: the void
    that voided it, NA if none) and voided_on (that void's date, None if none); sorted by
    adjustment_id. ``customer``: only that customer's. Empty when there is no table."""
    if not has_table(con):
        return _frame(con, None, {}, HISTORY_COLUMNS)
    params = {}
    where = ""
    if customer is not None:
        where = "WHERE a.customer_id = $customer"
        params["customer"] = customer
    return _frame(con, f"""
        SELECT {', '.join('a.' + c for c in HISTORY_COLUMNS[:-2])}, v.void_id AS voided_by, v.void_on AS voided_on
        FROM adjustments a LEFT JOIN ({_VOIDS}) v ON v.voided = a.adjustment_id AND a.kind <> 'void'
        {where} ORDER BY a.adjustment_id""", params, HISTORY_COLUMNS)


# --------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """What an adjustment is about, as found in the data: ``target`` as stored, the customer
    concerned, a description in words without the customer ("block P2, last day 2026-04-10"),
    and for a block its last day as of the adjustment's date."""
    kind: str
    target: str
    customer_id: str
    text: str
    last_day: date | None = None


def _no_such(kind: str, target: str, hint: str) -> AdjustmentError:
    return AdjustmentError(f"there is no {TARGET_WORDS[kind]} {target!r} in the data{hint}.")


def _recorded(con, number: int):
    if not has_table(con):
        return None
    return con.execute("SELECT kind, target, customer_id, on_day, to_day, minutes_us FROM adjustments "
                       "WHERE adjustment_id = ?", [number]).fetchone()


def _void_of(con, number: int):
    """(void id, void date) of the void that voided adjustment ``number``, or None."""
    if not has_table(con):
        return None
    return con.execute("SELECT adjustment_id, on_day FROM adjustments WHERE kind = 'void' AND target = ? "
                       "ORDER BY adjustment_id LIMIT 1", [str(number)]).fetchone()


def _standing(con, kind: str, target: str):
    """The first adjustment of ``kind`` on ``target`` that no void has voided (any dates), or None."""
    if not has_table(con):
        return None
    return con.execute(f"""SELECT a.adjustment_id, a.on_day FROM adjustments a
                           WHERE a.kind = ? AND a.target = ?
                             AND a.adjustment_id NOT IN (SELECT voided FROM ({_VOIDS}))
                           ORDER BY a.adjustment_id LIMIT 1""", [kind, target]).fetchone()


def _block(con, target: str, on: date, policy: Policy) -> Target:
    """extend: a purchase, or a credit's block adj-N; its last day as of ``on`` (R7, or the
    latest extend in force then)."""
    from billing.ledger import expires_on

    row = con.execute(f"SELECT customer_id, {business_day_sql('purchased_at', 'purchased_at_offset')} "
                      "FROM purchases WHERE purchase_id = ?", [policy.timezone, target]).fetchone()
    if row is not None:
        customer, first = row
        what = f"block {target}"
    elif target.lower().startswith(CREDIT_BLOCK_PREFIX) and target[len(CREDIT_BLOCK_PREFIX):].isdigit():
        number = int(target[len(CREDIT_BLOCK_PREFIX):])
        credit = _recorded(con, number)
        if credit is None or credit[0] != "credit":
            raise AdjustmentError(f"there is no credit block {target!r}: adjustment {number} is "
                                  + ("not on record." if credit is None else f"of kind {credit[0]}, not a credit."))
        voided = _void_of(con, number)
        if voided is not None:
            raise AdjustmentError(f"credit block {target} was voided by adjustment {voided[0]}: there is no block "
                                  f"to extend.")
        customer, first = credit[2], credit[3]
        target = f"{CREDIT_BLOCK_PREFIX}{number}"
        what = f"credit block {target}"
    else:
        raise _no_such("extend", target, " (extend names a block by its purchase id, or adj-N for a credit)")
    last = expires_on(first, policy)
    extended = in_force(con, on)
    extended = extended[(extended["kind"] == "extend") & (extended["target"] == target)]
    if len(extended):
        last = max(last, max(extended["to_day"]))
    return Target("extend", target, customer, f"{what}, last day {last.isoformat()}", last)


def _fee(con, target: str, policy: Policy) -> Target:
    """waive: an appointment that bills a fee under the data and policy as they stand (R6)."""
    from billing import rules

    row = con.execute("SELECT customer_id, status, cancelled_by FROM appointments WHERE appointment_id = ?",
                      [target]).fetchone()
    if row is None:
        raise _no_such("waive", target, "")
    customer, status, by = row
    standing = _standing(con, "waive", target)
    if standing is not None:
        raise AdjustmentError(f"appointment {target}'s fee is already waived by adjustment {standing[0]} "
                              f"(from {standing[1]}); void that one first to record another.")
    fees = rules.appointments_as_of(con, policy, date.max, customer)
    fee = fees.loc[fees["appointment_id"] == target, "fee_us"]
    if status == "completed" or not len(fee) or int(fee.iloc[0]) <= 0:
        why = {"completed": "it is a completed session (to stop billing its time, exclude its entries)",
               "scheduled": "it is still scheduled",
               }.get(status, "it was cancelled by staff" if status == "cancelled" and by == "staff"
                     else "it was cancelled in time" if status == "cancelled"
                     else f"its status is {status}")
        raise AdjustmentError(f"appointment {target} bills no fee to waive: {why} (R6).")
    return Target("waive", target, customer, f"the fee of appointment {target}")


def _entry(con, target: str) -> Target:
    row = con.execute("SELECT customer_id FROM time_entries WHERE entry_id = ?", [target]).fetchone()
    if row is None:
        raise _no_such("exclude", target, "")
    standing = _standing(con, "exclude", target)
    if standing is not None:
        raise AdjustmentError(f"entry {target} is already excluded by adjustment {standing[0]} (from {standing[1]}); "
                              f"void that one first to record another.")
    return Target("exclude", target, row[0], f"entry {target}")


def _customer(con, kind: str, target: str) -> Target:
    # A customer is any customer id of the data (billing.customers); asked table by table, so
    # a million entries are not gathered to find one id.
    known = con.execute(" UNION ALL ".join(
        f"SELECT 1 FROM (SELECT 1 FROM {t} WHERE customer_id = $c LIMIT 1)"
        for t in ("customers", "purchases", "appointments", "time_entries")), {"c": target}).fetchone()
    if known is None:
        # Points at the id when the text is a customer's name, as every command does (billing.customers).
        from billing.customers import customers_frame, unknown_customer_hint

        hint = unknown_customer_hint(target, customers_frame(con))
        raise AdjustmentError(f"there is no customer {target!r} in the data: customers are given by id."
                              + hint if hint else f"there is no customer {target!r} in the data.")
    return Target(kind, target, target, f"customer {target}")


def _voidable(con, target) -> Target:
    number = adjustment_number(target)
    row = _recorded(con, number)
    if row is None:
        raise AdjustmentError(f"there is no adjustment {number} on record (`python -m billing adjustments` "
                              f"lists them).")
    kind, voided_target, customer = row[0], row[1], row[2]
    if kind == "void":
        raise AdjustmentError(f"adjustment {number} is itself a void (of adjustment {voided_target}): a void cannot "
                              f"be voided; record the adjustment again instead.")
    voided = _void_of(con, number)
    if voided is not None:
        raise AdjustmentError(f"adjustment {number} is already voided by adjustment {voided[0]} "
                              f"(from {voided[1]}).")
    return Target("void", str(number), customer, f"adjustment {number} ({kind} {voided_target})")


def resolve(con, kind: str, target, policy: Policy, on: date | None = None) -> Target:
    """The target of an adjustment of ``kind`` as found in the data (``Target``), checked as
    ``record`` checks it (as of ``on``, default today in the policy's zone); AdjustmentError
    when there is no such thing or the adjustment cannot apply to it. Reads only."""
    if kind not in KINDS:
        raise AdjustmentError(f"unknown kind of adjustment {kind!r} (known: {', '.join(KINDS)}).")
    on = on or today_in(policy.timezone)
    if kind == "void":
        return _voidable(con, target)
    text = "" if target is None else str(target).strip()
    if not text:
        raise AdjustmentError(f"which {TARGET_WORDS[kind]}? {kind} needs its id.")
    if kind == "extend":
        return _block(con, text, on, policy)
    if kind == "waive":
        return _fee(con, text, policy)
    if kind == "exclude":
        return _entry(con, text)
    return _customer(con, kind, text)


# --------------------------------------------------------------------------- writing
def _in_transaction(db_path_or_con, work):
    """Run ``work(con)`` in one transaction on an open connection or a database path (opened
    read-write for it, and refused when the file does not exist: nothing is created)."""
    from billing.store import ensure_schema, open_db, transaction

    if isinstance(db_path_or_con, (str, Path)):
        path = Path(db_path_or_con)
        if not path.exists():
            raise AdjustmentError(f"{path}: no such database; import an export first "
                                  f"(python -m billing import EXPORT_DIR --db {path}).")
        with open_db(path) as con:
            return _in_transaction(con, work)
    con = db_path_or_con
    ensure_schema(con)   # a database made before the table existed gets it here
    with transaction(con):
        result = work(con)
    return result


def _insert(con, kind: str, found: Target, on: date, by: str, reason: str, to_day: date | None,
            minutes_us: int | None, now: datetime | None) -> int:
    from billing.store import bump_data_version

    number = con.execute("SELECT coalesce(max(adjustment_id), 0) + 1 FROM adjustments").fetchone()[0]
    recorded_at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
    con.execute("INSERT INTO adjustments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [number, kind, found.target, found.customer_id, on, to_day, minutes_us, reason, by, recorded_at])
    bump_data_version(con)
    return int(number)


def record(db_path_or_con, kind: str, target, *, on=None, by, reason, to_day=None, minutes=None,
           policy: Policy, now: datetime | None = None) -> int:
    """Record one adjustment (R10) and return its number.

    ``kind``: one of KINDS (``void`` goes to ``void(...)``); ``target``: the purchase_id (or adj-N),
    appointment_id, entry_id, customer_id or adjustment number; ``on``: its date (date or
    "YYYY-MM-DD"; default today in the policy's zone); ``by``: who records it; ``reason``:
    why (both non-blank); ``to_day``: extend's new last day (only there); ``minutes``: a
    credit's or charge's minutes, a plain number > 0, kept exact (only there); ``policy``:
    the zone of today, R7's validity and R6's fees; ``now``: the recording instant (default
    now, stored in UTC). Everything is checked before one row is written, with the data
    version bumped, in one transaction; an AdjustmentError (nothing written) otherwise.
    """
    if kind not in KINDS:
        raise AdjustmentError(f"unknown kind of adjustment {kind!r} (known: {', '.join(KINDS)}).")
    if kind == "void":
        if to_day is not None or minutes is not None:
            raise AdjustmentError("a void takes no new last day and no minutes.")
        return void(db_path_or_con, target, on=on, by=by, reason=reason, policy=policy, now=now)
    reason = _text(reason, NO_REASON)
    by = _text(by, NO_RECORDER)
    on = _day(on, "the adjustment's date") if on is not None else today_in(policy.timezone)
    if kind == "extend":
        if to_day is None:
            raise AdjustmentError("extend needs the block's new last day (--to YYYY-MM-DD).")
        to_day = _day(to_day, "the new last day")
    elif to_day is not None:
        raise AdjustmentError(f"a new last day belongs to extend only, not to {kind}.")
    minutes_us = None
    if kind in ("credit", "charge"):
        if minutes is None or (isinstance(minutes, str) and not minutes.strip()):
            raise AdjustmentError(f"{kind} needs the minutes (--minutes N).")
        minutes_us = minutes_to_us(minutes)
    elif minutes is not None:
        raise AdjustmentError(f"minutes belong to credit and charge only, not to {kind}.")

    def work(con):
        found = resolve(con, kind, target, policy, on)
        if kind == "extend" and to_day <= found.last_day:
            raise AdjustmentError(f"extend {found.target} to {to_day}: that is not later than its last day "
                                  f"{found.last_day} (as of {on}); an extension moves the last day later.")
        return _insert(con, kind, found, on, by, reason, to_day, minutes_us, now)

    return _in_transaction(db_path_or_con, work)


def void(db_path_or_con, adjustment_id, *, on=None, by, reason, policy: Policy | None = None,
         now: datetime | None = None) -> int:
    """Void adjustment ``adjustment_id`` (3, "3" or "adj-3") from ``on`` (default today in the
    zone of ``policy``, without one billing.toml's) and return the void's own number. Both stay on
    record. Refused (AdjustmentError, nothing written) for an unknown number, a void, an
    adjustment already voided, or a blank reason or ``by``."""
    reason = _text(reason, NO_REASON)
    by = _text(by, NO_RECORDER)
    if on is None:
        from billing.policy import load_policy

        on = today_in((policy or load_policy()).timezone)
    on = _day(on, "the void's date")

    def work(con):
        found = _voidable(con, adjustment_id)
        return _insert(con, "void", found, on, by, reason, None, None, now)

    return _in_transaction(db_path_or_con, work)


# --------------------------------------------------------------------------- in words
def what_text(kind: str, target: str, to_day=None, minutes_us=None, duration=None) -> str:
    """An adjustment in words: "extend block P2 to 2026-06-30", "waive the fee of appointment
    C1", "exclude entry e5", "credit 1 h 30 min", "charge 45 min", "void adjustment 3".
    ``duration``: how µs read (default: exact minutes, "90.00 min")."""
    if kind == "extend":
        return f"extend block {target} to {pd.Timestamp(to_day).date().isoformat()}"
    if kind == "waive":
        return f"waive the fee of appointment {target}"
    if kind == "exclude":
        return f"exclude entry {target}"
    if kind in ("credit", "charge"):
        amount = duration(minutes_us) if duration else f"{minutes_text(minutes_us)} min"
        return f"{kind} {amount}"
    if kind == "void":
        return f"void adjustment {target}"
    return f"{kind} {target}"


LISTING_COLUMNS = ["adjustment_id", "kind", "target", "customer_id", "on_day", "to_day", "minutes", "reason",
                   "recorded_by", "recorded_at", "voided_by", "voided_on"]


def listing(frame: pd.DataFrame) -> pd.DataFrame:
    """``history``'s frame as text in LISTING_COLUMNS, for CSV and JSON: dates YYYY-MM-DD,
    recorded_at as a UTC instant (2026-05-01T14:05:09Z), minutes exact ("12.50"), '' where
    nothing is."""
    def day(v):
        return "" if v is None or pd.isna(v) else pd.Timestamp(v).date().isoformat()

    return pd.DataFrame({
        "adjustment_id": [str(int(v)) for v in frame["adjustment_id"]],
        "kind": list(frame["kind"]), "target": list(frame["target"]), "customer_id": list(frame["customer_id"]),
        "on_day": [day(v) for v in frame["on_day"]], "to_day": [day(v) for v in frame["to_day"]],
        "minutes": [minutes_text(v) for v in frame["minutes_us"]], "reason": list(frame["reason"]),
        "recorded_by": list(frame["recorded_by"]),
        "recorded_at": [pd.Timestamp(v).strftime("%Y-%m-%dT%H:%M:%SZ") for v in frame["recorded_at"]],
        "voided_by": ["" if pd.isna(v) else str(int(v)) for v in frame["voided_by"]],
        "voided_on": [day(v) for v in frame["voided_on"]],
    }, columns=LISTING_COLUMNS, dtype="object")


def people_frame(frame: pd.DataFrame, names: dict[str, str] | None = None, as_of: date | None = None) -> pd.DataFrame:
    """``history``'s frame for people (the dashboard and ``--format table``): the number, the
    date, what in words (times in hours and whole minutes, billing.display), the customer with
    its name, the reason, who and when (UTC, to the minute), and which void voided it; with
    ``as_of``, whether reports as of that day apply it. All text; a dash where nothing is."""
    from billing.display import MISSING, block_text, date_text, datetime_text, duration_text

    names = names or {}

    def customer(cid):
        return f"{cid} · {names[cid]}" if names.get(cid) else cid

    def what(kind, target, to_day, minutes_us):
        text = what_text(kind, target, to_day, minutes_us, duration_text)
        if kind == "extend" and block_text(target) != target:   # a credit's block in words, not adj-7
            text = text.replace(f"block {target}", block_text(target), 1)
        return text

    out = {
        "no.": [str(int(v)) for v in frame["adjustment_id"]],
        "dated": [date_text(v) for v in frame["on_day"]],
        "what": [what(k, t, d, m)
                 for k, t, d, m in zip(frame["kind"], frame["target"], frame["to_day"], frame["minutes_us"])],
        "customer": [customer(c) for c in frame["customer_id"]],
    }
    if as_of is not None:
        out[f"as of {as_of.isoformat()}"] = [
            state_text(k, d, v, vd, as_of)
            for k, d, v, vd in zip(frame["kind"], frame["on_day"], frame["voided_by"], frame["voided_on"])]
    out |= {
        "reason": [" ".join(str(r).split()) for r in frame["reason"]],   # a line break would break a table row
        "by": list(frame["recorded_by"]),
        "recorded (UTC)": [datetime_text(v) for v in frame["recorded_at"]],
        "voided": [MISSING if pd.isna(v) else f"by {int(v)} from {date_text(d)}"
                   for v, d in zip(frame["voided_by"], frame["voided_on"])],
    }
    return pd.DataFrame(out, dtype="object")


def state_text(kind: str, on_day, voided_by, voided_on, as_of: date) -> str:
    """Whether reports as of ``as_of`` apply an adjustment (R10), in words: "applies",
    "not yet (dated later)", "voided", "a void"."""
    if kind == "void":
        return "a void" if pd.Timestamp(on_day).date() <= as_of else "a void, not yet (dated later)"
    if pd.Timestamp(on_day).date() > as_of:
        return "not yet (dated later)"
    if not pd.isna(voided_by) and pd.Timestamp(voided_on).date() <= as_of:
        return "voided"
    return "applies"
