"""Values for people: the one place that turns a figure, a date, a code or a column name
into what the dashboard and ``--format table`` show (no Streamlit here).

One function per kind of value:

- a time (integer µs) → ``duration_text``: hours and whole minutes ("174 h 5 min",
  "45 min", "0 min", "2 h"), rounded once, half up, to the whole minute; an amount just
  recorded, read back exactly → ``exact_duration_text`` ("12 min 30 s");
- a date → ``date_text`` ("2026-11-27"); an instant → ``datetime_text`` ("2026-11-27 14:05");
- a code (``used_up``, ``no_show``, ``one_on_one``) → ``code_text`` ("used up", "no-show", "1-on-1");
- a column name (``import_id``, ``undone_at``) → ``column_text`` ("import", "undone on");
- anything missing (None, NaN, NaT, "") → ``MISSING``, a dash.

Exact values (minutes to 1/100, FORMATS.md) stay in the CSV/XLSX/JSON downloads, in
``--format csv`` and in tooltips (``exact_minutes_text``); these are for reading.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from billing.policy import US_PER_MINUTE
from billing.statement_model import format_minutes

MISSING = "—"
HALF_MINUTE_US = US_PER_MINUTE // 2


def is_missing(value) -> bool:
    """None, NaN, NaT, pd.NA or an empty/blank string."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: not one missing value
        return False


def whole_minutes(us: int) -> int:
    """µs → whole minutes, rounded half up (away from zero for a negative figure, so that
    -x shows as the negative of x): 29.999 s → 0, 30 s → 1, 59 min 30 s → 60."""
    us = int(us)
    m = (abs(us) + HALF_MINUTE_US) // US_PER_MINUTE
    return -m if us < 0 else m


def split_minutes(parts_us) -> list[int]:
    """Whole minutes for parts of one total that add up to the total's own whole minutes
    (largest remainder): 5 min 20 s + 55 min 40 s = 1 h shows as 5 min + 55 min, not
    5 + 56 = 61. Each part is its own rounding (``whole_minutes``) or one minute off it, the
    minute going to the parts with the largest remainders (ties: the earlier part). Parts ≥ 0."""
    parts = [int(p) for p in parts_us]
    total = whole_minutes(sum(parts))
    floors = [p // US_PER_MINUTE for p in parts]
    short = total - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: (-(parts[i] % US_PER_MINUTE), i))
    for i in order[:max(short, 0)]:
        floors[i] += 1
    return floors


def duration_text(us) -> str:
    """A time for people: hours and whole minutes, "174 h 5 min", "45 min", "0 min", "2 h".

    Rounded once, from the exact µs, half up to the whole minute (``whole_minutes``): 29.999 s
    shows "0 min", 30 s "1 min", 59 min 30 s "1 h". A negative time gets a leading minus
    ("-1 h 15 min"); a missing one is ``MISSING``."""
    if is_missing(us):
        return MISSING
    m = whole_minutes(us)
    sign = "-" if m < 0 else ""
    hours, minutes = divmod(abs(m), 60)
    if hours == 0:
        return f"{sign}{minutes} min"
    if minutes == 0:
        return f"{sign}{hours} h"
    return f"{sign}{hours} h {minutes} min"


US_PER_SECOND = US_PER_MINUTE // 60


