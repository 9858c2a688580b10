"""R12: closed periods. Closing the books through a day D freezes every figure of the days
≤ D as it was at that moment; what later data, adjustments or policy changes would alter in
a closed day posts on D + 1 instead, labelled with the day it belongs to.

Stored beside the imports (nothing imported is touched):

- ``closings``: one row per close or reopen, in order (kind, day, who, when, why, policy);
- the snapshot of each close, computed as of D with the data, adjustments and policy of that
  moment: ``closed_days`` (the daily rows ≤ D, late rows included), ``closed_truth`` (each
  closed day's figures as computed then, which later changes are measured against),
  ``closed_blocks`` (each block's use and rollover through D), ``closed_draws`` and
  ``closed_fees`` (the appointments that billed a fee or were cancelled, ≤ D), and
  ``closed_entries`` (the entries of the days this close froze, as classified then: what a
  statement of a closed period explains its figures with).

Which close is in force: the records are read in order; a close through D needs D later
than the close in force (closing again moves D later); a reopen from X undoes every close
through X or later, so the close in force becomes the latest earlier one (or none). A reopen
is recorded and recomputes: reports read the snapshot of the close in force.

How later changes post (R12), in ``billing.reports.compute_books``: each closed day's
figures are computed again; where the billable total differs from the one recorded at the
close, the difference posts on D + 1 — a positive one as a late row (billed as is, never
rounded again, drawn like a fee), a negative one as a credit block
``late~<customer>~<day>~<D + 1>`` bought on D + 1. Blocks keep what they had left at the
end of D; a purchase dated ≤ D that was not there at the close counts from D + 1 (its
expires_on still from its own day). Minutes owed at the close (R14) stay uncovered on their
closed day: a later purchase does not pay them (they are invoiced as overage).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from billing.errors import HourbankError
from billing.policy import Policy
from billing.rules import settled
from billing.store import open_db, transaction

FIGURES = ["adhoc_raw_us", "adhoc_billed_us", "session_us", "fee_us", "charged_us", "general_us", "billable_us"]
# The parts of a day the statement explains besides FIGURES (R4: logged session time and the
# at_least_booked top-up), recorded so that a closed day is explained as it was.
PARTS = ["session_logged_us", "top_up_us"]
DAY_COLUMNS = ["customer_id", "day", "late_for", *FIGURES, *PARTS, "covered_us", "uncovered_us"]
BLOCK_COLUMNS = ["purchase_id", "customer_id", "kind", "source", "purchased_on", "expires_on", "base_expires_on",
                 "purchased_utc", "purchased_us", "used_us", "rolled_over_us"]
FEE_COLUMNS = ["appointment_id", "customer_id", "day", "status", "cancelled_by", "fee_kind", "fee_us", "notice_us",
               "waived_by", "scheduled_start", "scheduled_start_offset", "cancelled_at", "cancelled_at_offset", "staff"]
KIND_LATE_CREDIT = "late_credit"
LATE_PREFIX = "late~"


class ClosingError(HourbankError):
    pass


@dataclass
class Snapshot:
    """The close in force: through D, and what was frozen (frames as stored; dates as
    datetime64 for days, dates for blocks)."""
    closing_id: int
    through: date
    days: pd.DataFrame
    truth: pd.DataFrame
    blocks: pd.DataFrame
    draws: pd.DataFrame
    fees: pd.DataFrame


def _has_table(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'closings'")
                .fetchone()[0])


def history(con) -> pd.DataFrame:
    """Every close and reopen, in order: closing_id, kind, day, recorded_at (UTC), recorded_by,
    reason, and in_force (whether this close is the one reports use). Empty when none."""
    cols = ["closing_id", "kind", "day", "recorded_at", "recorded_by", "reason", "in_force"]
    if not _has_table(con):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    rows = con.execute("SELECT closing_id, kind, day, recorded_at, recorded_by, reason FROM closings "
                       "ORDER BY closing_id").df()
    stack = _stack(rows)
    rows["in_force"] = rows["closing_id"] == (stack[-1][0] if stack else -1)
    return rows[cols]


def _stack(rows: pd.DataFrame) -> list[tuple[int, date]]:
    """The closes still standing after the records in order: [(closing_id, through)]."""
    stack: list[tuple[int, date]] = []
    for r in rows.itertuples():
        day = pd.Timestamp(r.day).date()
        if r.kind == "close":
            stack.append((int(r.closing_id), day))
        else:
            while stack and stack[-1][1] >= day:
                stack.pop()
    return stack


def standing(con) -> list[tuple[int, date]]:
    """The closes in force, oldest first: [(closing_id, D)], each later than the one before; the
    days of each are those after the one before it, through its D. Empty when the books are open."""
    if not _has_table(con):
        return []
    return _stack(con.execute("SELECT closing_id, kind, day FROM closings ORDER BY closing_id").df())


def in_force(con) -> tuple[int, date] | None:
    """(closing_id, D) of the close in force, or None when the books are open."""
    if not _has_table(con):
        return None
    stack = _stack(con.execute("SELECT closing_id, kind, day FROM closings ORDER BY closing_id").df())
    return stack[-1] if stack else None


def snapshot(con, customer: str | None = None) -> Snapshot | None:
    """The frozen figures of the close in force (of one customer, if given), or None."""
    found = in_force(con)
    if found is None:
        return None
    cid, through = found
    where, params = ("AND customer_id = ?", [cid, customer]) if customer is not None else ("", [cid])

    def read(table, columns, order):
        # A column this version added to the snapshot reads as empty from a close made before it.
        have = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                          [table]).fetchall()}
        shown = [c if c in have else f"NULL AS {c}" for c in columns]
        # Through Arrow: text stays Arrow-backed (.df() makes a Python string of every value).
        return settled(con).sql(f"SELECT {', '.join(shown)} FROM {table} WHERE closing_id = ? {where} ORDER BY {order}",
                                params=params).to_arrow_table().to_pandas(date_as_object=False)

    days = read("closed_days", DAY_COLUMNS, "customer_id, day, late_for NULLS FIRST")
    for c in ("day", "late_for"):
        days[c] = pd.to_datetime(days[c]).astype("datetime64[us]")
    for c in FIGURES + PARTS + ["covered_us", "uncovered_us"]:
        days[c] = days[c].astype("int64")
    truth = read("closed_truth", ["customer_id", "day", *FIGURES], "customer_id, day")
    truth["day"] = pd.to_datetime(truth["day"]).astype("datetime64[us]")
    blocks = read("closed_blocks", BLOCK_COLUMNS, "customer_id, expires_on, purchased_utc, purchase_id")
    for c in ("purchased_on", "expires_on", "base_expires_on"):
        blocks[c] = pd.to_datetime(blocks[c]).dt.date
    blocks["purchased_utc"] = pd.to_datetime(blocks["purchased_utc"]).astype("datetime64[us]")
    blocks["source"] = blocks["source"].astype(object).where(blocks["source"].notna(), None)
    draws = read("closed_draws", ["customer_id", "day", "purchase_id", "drawn_us", "paid_on"], "customer_id, day")
    for c in ("day", "paid_on"):
        draws[c] = pd.to_datetime(draws[c]).astype("datetime64[us]")
    fees = read("closed_fees", FEE_COLUMNS, "customer_id, day, appointment_id")
    fees["day"] = pd.to_datetime(fees["day"]).astype("datetime64[us]")
    fees["waived_by"] = fees["waived_by"].astype("Int64")
    fees["notice_us"] = fees["notice_us"].astype("Int64")
    for c in ("scheduled_start", "cancelled_at"):   # the times as written, for a statement's fees
        fees[c] = pd.to_datetime(fees[c]).astype("datetime64[us]")
    for c in ("scheduled_start_offset", "cancelled_at_offset"):
        fees[c] = fees[c].astype("Int32")
    return Snapshot(cid, through, days, truth, blocks, draws, fees)


# --------------------------------------------------------------------------- recording
def close(db_path, through: date, policy: Policy, by: str, reason: str | None = None,
          today: date | None = None) -> int:
    """Close the books through ``through`` (R12): compute the books as of that day (with the
    close in force, if any) and record them; returns the closing's id.

    Raises ClosingError when the day is not later than the close in force, or is after today
    (in the policy's zone: a day still going on cannot be closed), or ``by`` is blank."""
    from billing.calendar import today_in
    from billing.reports import compute_books
    from billing.store import bump_data_version, data_version

    if not (by or "").strip():
        raise ClosingError("closing needs the name of who closes (--by).")
    today = today or today_in(policy.timezone)
    if through >= today:
        raise ClosingError(f"cannot close through {through}: only days before today ({today}) can be closed.")
    with open_db(db_path) as con:
        current = in_force(con)
        if current is not None and through <= current[1]:
            raise ClosingError(f"the books are already closed through {current[1]}; a close must be later "
                               f"(to change closed days, reopen first: python -m billing reopen --from DAY).")
        books = compute_books(con, policy, through)
        version = data_version(con)
        with transaction(con):
            cid = con.execute("SELECT coalesce(max(closing_id), 0) + 1 FROM closings").fetchone()[0]
            con.execute("INSERT INTO closings VALUES (?, 'close', ?, ?, ?, ?, ?, ?)",
                        [cid, through, datetime.now(timezone.utc).replace(tzinfo=None), by.strip(), reason,
                         json.dumps(policy.as_dict(), sort_keys=True), version])
            _write(con, cid, books)
            _write_entries(con, cid, books, through, policy)
            bump_data_version(con)   # the books read differently from now on: caches keyed on it must miss
    return cid


def posted_after_close(con, policy: Policy, as_of: date) -> pd.DataFrame:
    """What the close in force already posts on its first open day D + 1 (R12), as of ``as_of``:
    the changes to closed days that the close did not contain, such as an adjustment dated
    after D into a closed day (a close is computed as of D, R10) or data imported since.
    One row per customer and closed day: customer_id, late_for (date), posted_on (date, D + 1),
    billable_us (int64: > 0 billed on D + 1, < 0 a credit block bought on D + 1). Empty when
    the books are open or nothing changed."""
    from billing.display import late_credit_days
    from billing.reports import compute_books

    found = in_force(con)
    if found is None or as_of <= found[1]:
        return pd.DataFrame({"customer_id": pd.Series(dtype="str"), "late_for": pd.Series(dtype=object),
                             "posted_on": pd.Series(dtype=object), "billable_us": pd.Series(dtype="int64")})
    books = compute_books(con, policy, as_of)
    rows = books.days[books.days["late_for"].notna()]
    billed = pd.DataFrame({"customer_id": rows["customer_id"].astype(str).to_numpy(),
                           "late_for": pd.to_datetime(rows["late_for"]).dt.date.to_numpy(),
                           "posted_on": pd.to_datetime(rows["day"]).dt.date.to_numpy(),
                           "billable_us": rows["billable_us"].astype("int64").to_numpy()})
    credits = books.blocks[books.blocks["kind"] == KIND_LATE_CREDIT]
    days = [late_credit_days(p) for p in credits["purchase_id"]]   # (late_for, posted) of late~C~day~D+1
    credited = pd.DataFrame({"customer_id": credits["customer_id"].astype(str).to_numpy(),
                             "late_for": [date.fromisoformat(d) for d, _ in days],
                             "posted_on": [date.fromisoformat(p) for _, p in days],
                             "billable_us": -credits["purchased_us"].astype("int64").to_numpy()})
    out = pd.concat([billed, credited], ignore_index=True)
    return out.sort_values(["customer_id", "late_for"], kind="stable").reset_index(drop=True)


def posted_after_close_text(posted: pd.DataFrame, through: date, names: dict[str, str]) -> list[str]:
    """``posted_after_close`` for the manager: a heading line ("1 change to closed days, dated
    after 2026-01-31, posts on 2026-02-01 already:", dates ISO as ``closings`` writes them) and
    a line per customer and day; [] when empty."""
    from billing.customers import customer_label
    from billing.display import date_text, duration_text

    if not len(posted):
        return []
    one = len(posted) == 1
    lines = [f"{len(posted)} change{'' if one else 's'} to closed days, dated after {date_text(through)}, "
             f"post{'s' if one else ''} on {date_text(posted['posted_on'].iloc[0])} already:"]
    for r in posted.itertuples():
        what = (f"+{duration_text(r.billable_us)} billed" if r.billable_us > 0
                else f"a credit of {duration_text(-r.billable_us)}")
        lines.append(f"{customer_label(r.customer_id, names)}: {what} for {date_text(r.late_for)}")
    return lines


def reopen(db_path, from_day: date, by: str, policy: Policy, reason: str | None = None) -> int:
    """Reopen the books from ``from_day`` (R12): every close through that day or later stops
    applying (they stay on record); returns the record's id. Raises ClosingError when the books
    are not closed through ``from_day``."""
    if not (by or "").strip():
        raise ClosingError("reopening needs the name of who reopens (--by).")
    with open_db(db_path) as con:
        current = in_force(con)
        if current is None or current[1] < from_day:
            shown = f"closed only through {current[1]}" if current else "not closed"
            raise ClosingError(f"nothing to reopen from {from_day}: the books are {shown}.")
        from billing.store import bump_data_version, data_version

        with transaction(con):
            cid = con.execute("SELECT coalesce(max(closing_id), 0) + 1 FROM closings").fetchone()[0]
            con.execute("INSERT INTO closings VALUES (?, 'reopen', ?, ?, ?, ?, ?, ?)",
                        [cid, from_day, datetime.now(timezone.utc).replace(tzinfo=None), by.strip(), reason,
                         json.dumps(policy.as_dict(), sort_keys=True), data_version(con)])
            bump_data_version(con)   # a reopen recomputes the days it reopens (R12)
    return cid


def _write(con, cid: int, books) -> None:
    """The snapshot of ``books`` (as of D) under closing ``cid``."""
    d = books.days.copy()
    if "late_for" not in d:
        d["late_for"] = pd.Series(pd.NaT, index=d.index, dtype="datetime64[us]")
    for c in FIGURES + PARTS + ["covered_us", "uncovered_us"]:
        if c not in d:
            d[c] = 0
    days = d[DAY_COLUMNS]
    t = books.truth if books.truth is not None else d  # None: no close before, the days are the truth
    truth = t.assign(**{c: 0 for c in FIGURES if c not in t})[["customer_id", "day", *FIGURES]]
    b = books.blocks.copy()
    for c, default in (("source", None), ("base_expires_on", None), ("rolled_over_us", 0)):
        if c not in b:
            b[c] = default
    blocks = b[BLOCK_COLUMNS]
    draws = books.draws[["customer_id", "day", "purchase_id", "drawn_us", "paid_on"]]
    a = books.appointments.copy()
    if "waived_by" not in a:
        a["waived_by"] = pd.array([pd.NA] * len(a), dtype="Int64")
    for c in FEE_COLUMNS:
        if c not in a:
            a[c] = None
    fees = a[FEE_COLUMNS]
    for table, frame in (("closed_days", days), ("closed_truth", truth), ("closed_blocks", blocks),
                         ("closed_draws", draws), ("closed_fees", fees)):
        name = f"snap_{table}"
        con.register(name, frame)
        try:
            con.execute(f"INSERT INTO {table} SELECT {cid}, * FROM {name}")
        finally:
            con.unregister(name)


ENTRY_COLUMNS = ["customer_id", "day", "entry_id", "started_at", "started_at_offset", "staff", "activity", "tier",
                 "minutes_us", "customer_requested", "appointment_id", "notes", "kind", "hold_reason"]


def _write_entries(con, cid: int, books, through: date, policy: Policy) -> None:
    """The entries of the days this close freezes that no earlier close froze (after the close
    in force, through D), as classified then (R2, R4, R10: an entry excluded then is kind
    'excluded'): what a statement of a closed period explains its frozen figures with."""
    from billing import adjusting, rules

    after = books.closed_through or date(1, 1, 1)
    excluded = adjusting.excluded_entries(books.adjustments) if books.adjustments is not None else []
    sql = rules.classified_entries_sql("AND e.day > $after", excluded=excluded)
    con.execute(f"INSERT INTO closed_entries SELECT {cid}, {', '.join(ENTRY_COLUMNS)} FROM ({sql})",
                {"tz": policy.timezone, "asof": through, "after": after})


def record(con, closing_id: int) -> dict:
    """One close or reopen as recorded: closing_id, kind, day, recorded_at (UTC), recorded_by,
    reason, policy (billing.policy.Policy it was made under), data_version."""
    from billing.policy import validate_policy

    row = con.execute("SELECT closing_id, kind, day, recorded_at, recorded_by, reason, policy, data_version "
                      "FROM closings WHERE closing_id = ?", [closing_id]).fetchone()
    if row is None:
        raise ClosingError(f"no closing {closing_id} on record.")
    keys = ["closing_id", "kind", "day", "recorded_at", "recorded_by", "reason", "policy", "data_version"]
    out = dict(zip(keys, row))
    out["policy"] = validate_policy(json.loads(out["policy"]), source=f"closing {closing_id}")
    return out


def closed_entries(con, customer: str, first: date, last: date) -> pd.DataFrame:
    """The customer's entries of the closed days first..last as the closes in force froze them
    (each day from the close that froze it), in day, start and id order: ENTRY_COLUMNS, day as
    a date. Empty when the books are not closed (or those days are not)."""
    has = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'closed_entries'").fetchone()[0]
    if not _has_table(con) or not has:   # no close, or closes made before entries were kept
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ENTRY_COLUMNS})
    stack = _stack(con.execute("SELECT closing_id, kind, day FROM closings ORDER BY closing_id").df())
    ids = [cid for cid, _ in stack] or [-1]
    df = con.execute(f"""SELECT {', '.join(ENTRY_COLUMNS)} FROM closed_entries
                         WHERE closing_id IN ({', '.join(str(int(i)) for i in ids)}) AND customer_id = ?
                           AND day BETWEEN ? AND ? ORDER BY day, started_at, entry_id""",
                     [customer, first, last]).df()
    df["day"] = pd.to_datetime(df["day"]).dt.date
    return df


