"""Adjustments page (R10): what to offer when recording one, the list for people, and the links
other pages put beside a fee, a block or an entry ("Waive this fee", "Extend this block",
"Exclude this entry") that open this page with the kind and the target filled in.

Recording and voiding are billing.adjustments'; this module only prepares what the page shows.
"""
from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import pandas as pd

from billing import adjustments as adj
from billing.display import block_text, code_text, date_text, datetime_text, duration_text, exact_duration_text
from billing.pages.common import Filters, csv_bytes, of_customers
from billing.reports import Books

# The page's address (st.Page names pages/adjustments.py "adjustments"); links are relative to
# the page they are on, so they work under any base URL.
PAGE = "adjustments"
TARGET_LABELS = {"extend": "Block", "waive": "Appointment with a fee", "exclude": "Time entry",
                 "credit": "Customer", "charge": "Customer"}
LINK_TEXT = {"extend": "Extend this block", "waive": "Waive this fee", "exclude": "Exclude this entry"}
ENTRY_OPTIONS = 2000   # the newest entries of the period offered in the list; any other id can be typed
# The reason of an adjustment is printed on the customer's statement, in the customer's copy too
# (billing.statement: adjustments are lines of their own, with their reasons).
REASON_SHOWN = ("The reason is printed on the customer's statement (the customer's copy too), beside the "
                "correction: write it for the customer to read.")


def customer_text(cid: str, names: dict | None) -> str:
    """"acme · Acme Ltd", or the id alone when the data names no one."""
    name = (names or {}).get(cid)
    return f"{cid} · {name}" if name else cid


# --------------------------------------------------------------------------- what can be adjusted
def block_options(books: Books, f: Filters, names: dict | None = None) -> dict[str, str]:
    """extend: every block as of T of the filters' customers (used up and forfeited ones too:
    an extension can give a forfeiture back), purchase_id → "P2 · acme · Acme Ltd · last day
    2026-05-02 · 30 min left (active)"; by customer, then last day."""
    b = of_customers(books.blocks, f.customers).sort_values(["customer_id", "expires_on", "purchase_id"], kind="stable")
    kinds = b["kind"] if "kind" in b else [None] * len(b)
    return {pid: f"{pid}{'' if block_text(pid, kind) == pid else ' · ' + block_text(pid, kind)} · "
                 f"{customer_text(cid, names)} · last day {date_text(last)} · "
                 f"{duration_text(left)} left ({code_text(status)})"
            for pid, kind, cid, last, left, status in zip(b["purchase_id"], kinds, b["customer_id"], b["expires_on"],
                                                           b["remaining_us"], b["status"])}


def fee_options(books: Books, f: Filters, names: dict | None = None) -> dict[str, str]:
    """waive: the appointments dated ≤ T of the filters' customers that bill a fee (R6),
    appointment_id → "C1 · acme · Acme Ltd · 2026-01-14 · late cancellation, fee 30 min";
    newest first."""
    a = of_customers(books.appointments, f.customers)
    a = a[a["fee_us"] > 0].sort_values(["day", "appointment_id"], ascending=[False, True], kind="stable")
    return {aid: f"{aid} · {customer_text(cid, names)} · {date_text(day)} · {kind}, fee {duration_text(fee)}"
            for aid, cid, day, kind, fee in zip(a["appointment_id"], a["customer_id"], a["day"], a["fee_kind"],
                                                a["fee_us"])}


def entry_options(entries: pd.DataFrame, names: dict | None = None) -> dict[str, str]:
    """exclude: entries (appdata.period_entries) → "e1 · acme · Acme Ltd · 2026-01-12 09:00 ·
    Ann · 5 min · setup", in the frame's order."""
    return {eid: " · ".join([eid, customer_text(cid, names), datetime_text(at), staff, duration_text(us)]
                            + ([activity] if isinstance(activity, str) and activity else []))
            for eid, cid, at, staff, us, activity in zip(entries["entry_id"], entries["customer_id"],
                                                          entries["started_at"], entries["staff"],
                                                          entries["minutes_us"], entries["activity"])}


def customer_options(customers: pd.DataFrame) -> dict[str, str]:
    """credit, charge: every customer (customers_frame) → "acme · Acme Ltd"."""
    return {cid: customer_text(cid, {cid: name}) for cid, name in zip(customers["customer_id"],
                                                                      customers["customer_name"])}


def void_options(history: pd.DataFrame, names: dict | None = None) -> dict[int, str]:
    """The adjustments that can be voided (not voids, not voided yet), newest first: number →
    "3 · extend block P2 to 2026-06-30 · acme · Acme Ltd · dated 2026-05-01 · holiday"."""
    h = history[(history["kind"] != "void") & history["voided_by"].isna()].sort_values(
        "adjustment_id", ascending=False)
    return {int(n): f"{int(n)} · {adj.what_text(k, t, d, m, exact_duration_text)} · {customer_text(c, names)} · "
                    f"dated {date_text(on)} · {reason}"
            for n, k, t, d, m, c, on, reason in zip(h["adjustment_id"], h["kind"], h["target"], h["to_day"],
                                                    h["minutes_us"], h["customer_id"], h["on_day"], h["reason"])}


