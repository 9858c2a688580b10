"""What every dashboard page shares: the sidebar's filters, the period arithmetic, hours for
people and chart axes, and CSV downloads (no Streamlit here).

The shared filters (``Filters``): the as-of date T, a period inside it, customers and
staff (empty = all). The staff filter applies to entry-level figures (logged minutes by
staff and activity, appointments by staff); billable minutes are a customer's (R5 rounds
a customer's whole day, across all staff), so those figures are not split by staff.
Minutes stay integer microseconds (``*_us``); hours become numbers only for chart axes
(``hours_float``) and text only through ``billing.display`` (whole minutes, half up).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from billing.policy import US_PER_HOUR
from billing.reports import Books
from billing.safe import safe_frame
from billing.display import duration_text

# --------------------------------------------------------------------------- filters
PERIODS = {
    "last_30_days": "Last 30 days",
    "this_month": "This month",
    "last_month": "Last month",
    "last_90_days": "Last 90 days",
    "this_year": "This year",
    "last_365_days": "Last 365 days",
    "custom": "Custom range",
}
GRAINS = {"day": "Day", "week": "Week", "month": "Month"}


@dataclass(frozen=True)
class Filters:
    """The sidebar's filters, shared by every page. Empty customers/staff = all."""
    as_of: date
    start: date
    end: date
    customers: tuple[str, ...] = ()
    staff: tuple[str, ...] = ()

    def __post_init__(self):
        if self.start > self.end:
            raise ValueError(f"period {self.start}..{self.end}: the first day is after the last day")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Filters":
        """The period of the same length just before this one (for trends)."""
        end = self.start - timedelta(days=1)
        return Filters(self.as_of, end - timedelta(days=self.days - 1), end, self.customers, self.staff)

    def key(self) -> tuple:
        """Small scalars for cache keys."""
        return (self.as_of.isoformat(), self.start.isoformat(), self.end.isoformat(),
                self.customers, self.staff)


def period_bounds(preset: str, as_of: date, custom: tuple[date, date] | None = None) -> tuple[date, date]:
    """First and last day of a named period relative to T; the last day is never after T."""
    if preset == "last_30_days":
        return as_of - timedelta(days=29), as_of
    if preset == "last_90_days":
        return as_of - timedelta(days=89), as_of
    if preset == "last_365_days":
        return as_of - timedelta(days=364), as_of
    if preset == "this_month":
        return as_of.replace(day=1), as_of
    if preset == "last_month":
        end = as_of.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if preset == "this_year":
        return as_of.replace(month=1, day=1), as_of
    if preset == "custom":
        if not custom or len(custom) != 2 or custom[0] is None or custom[1] is None:
            return as_of - timedelta(days=29), as_of
        start, end = min(custom), max(custom)
        end = min(end, as_of)
        return min(start, end), end
    raise ValueError(f"unknown period {preset!r} (known: {', '.join(PERIODS)})")


# --------------------------------------------------------------------------- helpers
def hours_float(us) -> np.ndarray | float:
    """Hours as floats, for chart axes only (never summed back into a figure)."""
    if np.isscalar(us):
        return int(us) / US_PER_HOUR
    return np.asarray(us, dtype="int64") / US_PER_HOUR


def hours_text(us) -> list[str] | str:
    """The app's one style for hours ("1 h 30 min", whole minutes: billing.display.duration_text),
    for a figure or a column."""
    if np.isscalar(us):
        return duration_text(int(us))
    return [duration_text(int(v)) for v in np.asarray(us, dtype="int64")]


def as_datetime(values) -> pd.Series:
    """Dates or datetimes as a datetime64 Series (as they are when they already are)."""
    s = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    return pd.to_datetime(s)


def in_period(days, start: date, end: date) -> np.ndarray:
    """A boolean mask of the days (dates or datetimes) from ``start`` through ``end``."""
    d = as_datetime(days)
    return ((d >= pd.Timestamp(start)) & (d <= pd.Timestamp(end))).to_numpy()


def of_customers(frame: pd.DataFrame, customers: tuple[str, ...]) -> pd.DataFrame:
    """The rows of ``frame`` (with customer_id) of the chosen customers; all when none are chosen."""
    if not customers:
        return frame
    return frame[frame["customer_id"].isin(list(customers))]


def bucket_start(days, grain: str) -> pd.Series:
    """The first day of each date's day/week (Monday)/month bucket, as datetime64."""
    d = as_datetime(days).dt.normalize()
    if grain == "day":
        return d
    if grain == "week":
        return d - pd.to_timedelta(d.dt.day_of_week, unit="D")
    if grain == "month":
        return d - pd.to_timedelta(d.dt.day - 1, unit="D")
    raise ValueError(f"unknown grain {grain!r} (known: day, week, month)")


def period_days(books: Books, f: Filters) -> pd.DataFrame:
    """The customer-days of the period for the chosen customers (R1 business days ≤ T)."""
    d = of_customers(books.days, f.customers)
    return d[in_period(d["day"], f.start, f.end)]