# --------------------------------------------------------------------------- the books with a close
def frozen_books(snap: Snapshot, as_of: date) -> dict:
    """The books as of T ≤ D: the snapshot's figures, cut at T (rows, blocks and draws dated
    after T left out; a draw paid after T, R14, no longer covers its day). Returns the parts
    of reports.Books: days, blocks (before block_status), draws, appointments."""
    t = pd.Timestamp(as_of)
    days = snap.days[snap.days["day"] <= t].reset_index(drop=True)
    draws = snap.draws[(snap.draws["paid_on"] <= t)].reset_index(drop=True)
    later = snap.draws[(snap.draws["day"] <= t) & (snap.draws["paid_on"] > t)]
    if len(later):
        unpaid = later.groupby(["customer_id", "day"])["drawn_us"].sum()
        key = pd.MultiIndex.from_frame(days[["customer_id", "day"]])
        less = unpaid.reindex(key, fill_value=0).to_numpy() * days["late_for"].isna().to_numpy()
        days["covered_us"] = days["covered_us"] - less
        days["uncovered_us"] = days["uncovered_us"] + less
    blocks = snap.blocks[pd.to_datetime(snap.blocks["purchased_on"]) <= t].copy()
    rolled_yet = pd.to_datetime(blocks["expires_on"]) < t
    blocks["rolled_over_us"] = np.where(rolled_yet, blocks["rolled_over_us"], 0).astype("int64")
    blocks = blocks.reset_index(drop=True)
    fees = snap.fees[snap.fees["day"] <= t].reset_index(drop=True)
    return {"days": days, "blocks": blocks, "draws": draws, "appointments": fees}


