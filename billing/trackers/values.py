"""Reading one cell of a tracker export: dates, times, durations, numbers, yes/no.

Each reader takes the text as written and the mapping's format settings, and returns an
exact value or raises ``ValueError`` with a short reason (the caller adds file, line and
column). Durations come back as integer microseconds: minutes are exact, never floats.
"""
from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

from billing.policy import US_PER_HOUR, US_PER_MINUTE

US_PER_SECOND = 1_000_000

DATE_ORDERS = ("ymd", "dmy", "mdy")

_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_OTHER_DATE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})$")


def _checked_date(y: int, m: int, d: int, text: str) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise ValueError(f"'{text}' is not a calendar date") from None


def parse_date(text: str, order: str | None) -> date:
    """A date written year-first (always), or day/month-first as ``order`` says."""
    s = text.strip()
    m = _ISO_DATE.match(s)
    if m:
        return _checked_date(int(m[1]), int(m[2]), int(m[3]), s)
    m = _OTHER_DATE.match(s)
    if not m:
        raise ValueError(f"'{text}' is not a date")
    a, b, year = int(m[1]), int(m[3]), int(m[4])
    if order == "dmy":
        return _checked_date(year, b, a, s)
    if order == "mdy":
        return _checked_date(year, a, b, s)
    raise ValueError(f"'{text}' could be day/month or month/day; the date order must be chosen")


def date_order_evidence(text: str) -> set[str] | None:
    """Which of dmy/mdy can read this date; ``None`` when it says nothing (year-first)."""
    m = _OTHER_DATE.match(text.strip())
    if not m:
        return None
    a, b = int(m[1]), int(m[3])
    possible = set()
    if 1 <= b <= 12 and 1 <= a <= 31:
        possible.add("dmy")
    if 1 <= a <= 12 and 1 <= b <= 31:
        possible.add("mdy")
    return possible


_TIME = re.compile(
    r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?\s*([AaPp]\.?\s*[Mm]\.?)?$")


def parse_time(text: str, clock: str = "auto") -> time:
    """``09:05``, ``9:05:07``, ``9:05 PM``, ``09:05:07 a.m.``; ``clock`` is 24h, 12h or auto."""
    s = text.strip()
    m = _TIME.match(s)
    if not m:
        raise ValueError(f"'{text}' is not a time of day")
    hour, minute = int(m[1]), int(m[2])
    second = int(m[3] or 0)
    micro = int((m[4] or "").ljust(6, "0") or 0)
    meridiem = (m[5] or "").replace(".", "").replace(" ", "").lower()
    if meridiem:
        if clock == "24h":
            raise ValueError(f"'{text}' has AM/PM but the mapping says 24-hour times")
        if not 1 <= hour <= 12:
            raise ValueError(f"'{text}' is not a 12-hour time")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif clock == "12h":
        raise ValueError(f"'{text}' has no AM/PM but the mapping says 12-hour times")
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"'{text}' is not a time of day")
    return time(hour, minute, second, micro)


def parse_number(text: str, decimal: str = ".", thousands: str = "") -> Decimal:
    """A plain decimal number, with the mapping's decimal mark and optional grouping.

    ``thousands`` lists the grouping marks allowed (e.g. ``", '"``); a group mark is only
    accepted between groups of three digits, so ``1,5`` with decimal ``.`` is an error
    rather than fifteen.
    """
    s = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    if not s:
        raise ValueError("is empty")
    sign = ""
    if s[0] in "+-":
        sign, s = s[0], s[1:].strip()
    if decimal in s:
        whole, _, frac = s.rpartition(decimal) if s.count(decimal) == 1 else (None, None, None)
        if whole is None:
            raise ValueError(f"'{text}' is not a number")
    else:
        whole, frac = s, ""
    if whole and not whole.isdigit():
        marks = {c for c in whole if not c.isdigit()}
        if len(marks) != 1 or not marks <= set(thousands) or not re.fullmatch(
                r"\d{1,3}(?:" + re.escape(next(iter(marks))) + r"\d{3})+", whole):
            raise ValueError(f"'{text}' is not a number")
        whole = whole.replace(next(iter(marks)), "")
    if frac and not frac.isdigit():
        raise ValueError(f"'{text}' is not a number")
    if not whole and not frac:
        raise ValueError(f"'{text}' is not a number")
    try:
        return Decimal(f"{sign}{whole or '0'}.{frac or '0'}")
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a number") from None