def target_text(found: adj.Target, names: dict | None = None) -> str:
    """The chosen target in words, under the form: "The fee of appointment C1 of acme · Acme
    Ltd.", "Block P2, last day 2026-05-02, of acme · Acme Ltd.", "Customer acme · Acme Ltd."."""
    who = customer_text(found.customer_id, names)
    if found.kind in ("credit", "charge"):
        return f"Customer {who}."
    return f"{found.text[0].upper()}{found.text[1:]}, of {who}."


# --------------------------------------------------------------------------- the list
def listing(history: pd.DataFrame, as_of: date, names: dict | None = None, kinds: tuple[str, ...] = (),
            customers: tuple[str, ...] = (), hide_voided: bool = False) -> pd.DataFrame:
    """The adjustments on record for people (billing.adjustments.people_frame, with whether
    reports as of T apply each), newest first, of the chosen kinds and customers (empty:
    all); ``hide_voided``: without voided adjustments and voids."""
    h = of_customers(history, customers)
    if kinds:
        h = h[h["kind"].isin(list(kinds))]
    if hide_voided:
        h = h[(h["kind"] != "void") & h["voided_by"].isna()]
    h = h.sort_values("adjustment_id", ascending=False)
    return adj.people_frame(h, names, as_of).reset_index(drop=True)


def listing_csv(history: pd.DataFrame) -> bytes:
    """The list as ``python -m billing adjustments --format csv`` writes it (exact minutes,
    UTC instants), formula-safe for a spreadsheet (billing.safe)."""
    return csv_bytes(adj.listing(history))


def totals(history: pd.DataFrame, as_of: date) -> dict[str, int]:
    """The page's headline as of T: applying (adjustments reports as of T apply), later (dated
    after T), credit_us and charge_us (the minutes of the credits and charges applying)."""
    states = [adj.state_text(k, d, v, vd, as_of) for k, d, v, vd in
              zip(history["kind"], history["on_day"], history["voided_by"], history["voided_on"])]
    applying = history[[s == "applies" for s in states]]
    return {"applying": len(applying), "later": sum(s.endswith("(dated later)") for s in states),
            "credit_us": int(applying.loc[applying["kind"] == "credit", "minutes_us"].sum()),
            "charge_us": int(applying.loc[applying["kind"] == "charge", "minutes_us"].sum())}


# --------------------------------------------------------------------------- links from other pages
def link(kind: str, target: str) -> str:
    """The address of this page with ``kind`` and ``target`` filled in, relative to the page
    the link is on: "adjustments?kind=waive&target=C1" (the id URL-encoded)."""
    return f"{PAGE}?{urlencode({'kind': kind, 'target': target})}"


def waived_as_of(history: pd.DataFrame, as_of: date) -> set[str]:
    """The appointments a waiver applies to as of T (R10; not voided by then): a fee of a closed
    day keeps what was closed, but its waiver recorded since must not be offered again."""
    w = history[history["kind"] == "waive"]
    return {t for t, k, d, v, vd in zip(w["target"], w["kind"], w["on_day"], w["voided_by"], w["voided_on"])
            if adj.state_text(k, d, v, vd, as_of) == "applies"}


def links(kind: str, ids, where=None) -> list[str]:
    """A link to record ``kind`` for each id of ``ids`` (``link``); '' (no link) where ``where``
    is False. For a table's last column, shown as ``LINK_TEXT[kind]`` (pages/_ui.linked_table)."""
    ids = [str(i) for i in ids]
    keep = [True] * len(ids) if where is None else [bool(w) for w in where]
    return [link(kind, i) if k else "" for i, k in zip(ids, keep)]


def recorded_text(number: int, history: pd.DataFrame, names: dict | None = None) -> str:
    """What the page says once an adjustment is recorded: "Adjustment 4 recorded: waive the fee
    of appointment C1 for acme · Acme Ltd, dated 2026-05-01; reports as of that day or later
    apply it." """
    row = history.set_index("adjustment_id").loc[number]
    what = adj.what_text(row["kind"], row["target"], row["to_day"], row["minutes_us"], exact_duration_text)
    effect = ("from then on it no longer applies" if row["kind"] == "void"
              else "reports as of that day or later apply it")
    return (f"Adjustment {number} recorded: {what} for {customer_text(row['customer_id'], names)}, dated "
            f"{date_text(row['on_day'])}; {effect}.")