def exact_duration_text(us) -> str:
    """A recorded amount for people, exactly as recorded (not rounded): hours and minutes as
    ``duration_text`` writes them, and the seconds when there are any, to the µs: "1 h 30 min",
    "12 min 30 s", "1 h 0 min 5 s", "12 min 20.7 s". Under one second, the exact minutes
    ("0.0000001 min": what a manager types; seconds would be a unit nobody entered). A
    negative amount gets a leading minus; a missing one is ``MISSING``. Used where a figure
    someone just recorded is read back (an adjustment's confirmation)."""
    if is_missing(us):
        return MISSING
    us = int(us)
    sign, us = ("-" if us < 0 else ""), abs(us)
    if 0 < us < US_PER_SECOND:
        exact = format((Decimal(us) / US_PER_MINUTE).normalize(), "f")
        return f"{sign}{exact} min"
    whole, rest = divmod(us, US_PER_MINUTE)
    hours, minutes = divmod(whole, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes or (hours and rest) or not (hours or rest):
        parts.append(f"{minutes} min")
    if rest:
        seconds = format((Decimal(rest) / US_PER_SECOND).normalize(), "f")
        parts.append(f"{seconds} s")
    return sign + " ".join(parts)


def notice_text(us) -> str:
    """A cancellation's notice (R6) for people: hours and whole minutes before the start,
    "15 min after the start" when it came after it (negative µs), a dash when there is none
    (a no-show gives no notice)."""
    if is_missing(us):
        return MISSING
    us = int(us)
    return f"{duration_text(abs(us))} after the start" if us < 0 else duration_text(us)


def signed_duration_text(us) -> str:
    """A difference for people: "+1 h 5 min", "-45 min", "0 min" (``duration_text`` with a plus)."""
    text = duration_text(us)
    return text if text.startswith("-") or text in ("0 min", MISSING) else f"+{text}"


def durations_text(values) -> list[str]:
    """``duration_text`` of each value of a column (missing values become ``MISSING``)."""
    return [duration_text(v) for v in pd.Series(values, dtype="object")]


def exact_minutes_us(text) -> int | None:
    """Minutes written exactly ("48.12", FORMATS.md) → integer µs (Decimal: no float); missing → None."""
    if is_missing(text):
        return None
    return int(Decimal(str(text)) * US_PER_MINUTE)


def exact_minutes_text(us) -> str:
    """The exact figure for a tooltip: "exactly 174 h 5.25 min" (1/100 minute, half up)."""
    return MISSING if is_missing(us) else f"exactly {format_minutes(int(us))}"


def date_text(value) -> str:
    """A day for people: "2026-11-27" (never "2026-11-27 00:00:00"); missing → ``MISSING``."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        return value
    return pd.Timestamp(value).date().isoformat()


def day_words(value) -> str:
    """A day as a customer reads it in a sentence, its month in words: "12 Oct 2026" (the
    customer's statement; tables, CSV and XLSX keep ``date_text``'s ISO form). Missing →
    ``MISSING``."""
    if is_missing(value):
        return MISSING
    d = date.fromisoformat(value[:10]) if isinstance(value, str) else pd.Timestamp(value).date()
    return f"{d.day} {d:%b %Y}"


_ISO_IN_TEXT = re.compile(r"(?<![\w~-])(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?)?(?![\w~-])")


def dates_in_words(text):
    """``text`` with every ISO day in it ("2026-10-12", "2026-10-12 14:05", "2026-10-12T14:05:09")
    as ``day_words`` ("12 Oct 2026", "12 Oct 2026 14:05"); a date inside an id (PO-2026-10-12,
    a~2026-10-12) is left alone. None stays None."""
    if text is None or not isinstance(text, str):
        return text

    def words(m):
        try:
            day = day_words(m.group(1))
        except ValueError:   # 2026-13-45 is not a day: left as written
            return m.group(0)
        return f"{day} {m.group(2)}" if m.group(2) else day

    return _ISO_IN_TEXT.sub(words, text)


def datetime_text(value) -> str:
    """An instant for people, to the minute as written (seconds dropped, not rounded: 14:05:59
    was still 14:05): "2026-11-27 14:05"; one written with its offset keeps it
    ("2026-03-08T09:15:00-05:00" → "2026-03-08 09:15 -05:00"); missing → ``MISSING``."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        m = _WRITTEN.match(value.strip())
        return f"{m['day']} {m['hm']}" + (f" {m['offset']}" if m["offset"] else "") if m else value
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def zone_datetime_text(value, zone: str) -> str:
    """An instant the database recorded in UTC (a naive timestamp: imported at, issued at,
    undone at) for people, in the policy's time zone ``zone``, to the minute: "2026-11-29
    09:05"; say the zone in the column's name (``zone_column``). Missing → ``MISSING``."""
    if is_missing(value):
        return MISSING
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return ts.tz_convert(zone).strftime("%Y-%m-%d %H:%M")


def zone_column(name: str, zone: str) -> str:
    """A column of ``zone_datetime_text`` values named with its zone: "imported at (America/New_York)"."""
    return f"{name} ({zone})"


_UNDER_A_MINUTE = re.compile(r"\((\d+\.\d+) min\)")


def review_text(text) -> str:
    """A review report's issue for people: an entry "under one minute (0.6833 min)" shows its
    length in whole seconds, "(41 s)" (half up); the report's CSV keeps the exact minutes."""
    if is_missing(text):
        return MISSING
    return _UNDER_A_MINUTE.sub(
        lambda m: f"({int(Decimal(m.group(1)) * 60 + Decimal('0.5'))} s)", str(text))


_WRITTEN = re.compile(r"^(?P<day>\d{4}-\d{2}-\d{2})[T ](?P<hm>\d{2}:\d{2})(:\d{2}(\.\d+)?)?\s*(?P<offset>Z|[+-]\d{2}:?\d{2})?$")


def _is_written_instants(col: pd.Series) -> bool:
    present = [v for v in col if not is_missing(v)]
    return len(present) > 0 and all(isinstance(v, str) and _WRITTEN.match(v.strip()) for v in present[:50])


CODES = {
    "used_up": "used up", "no_show": "no-show", "one_on_one": "1-on-1", "general": "General Support",
    "rolled_over": "rolled over", "at_least_booked": "at least the booked length", "logged": "as logged",
    "adhoc": "ad-hoc", "last_30_days": "last 30 days",
    # Over time (R10-R14): block kinds, ledger lines, an entry an adjustment excluded.
    "late_credit": "late credit", "rollover": "carried over", "carried_in": "carried over",
    "owed_paid": "owed, paid", "excluded": "excluded (not counted)", "report": "invoiced separately",
    "carry": "owed, paid by the next purchase",
}


def code_text(code) -> str:
    """A stored code in words: "used_up" → "used up", "no_show" → "no-show", "one_on_one" →
    "1-on-1"; any other code with underscores in spaces; missing → ``MISSING``."""
    if is_missing(code):
        return MISSING
    text = str(code)
    return CODES.get(text, text.replace("_", " "))


def activity_text(activity) -> str:
    """An entry's activity for people: FORMATS.md's seed categories in words ("status_call" →
    "status call", "project_management" → "project management"); any other activity as the
    tracker wrote it; missing → ``MISSING``."""
    from billing.canonical import SEED_ACTIVITIES

    if is_missing(activity):
        return MISSING
    text = str(activity)
    return text.replace("_", " ") if text in SEED_ACTIVITIES else text


COLUMNS = {
    "customer_id": "customer", "customer_name": "name", "purchase_id": "block", "appointment_id": "appointment", "entry_id": "entry",
    "import_id": "import", "statement_id": "statement", "undone_at": "undone at", "imported_at": "imported at",
    "adhoc_raw": "ad-hoc logged", "adhoc_billed": "ad-hoc billed", "what_to_do": "what to do",
    "purchased_on": "bought", "expires_on": "last day", "days_left": "days left", "cancelled_by": "by",
    "customer_requested": "asked for by the customer", "started_at": "started",
}


def column_text(name: str) -> str:
    """A column name in words: known names from ``COLUMNS``, else without ``_us``/``_id`` and
    with spaces for underscores ("fee_us" → "fee", "scheduled_start" → "scheduled start")."""
    name = str(name)
    if name.endswith("_us"):
        name = name[:-3]
    if name in COLUMNS:
        return COLUMNS[name]
    if name.endswith("_id"):
        name = name[:-3]
    return name.replace("_", " ")


CODE_COLUMNS = {"status", "tier", "kind", "session_billing"}


def _is_dates(col: pd.Series) -> bool:
    present = col.dropna()
    return len(present) > 0 and all(isinstance(v, date) and not isinstance(v, datetime) for v in present[:50])


def _is_instants(col: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(col):
        return True
    present = col.dropna()
    return len(present) > 0 and all(isinstance(v, datetime | pd.Timestamp) for v in present[:50])


def with_customer_names(frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """``frame`` with customer_name beside its customer_id (billing.customers: the newest name
    the data gives; '' for a customer without one, shown as ``MISSING``); unchanged when it has
    no customer_id or already has a customer_name."""
    if "customer_id" not in frame.columns or "customer_name" in frame.columns:
        return frame
    at = list(frame.columns).index("customer_id") + 1
    out = frame.copy()
    out.insert(at, "customer_name", [names.get(c, "") if isinstance(c, str) else "" for c in frame["customer_id"]])
    return out


def people_table(frame: pd.DataFrame, rename: dict | None = None, names: dict[str, str] | None = None
                 ) -> pd.DataFrame:
    """A frame for people: ``*_us`` columns as ``duration_text``, dates as ``date_text``
    (datetime columns that are all midnights too), instants as ``datetime_text``, codes
    (status, tier, kind) as ``code_text``, a missing value as ``MISSING``, and the columns
    named in words (``rename`` by the name without ``_us``, else ``column_text``). With
    ``names`` (customer id → name), a customer_id column gets the customer's name beside it
    (``with_customer_names``)."""
    if names is not None:
        frame = with_customer_names(frame, names)
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        values = frame[col]
        if col.endswith("_us"):
            shown = durations_text(values)
        elif _is_dates(values):
            shown = [date_text(v) for v in values]
        elif _is_instants(values):
            ts = pd.to_datetime(values)
            all_midnight = bool((ts.dropna() == ts.dropna().dt.normalize()).all())
            shown = [date_text(v) if all_midnight else datetime_text(v) for v in values]
        elif pd.api.types.is_string_dtype(values) and _is_written_instants(values):
            shown = [datetime_text(v) for v in values]
        elif col in CODE_COLUMNS:
            shown = [code_text(v) for v in values]
        elif col == "activity":
            shown = [activity_text(v) for v in values]
        elif values.isna().any() or ((values.dtype == object or pd.api.types.is_string_dtype(values))
                                     and values.map(is_missing).any()):
            # a column with a gap is floats in pandas: line 3 stays "3", not "3.0"
            shown = [MISSING if is_missing(v) else int(v) if isinstance(v, float) and v.is_integer() else v
                     for v in values]
        else:
            shown = values
        key = col[:-3] if col.endswith("_us") else col
        out[(rename or {}).get(key, (rename or {}).get(col, column_text(col)))] = \
            pd.Series(shown, index=frame.index, dtype="object") if not isinstance(shown, pd.Series) else shown
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- SQL twin (write_table)
def duration_sql(us: str) -> str:
    """SQL twin of ``duration_text`` for ``--format table`` (DuckDB formats a whole report)."""
    m = f"((abs({us}) + {HALF_MINUTE_US}) // {US_PER_MINUTE})"
    sign = f"CASE WHEN {us} < 0 AND {m} > 0 THEN '-' ELSE '' END"
    return (f"CASE WHEN {us} IS NULL THEN NULL "
            f"WHEN {m} < 60 THEN {sign} || CAST({m} AS VARCHAR) || ' min' "
            f"WHEN {m} % 60 = 0 THEN {sign} || CAST({m} // 60 AS VARCHAR) || ' h' "
            f"ELSE {sign} || CAST({m} // 60 AS VARCHAR) || ' h ' || CAST({m} % 60 AS VARCHAR) || ' min' END")


# --------------------------------------------------------------------------- over time (R10-R14)
# The blocks the engine makes itself have ids (FORMATS.md "Over time"): a credit adj-<n>, a
# rollover block <purchase_id>~rollover, a late credit late~<customer>~<late_for>~<posted>.
# People read them in words.
CREDIT_PREFIX, ROLLOVER_SUFFIX, LATE_PREFIX = "adj-", "~rollover", "late~"


def block_kind_of(purchase_id: str) -> str:
    """The kind of a block from its id alone (when no kind column is at hand): credit,
    rollover, late_credit or purchase."""
    pid = str(purchase_id)
    if pid.endswith(ROLLOVER_SUFFIX):
        return "rollover"
    if pid.startswith(LATE_PREFIX) and pid.count("~") >= 3:
        return "late_credit"
    if pid.startswith(CREDIT_PREFIX) and pid[len(CREDIT_PREFIX):].isdigit():
        return "credit"
    return "purchase"


def late_credit_days(purchase_id: str) -> tuple[str, str]:
    """(late_for, posted) of a late credit's id late~<customer>~<late_for>~<posted>, as ISO text."""
    _, late_for, posted = str(purchase_id).rsplit("~", 2)
    return late_for, posted


def block_text(purchase_id, kind: str | None = None, purchased_on=None, customer: bool = False) -> str:
    """A block as people name it (R10, R12, R13): a purchase by its id ("PO-0166"); a credit
    "credit (adjustment 7)" (the customer's copy: "credit of 2026-11-20", without the
    number); a rollover block "carried from PO-0166" (its source named the same way); a late
    credit "credit for a late change to 2026-10-12". ``kind``: the block's kind column
    (purchase, credit, rollover, late_credit), else read from the id."""
    if is_missing(purchase_id):
        return MISSING
    pid = str(purchase_id)
    kind = kind if isinstance(kind, str) and kind else block_kind_of(pid)
    if kind == "rollover":
        return "carried from " + block_text(pid[:-len(ROLLOVER_SUFFIX)] if pid.endswith(ROLLOVER_SUFFIX) else pid,
                                            customer=customer)
    if kind == "late_credit":
        try:
            late_for, _ = late_credit_days(pid)
        except ValueError:
            return "credit for a late change"
        return f"credit for a late change to {late_for}"
    if kind == "credit":
        if customer:
            return f"credit of {date_text(purchased_on)}" if not is_missing(purchased_on) else "a credit"
        number = pid[len(CREDIT_PREFIX):] if pid.startswith(CREDIT_PREFIX) else pid
        return f"credit (adjustment {number})"
    return pid


def blocks_text(purchase_ids, kinds=None) -> list[str]:
    """``block_text`` of each id of a column (with its kind, when given)."""
    ids = list(purchase_ids)
    kinds = list(kinds) if kinds is not None else [None] * len(ids)
    return [block_text(p, k) for p, k in zip(ids, kinds)]


def late_text(late_for, closed_through=None) -> str:
    """A late row's label (R12): "late change for 2026-10-12" and, when the close is known,
    ", posted after the books were closed through 2026-10-31"."""
    text = f"late change for {date_text(late_for)}"
    return text + (f", posted after the books were closed through {date_text(closed_through)}"
                   if not is_missing(closed_through) else "")


def closed_text(through, closing_id=None, by=None, at=None, zone: str | None = None) -> str:
    """The close in force in words (R12): "Books closed through 2026-10-31 (closing 3, by
    lead@example.com on 2026-11-02 09:14 UTC)", the time in ``zone`` when given ("… on
    2026-11-02 04:14 America/New_York"); "Books open (not closed)" without one."""
    if is_missing(through):
        return "Books open (not closed)"
    when = (f"on {zone_datetime_text(at, zone)} {zone}" if zone else f"on {datetime_text(at)} UTC") \
        if not is_missing(at) else ""
    who = [f"closing {int(closing_id)}" if not is_missing(closing_id) else "",
           f"by {by}" if not is_missing(by) else "", when]
    who = [w for w in who if w]
    return f"Books closed through {date_text(through)}" + (f" ({', '.join(who)})" if who else "")