def total(frame: pd.DataFrame, col: str) -> int:
    """The sum of an integer column as an int (0 for an empty frame)."""
    return int(frame[col].sum()) if len(frame) else 0


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A dashboard download, for a spreadsheet: UTF-8 with a BOM (so Excel shows accents and
    CJK names instead of mojibake), and text that a spreadsheet could run as a formula
    neutralised (billing.safe)."""
    return safe_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


# --------------------------------------------------------------------------- links
# A shared link carries ids, never labels (a customer's name can change; "This year" is a
# word of the page, not of the link), and the as-of date always, so that it shows the same
# figures on another day. Labels of links written before (a period's name, "C1014 · Acme")
# are still read.
def date_param(values: list[str]) -> date | None:
    """A date from a link ("2026-11-29"), None when absent or not a date."""
    try:
        return date.fromisoformat(values[-1].strip()) if values else None
    except ValueError:
        return None


def choice_param(values: list[str], choices: dict[str, str]) -> str | None:
    """A choice's id from a link: its id ("this_year") or, from an older link, its label
    ("This year"); None when absent or unknown. ``choices``: id → label."""
    if not values:
        return None
    text = values[-1].strip()
    if text in choices:
        return text
    by_label = {label.casefold(): key for key, label in choices.items()}
    return by_label.get(text.casefold())


def period_param(values: list[str]) -> str | None:
    """A period preset's id from a link (``choice_param`` of PERIODS)."""
    return choice_param(values, PERIODS)


def range_param(values: list[str]) -> tuple[date, date] | None:
    """A custom period from a link, "2026-09-01..2026-09-30" (also two values, or one day);
    None when absent or not dates."""
    parts = [p for v in values for p in v.replace("..", ",").split(",") if p.strip()]
    try:
        days = [date.fromisoformat(p.strip()) for p in parts]
    except ValueError:
        return None
    if not days or len(days) > 2:
        return None
    return min(days), max(days)


def range_text(first: date, last: date) -> str:
    """A period as a link writes it: "2026-09-01..2026-09-30"."""
    return f"{first.isoformat()}..{last.isoformat()}"


def ids_param(values: list[str], known: list[str]) -> tuple[list[str], list[str]]:
    """Ids from a link (repeated parameter) → (the known ids, in the link's order without
    repeats; the values that name none). A label "C1014 · Acme" of an older link counts as
    its id, whatever the name now is (a rename does not break a link)."""
    from billing.customers import SEPARATOR

    known_set, found, unknown = set(known), [], []
    for value in values:
        text = value.strip()
        if text not in known_set and SEPARATOR.strip() in text:
            text = text.split(SEPARATOR.strip(), 1)[0].strip()
        if text in known_set:
            if text not in found:
                found.append(text)
        elif text:
            unknown.append(value)
    return found, unknown


IMPORT_TIMES = ("imported", "undone")   # import_history's time columns, in the policy's zone


def import_history(imports: pd.DataFrame, zone: str) -> pd.DataFrame:
    """The import log (``imports`` table rows) for people: the import, when it was imported and
    when undone (beside it, so an undone import shows at once), both in the policy's time zone
    ``zone`` (the database records UTC; the page says the zone: ``IMPORT_TIMES``), the source,
    the period as dates, and the counts."""
    from billing.display import zone_datetime_text

    out = pd.DataFrame({"import_id": imports["import_id"].astype("int64")})
    out["imported"] = [zone_datetime_text(v, zone) for v in imports["imported_at"]]
    out["undone"] = [zone_datetime_text(v, zone) for v in imports["undone_at"]]
    out["source"] = imports["source"]
    for column in ("period_from", "period_to"):
        if column in imports:
            out[column] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in imports[column]]
    for column in ("added", "replaced", "removed", "unchanged", "rejected"):
        out[column] = imports[column]
    return out.reset_index(drop=True)


def undoable(imports: pd.DataFrame) -> list[int]:
    """The imports not undone yet, newest first (the Undo selector's choices)."""
    live = imports[imports["undone_at"].isna()].sort_values("import_id", ascending=False)
    return [int(i) for i in live["import_id"]]


def data_text(origin: tuple, zone: str) -> str:
    """The sidebar's line on the data (billing.appdata.data_origin), for people: "Data from the
    import of 29 Nov 2026 23:45 EST (4 files from demo_export)", and the newest change since
    ("; adjustment 3 recorded 30 Nov 2026 09:12 EST"); "No data imported yet" without one.
    Times in the policy's zone ``zone``, with its abbreviation."""
    from pathlib import PurePath

    from billing.display import day_words

    def when(at) -> str:
        ts = pd.Timestamp(at)
        ts = (ts.tz_localize("UTC") if ts.tzinfo is None else ts).tz_convert(zone)
        return f"{day_words(ts)} {ts:%H:%M %Z}"

    imported, change = origin
    if imported is None:
        text = "No data imported yet"
    else:
        _, at, source, files = imported
        name = PurePath(source).name or source
        one_file = files == 1 and "." in name   # a tracker's file (toggl.csv), not a folder
        what = name if one_file else f"{files} file{'' if files == 1 else 's'} from {name}"
        text = f"Data from the import of {when(at)} ({what})"
    if change is not None:
        kind, number, at = change
        said = {"undo": f"import {number} undone", "adjustment": f"adjustment {number} recorded",
                "close": "books closed", "reopen": "books reopened"}.get(kind, kind)
        text += f"; since then, {said} {when(at)}"
    return text
