"""R1: business days and instants, the one home of the project's calendar.

A business day is a timestamp's calendar date in the policy's ``timezone``. A stored
timestamp is its wall time as written plus, when the export gave one, its UTC offset in
seconds (columns ``<name>`` and ``<name>_offset``): with an offset the instant decides,
without one the written date is the business day, and the instant is the wall time read
in the zone, a skipped or repeated wall time meaning its first occurrence (fold 0).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pandas as pd


def business_day_sql(ts: str, offset: str) -> str:
    """R1 in SQL: the business day (DATE) of the timestamp column ``ts`` with offset column
    ``offset`` (seconds east of UTC, NULL when the export wrote none). The zone is the
    expression's first ``?`` parameter.

    Written without an offset: the written date. With one: the instant's date in the zone.
    """
    return (f"CASE WHEN {offset} IS NULL THEN CAST({ts} AS DATE) ELSE CAST(timezone(?, "
            f"timezone('UTC', {ts} - to_seconds({offset}))) AS DATE) END")


def business_day_expr(alias: str, column: str, zone_param: str = "$tz") -> str:
    """R1 in SQL for the stored timestamp ``alias.column`` (and ``alias.column_offset``),
    the zone read from the named parameter ``zone_param`` (default ``$tz``)."""
    return business_day_sql(f"{alias}.{column}", f"{alias}.{column}_offset").replace("?", zone_param)


def to_utc(wall: pd.Series, offset_s: pd.Series, tz: str) -> pd.Series:
    """R1: the instant (naive UTC, datetime64[us]) of stored timestamps.

    ``wall``: wall times as written (datetime-like); ``offset_s``: their offsets in seconds
    east of UTC, NaN/None where the export wrote none. With an offset, the offset decides.
    Without one, the wall time is local in ``tz``; a wall time that a daylight-saving change
    skips or repeats means its first occurrence (fold 0), exactly as zoneinfo reads it.
    A missing wall time gives NaT.
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


def today_in(zone: str) -> date:
    """Today's business day in the IANA zone ``zone`` (R1): the default as-of date T."""
    return datetime.now(ZoneInfo(zone)).date()