def late_differences(truth: pd.DataFrame, now: pd.DataFrame, through: date) -> pd.DataFrame:
    """Per customer and closed day (≤ D), the figures now less those recorded at the close,
    where the billable total differs: customer_id, late_for, FIGURES (differences, µs)."""
    t = pd.Timestamp(through)
    now = now.loc[now["day"] <= t, ["customer_id", "day", *[c for c in FIGURES if c in now]]]
    if not len(now) and not len(truth):  # pandas cannot join two empty Arrow text columns (no chunk on either side)
        return pd.DataFrame({"customer_id": pd.Series(dtype="str"), "late_for": pd.Series(dtype="datetime64[us]"),
                             **{c: pd.Series(dtype="int64") for c in FIGURES}})
    merged = now.merge(truth, on=["customer_id", "day"], how="outer", suffixes=("", "_closed"))
    out = pd.DataFrame({"customer_id": merged["customer_id"], "late_for": merged["day"]})
    for c in FIGURES:
        out[c] = (merged[c].fillna(0).astype("int64") if c in merged else 0) - merged[c + "_closed"].fillna(0).astype("int64")
    return out[out["billable_us"] != 0].sort_values(["customer_id", "late_for"]).reset_index(drop=True)


def late_credits(diff: pd.DataFrame, posted: date, policy: Policy) -> pd.DataFrame:
    """Negative differences as credit purchases bought on D + 1 (R12), for ledger.make_blocks:
    purchase_id late~<customer>~<day>~<posted>, minutes the difference's size."""
    from billing.ledger import _local_midnight_utc

    neg = diff[diff["billable_us"] < 0]
    ids = [f"{LATE_PREFIX}{c}~{pd.Timestamp(d).date()}~{posted}" for c, d in zip(neg["customer_id"], neg["late_for"])]
    return pd.DataFrame({"purchase_id": ids, "customer_id": neg["customer_id"].to_numpy(),
                         "purchase_day": [posted] * len(neg),
                         "purchased_utc": pd.Series([_local_midnight_utc(posted, policy.timezone)] * len(neg),
                                                    dtype="datetime64[us]"),
                         "minutes_us": (-neg["billable_us"]).astype("int64").to_numpy(),
                         "kind": KIND_LATE_CREDIT})


