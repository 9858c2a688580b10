"""Reading one cell of a tracker export: dates, times, durations, numbers, yes/no.

Each reader takes the text as written and the mapping's format settings, and returns an
exact value or raises ``ValueError`` with a short reason (the caller adds file, line and
column). Durations come back as integer microseconds: minutes are exact, never floats.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

from billing.policy import US_PER_HOUR, US_PER_MINUTE

US_PER_SECOND = 1_000_000

DATE_ORDERS = ("ymd", "dmy", "mdy")

_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\.?$")
_BASIC_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_OTHER_DATE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})\.?$")

# Month names and abbreviations as trackers write them in English, German, French, Spanish,
# Portuguese, Dutch and Italian (compared without case, accents kept, a trailing dot dropped).
_MONTH_WORDS = {
    1: "jan january januar janvier janv enero ene janeiro januari gennaio gen",
    2: "feb february februar févr février fevrier fév febrero fevereiro fev februari febbraio",
    3: "mar march märz maerz mär mars marzo março marco maart mrt",
    4: "apr april avril avr abril abr aprile",
    5: "may mai mayo maio mei maggio mag",
    6: "jun june juni juin junio junho giugno giu",
    7: "jul july juli juillet juil julio julho luglio lug",
    8: "aug august août aout agosto ago augustus",
    9: "sep sept september septembre septiembre setembro set settembre",
    10: "oct october oktober okt octobre octubre outubro out ottobre ott",
    11: "nov november novembre noviembre novembro",
    12: "dec december dezember dez décembre déc diciembre dic dezembro dicembre",
}
MONTHS = {word: month for month, words in _MONTH_WORDS.items() for word in words.split()}
_WEEKDAY = re.compile(
    r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|mo|di|mi|do|fr|sa|so|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|"
    r"lun|mar|mer|jeu|ven|sam|dim|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\.?,?\s+", re.I)
_TOKENS = re.compile(r"\d+|[^\W\d_]+", re.UNICODE)


def _checked_date(y: int, m: int, d: int, text: str) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise ValueError(f"'{text}' is not a calendar date") from None


def _year(text: str) -> int:
    """A four-digit year, or a two-digit one read as 2000-2068 / 1969-1999 (as strptime's %y)."""
    y = int(text)
    if len(text) == 2:
        return y + (2000 if y < 69 else 1900)
    return y


def _month_name_date(s: str, text: str) -> date | None:
    """``Jan 20, 2023``, ``20 Jan 2023``, ``20/Jan/23``, ``20. März 2024``; None if no month name."""
    tokens = _TOKENS.findall(s)
    words = [t for t in tokens if not t.isdigit()]
    if len(words) != 1 or len(words) == len(tokens):
        return None  # no month name, or words alone: not a date at all
    month = MONTHS.get(words[0].casefold())
    if month is None:
        raise ValueError(f"'{text}' is not a date ('{words[0]}' is not a month)")
    numbers = [t for t in tokens if t.isdigit()]
    if len(numbers) != 2:
        raise ValueError(f"'{text}' is not a date")
    four = [n for n in numbers if len(n) == 4]
    if four:
        year_text = four[0]
        day_text = numbers[1] if numbers[0] == year_text else numbers[0]
    elif tokens[0] == words[0]:      # month first: Jan 20, 23
        day_text, year_text = numbers
    else:                            # day first: 20/Jan/23
        day_text, year_text = numbers
    if len(day_text) > 2 or len(year_text) not in (2, 4):
        raise ValueError(f"'{text}' is not a date")
    return _checked_date(_year(year_text), month, int(day_text), text)


def parse_date(text: str, order: str | None, pattern: str | None = None) -> date:
    """A date as a tracker writes it.

    Year-first (``2024-03-04``, ``2024/3/4``, ``20240304``) is always read; day- or
    month-first numbers (``04.03.2024``, ``3/4/24``) as ``order`` (dmy or mdy) says; a
    month name (``Jan 20, 2023``, ``20/Jan/23``, ``4. März 2024``) decides the order itself.
    Two-digit years are 2000-2068 and 1969-1999. ``pattern`` (strptime, e.g. ``%d/%m/%y``)
    replaces all guessing. Raises ValueError with a short reason.
    """
    s = text.strip()
    if pattern:
        try:
            return datetime.strptime(s, pattern).date()
        except ValueError:
            raise ValueError(f"'{text}' does not match the date pattern '{pattern}'") from None
    s = _WEEKDAY.sub("", s, count=1) if s[:1].isalpha() else s
    m = _ISO_DATE.match(s) or _BASIC_DATE.match(s)
    if m:
        return _checked_date(int(m[1]), int(m[2]), int(m[3]), s)
    m = _OTHER_DATE.match(s)
    if not m:
        found = _month_name_date(s, text)
        if found is None:
            raise ValueError(f"'{text}' is not a date")
        return found
    a, b, year = int(m[1]), int(m[3]), _year(m[4])
    if order not in ("dmy", "mdy") and not date_order_evidence(s):
        raise ValueError(f"'{text}' is not a calendar date")  # neither day/month nor month/day
    if order == "dmy":
        return _checked_date(year, b, a, s)
    if order == "mdy":
        return _checked_date(year, a, b, s)
    raise ValueError(f"'{text}' could be day/month or month/day; the date order must be chosen")


def date_order_evidence(text: str) -> set[str] | None:
    """Which of dmy/mdy can read this date (a dotted one only dmy); ``None`` when it says nothing
    (year-first, month name); empty when it is no date in either order."""
    m = _OTHER_DATE.match(text.strip())
    if not m:
        return None
    a, b = int(m[1]), int(m[3])
    possible = set()
    if 1 <= b <= 12 and 1 <= a <= 31:
        possible.add("dmy")
    if 1 <= a <= 12 and 1 <= b <= 31 and m[2] != ".":
        # Dotted dates (04.03.2024: German, Czech, Dutch, ... and Redmine's de locale) are
        # day-first; no tracker writes month.day.year.
        possible.add("mdy")
    return possible


_OFFSET = re.compile(r"^(?:[Zz]|UTC|GMT|([+-])(\d{2})(?::?(\d{2}))?)$")


def parse_offset(text: str) -> int:
    """``Z``, ``+01:00``, ``+0100``, ``-05``, ``UTC`` as seconds east of UTC (ValueError if not one)."""
    m = _OFFSET.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not a UTC offset")
    if not m[1]:
        return 0
    hours, minutes = int(m[2]), int(m[3] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"'{text}' is not a UTC offset")
    return (1 if m[1] == "+" else -1) * (hours * 3600 + minutes * 60)


# A timestamp cell: the date, then T / a space / a comma, then the time of day, then maybe
# an offset. Basic ISO 8601 (20160405T162205Z) is rewritten to the extended form first.
_BASIC_TS = re.compile(r"^(\d{4})(\d{2})(\d{2})[Tt](\d{2})(\d{2})(\d{2})?([.,]\d+)?\s*(.*)$")
_TS_SPLIT = re.compile(
    r"^(?P<date>.+?)(?:[Tt]|,?\s+|,)(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?"
    r"(?:\s*[AaPp]\.?\s*[Mm]\.?)?)\s*(?P<offset>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$")


def split_timestamp(text: str) -> tuple[str, str, str]:
    """(date text, time text, offset text) of a cell holding a date and maybe a time and an
    offset; a cell without a time of day comes back as (text, "", "")."""
    s = text.strip()
    m = _BASIC_TS.match(s)
    if m:
        time_text = f"{m[4]}:{m[5]}" + (f":{m[6]}" if m[6] else "") + (m[7] or "")
        return f"{m[1]}-{m[2]}-{m[3]}", time_text, m[8].strip()
    m = _TS_SPLIT.match(s)
    if m and re.search(r"\d", m["date"]):
        return m["date"].strip().rstrip(","), m["time"], m["offset"] or ""
    return s, "", ""


_TIME = re.compile(
    r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([AaPp]\.?\s*[Mm]\.?)?$")


def parse_time(text: str, clock: str = "auto") -> time:
    """``09:05``, ``9:05:07``, ``9:05 PM``, ``09:05:07 a.m.``; ``clock`` is 24h, 12h or auto."""
    s = text.strip()
    m = _TIME.match(s)
    if not m:
        raise ValueError(f"'{text}' is not a time of day")
    hour, minute = int(m[1]), int(m[2])
    second = int(m[3] or 0)
    micro = int((m[4] or "")[:6].ljust(6, "0") or 0)
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




def decide_decimal(texts, fallback: str = ".") -> str:
    """The decimal mark of a file's number cells, decided from the values themselves.

    ``texts``: the distinct texts of one column. The mark is the last ``.`` or ``,`` in a
    number (``0,25`` and ``1.234,5`` say comma; ``1.5`` and ``1,234.5`` say point); values
    with a colon (``1:30``) say nothing. When the values say both or nothing,
    ``fallback`` is kept.
    """
    commas = points = 0
    for text in texts:
        t = text.strip()
        if not t or ":" in t or not any(ch.isdigit() for ch in t):
            continue
        last = max(t.rfind(","), t.rfind("."))
        if last < 0 or last + 1 >= len(t) or not t[last + 1].isdigit():
            continue
        if t[last] == ",":
            commas += 1
        else:
            points += 1
    if commas and not points:
        return ","
    if points and not commas:
        return "."
    return fallback


def unit_from_header(name: str) -> str | None:
    """The unit a duration column's name states (``Duration (h)``, ``Time Spent (seconds)``,
    ``Dauer (Sekunden)``, ``Minuten``), or None."""
    n = name.casefold()
    if re.search(r"\bsec|seconds|sekunden|segundos|secondes|secondi|seconden|\(s\)", n):
        return "seconds"
    if re.search(r"\bmin|minutes|minuten|minutos|minuti", n):
        return "minutes"
    if re.search(r"\(h\)|\bhours\b|\bhrs?\b|stunden|heures|horas|\bore\b|uren|decimal|dezimal|décimal", n):
        return "hours"
    return None
