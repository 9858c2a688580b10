"""Usage page: billable against free time over the period, by customer, staff and activity,
and what the daily rounding of ad-hoc work (R5) adds."""
from __future__ import annotations

import numpy as np
import pandas as pd

from billing.pages.common import Filters, as_datetime, bucket_start, period_days, total
from billing.customers import customer_labels
from billing.display import durations_text
from billing.reports import Books, report_minutes_text


def usage_over_time(books: Books, f: Filters, grain: str) -> pd.DataFrame:
    """Per bucket: billable, general (free), raw vs rounded ad-hoc, sessions, fees (R2, R4-R6)."""
    d = period_days(books, f)
    cols = ["billable_us", "general_us", "adhoc_raw_us", "adhoc_billed_us", "session_us", "fee_us"]
    g = d.assign(bucket=bucket_start(d["day"], grain)).groupby("bucket", as_index=False)[cols].sum()
    g["rounding_us"] = g["adhoc_billed_us"] - g["adhoc_raw_us"]
    return g.sort_values("bucket").reset_index(drop=True)


def usage_totals(books: Books, f: Filters) -> dict[str, int]:
    """The period's totals in µs: billable, general, ad-hoc raw and billed, session, fee,
    covered, uncovered, and rounding (billed − raw ad-hoc)."""
    d = period_days(books, f)
    out = {c: total(d, c) for c in ["billable_us", "general_us", "adhoc_raw_us", "adhoc_billed_us",
                                   "session_us", "fee_us", "covered_us", "uncovered_us"]}
    out["rounding_us"] = out["adhoc_billed_us"] - out["adhoc_raw_us"]
    return out


def usage_by_customer(books: Books, f: Filters, top_n: int = 10, names: dict | None = None) -> pd.DataFrame:
    """Billable and general per customer, the top N by billable and the rest as one row."""
    d = period_days(books, f)
    cols = ["billable_us", "general_us", "adhoc_raw_us", "adhoc_billed_us", "session_us", "fee_us"]
    g = d.groupby("customer_id", as_index=False)[cols].sum()
    g = g.sort_values(["billable_us", "general_us", "customer_id"], ascending=[False, False, True], kind="stable")
    top, rest = g.head(top_n), g.iloc[top_n:]
    if len(rest):
        other = {c: int(rest[c].sum()) for c in cols}
        other["customer_id"] = f"{len(rest)} other customer" + ("s" if len(rest) != 1 else "")
        top = pd.concat([top, pd.DataFrame([other])], ignore_index=True)
    top = top.reset_index(drop=True)
    names = names or {}
    top["customer"] = customer_labels(top["customer_id"], names)   # "C1014 · Acme" (billing.customers)
    return top


def usage_by(entries: pd.DataFrame, by: str) -> pd.DataFrame:
    """Logged minutes per staff member or activity, split by kind (not rounded: R5 rounds a
    customer's day, not a person's work). ``entries``: appdata.entry_usage's frame."""
    if entries.empty:
        return pd.DataFrame({by: pd.Series(dtype="str"), "adhoc_us": pd.Series(dtype="int64"),
                             "session_us": pd.Series(dtype="int64"), "general_us": pd.Series(dtype="int64"),
                             "total_us": pd.Series(dtype="int64"), "entries": pd.Series(dtype="int64")})
    p = entries.pivot_table(index=by, columns="kind", values="minutes_us", aggfunc="sum", fill_value=0)
    out = pd.DataFrame({by: p.index.astype(str)})
    for kind in ("adhoc", "session", "general"):
        out[f"{kind}_us"] = (p[kind].to_numpy() if kind in p.columns else np.zeros(len(p))).astype("int64")
    out["total_us"] = out["adhoc_us"] + out["session_us"] + out["general_us"]
    counts = entries.groupby(by)["entries"].sum()
    out["entries"] = out[by].map(counts).fillna(0).astype("int64")
    return out.sort_values(["total_us", by], ascending=[False, True], kind="stable").reset_index(drop=True)


# The download's columns in words (a manager's spreadsheet, not FORMATS.md's report).
USAGE_TABLE_WORDS = {"billable_us": "billable", "general_us": "free General Support", "adhoc_raw_us": "ad-hoc logged",
                     "adhoc_billed_us": "ad-hoc billed", "rounding_us": "added by rounding",
                     "session_us": "sessions", "fee_us": "cancellation fees"}


def usage_table(over_time: pd.DataFrame) -> pd.DataFrame:
    """The figures under the usage charts, for the CSV download: per bucket ("period starting",
    a date), each time as people read it ("12 h 5 min", billing.display) beside its exact
    minutes as 2-decimal text ("<name> (minutes)"), columns named in words (USAGE_TABLE_WORDS)."""
    out = pd.DataFrame({"period starting": [b.date().isoformat() for b in as_datetime(over_time["bucket"])]})
    for col, name in USAGE_TABLE_WORDS.items():
        out[name] = durations_text(over_time[col]) if len(over_time) else []
        out[f"{name} (minutes)"] = report_minutes_text(over_time[col]) if len(over_time) else []
    return out