def late_rows(diff: pd.DataFrame, posted: date) -> pd.DataFrame:
    """Positive differences as daily rows posted on D + 1 with late_for = the closed day."""
    pos = diff[diff["billable_us"] > 0].reset_index(drop=True)
    out = pd.DataFrame({"customer_id": pos["customer_id"],
                        "day": pd.Series([pd.Timestamp(posted)] * len(pos), dtype="datetime64[us]"),
                        "late_for": pd.to_datetime(pos["late_for"]).astype("datetime64[us]")})
    for c in FIGURES:
        out[c] = pos[c].astype("int64")
    return out


def blocks_after(snap: Snapshot, current: pd.DataFrame, credits: pd.DataFrame) -> pd.DataFrame:
    """The blocks to draw the days after D from (R12): the closed blocks with what they had
    left at the end of D (valid after D only if their last day, extensions included, is ≥ D;
    a purchase no longer in the data pays nothing more), the blocks not there at the close
    counting from D + 1, and the late credits (bought D + 1). ``current``: make_blocks of the
    purchases and credits now. Columns of make_blocks, plus frozen_used_us and frozen_rolled_us
    (what the close recorded; 0 for new blocks), purchased_us being what is left to draw."""
    through = snap.through
    first_open = through + timedelta(days=1)
    closed = snap.blocks.copy()
    now = current.set_index("purchase_id")
    left = closed["purchased_us"] - closed["used_us"] - closed["rolled_over_us"]
    still = closed["purchase_id"].isin(now.index) | closed["kind"].isin(["rollover", KIND_LATE_CREDIT])
    expires = closed["purchase_id"].map(now["expires_on"]) if len(now) else pd.Series(dtype=object)
    closed["expires_on"] = [e if isinstance(e, date) else x for e, x in zip(expires.reindex(closed.index), closed["expires_on"])]
    usable = still & (pd.to_datetime(closed["expires_on"]) >= pd.Timestamp(through))
    closed["frozen_used_us"] = closed["used_us"].astype("int64")
    closed["frozen_rolled_us"] = closed["rolled_over_us"].astype("int64")
    closed["frozen_purchased_us"] = closed["purchased_us"].astype("int64")
    closed["purchased_us"] = np.where(usable, left, 0).astype("int64")
    closed = closed.drop(columns=["used_us", "rolled_over_us"])
    new = current[~current["purchase_id"].isin(closed["purchase_id"])].copy()
    new = pd.concat([new, credits], ignore_index=True) if len(credits) else new
    if len(new):
        new["purchased_on"] = [max(p, first_open) for p in new["purchased_on"]]
    for c in ("frozen_used_us", "frozen_rolled_us"):
        new[c] = 0
    new["frozen_purchased_us"] = new["purchased_us"].astype("int64")
    if "source" not in new:
        new["source"] = None
    cols = ["purchase_id", "customer_id", "kind", "source", "purchased_on", "expires_on", "base_expires_on",
            "purchased_utc", "purchased_us", "frozen_used_us", "frozen_rolled_us", "frozen_purchased_us"]
    out = pd.concat([closed[cols], new[cols]], ignore_index=True)
    return out.sort_values(["customer_id", "expires_on", "purchased_utc", "purchase_id"], kind="stable") \
        .reset_index(drop=True)