def _us(amount: Decimal, unit_us: int) -> int:
    return int((amount * unit_us).to_integral_value(rounding=ROUND_HALF_UP))


_HMS = re.compile(r"^(\d+):(\d{1,2}):(\d{1,2})(?:[.,](\d{1,6}))?$")
_HM = re.compile(r"^(\d+):(\d{1,2})$")
_MS_MIN = re.compile(r"^(\d+):(\d{1,2})\s*min$", re.I)
_UNIT = re.compile(r"^(.*?)\s*(h|hr|hrs|hours?|std|m|min|mins|minutes?|s|sec|secs|seconds?)$", re.I)
_H_M = re.compile(r"^(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s(?:ec)?)?$", re.I)

_UNIT_US = {"hours": US_PER_HOUR, "minutes": US_PER_MINUTE, "seconds": US_PER_SECOND}


def parse_duration(text: str, style: str = "auto", unit: str = "hours",
                   decimal: str = ".", thousands: str = "") -> int:
    """A duration in integer microseconds.

    Understood (``style`` auto): ``1:00:01`` (h:mm:ss), ``0:13`` (h:mm), ``18:25 min``
    (mm:ss, Toggl's classic format), ``1.5`` or ``1,5`` (a number in ``unit``, hours by
    default), ``0.79 h``, ``45 min``, ``1h 30m``. ``style`` hms or number restricts it.
    """
    s = text.strip()
    if not s:
        raise ValueError("is empty")
    m = _MS_MIN.match(s)
    if m and style in ("auto", "hms"):
        mins, secs = int(m[1]), int(m[2])
        if secs > 59:
            raise ValueError(f"'{text}' is not a duration")
        return mins * US_PER_MINUTE + secs * US_PER_SECOND
    m = _HMS.match(s)
    if m and style in ("auto", "hms"):
        h, mi, se = int(m[1]), int(m[2]), int(m[3])
        if mi > 59 or se > 59:
            raise ValueError(f"'{text}' is not a duration")
        micro = int((m[4] or "").ljust(6, "0") or 0)
        return h * US_PER_HOUR + mi * US_PER_MINUTE + se * US_PER_SECOND + micro
    m = _HM.match(s)
    if m and style in ("auto", "hms"):
        h, mi = int(m[1]), int(m[2])
        if mi > 59:
            raise ValueError(f"'{text}' is not a duration")
        return h * US_PER_HOUR + mi * US_PER_MINUTE
    if style == "hms":
        raise ValueError(f"'{text}' is not a duration like 1:30:00")
    m = _H_M.match(s)
    if m and any(m.groups()) and re.search(r"\d\s*h.*\d", s, re.I):
        h, mi, se = (int(g or 0) for g in m.groups())
        return h * US_PER_HOUR + mi * US_PER_MINUTE + se * US_PER_SECOND
    m = _UNIT.match(s)
    number_unit = unit
    if m and m[1]:
        s = m[1]
        word = m[2].lower()
        number_unit = ("hours" if word[0] in "h" or word == "std" else
                       "minutes" if word.startswith("m") else "seconds")
    try:
        amount = parse_number(s, decimal, thousands)
    except ValueError:
        raise ValueError(f"'{text}' is not a duration") from None
    return _us(amount, _UNIT_US[number_unit])


def parse_bool(text: str, yes: list[str], no: list[str]) -> bool:
    """Yes/no as the mapping spells it (case and surrounding spaces ignored)."""
    s = text.strip().casefold()
    if s in {v.strip().casefold() for v in yes}:
        return True
    if s in {v.strip().casefold() for v in no}:
        return False
    raise ValueError(f"'{text}' is neither a yes ({', '.join(yes[:4])}…) nor a no value")


def minutes_text(us: int) -> str:
    """Canonical ``minutes`` text: at most 6 decimals (FORMATS.md), rounded half up once."""
    value = (Decimal(us) / US_PER_MINUTE).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
