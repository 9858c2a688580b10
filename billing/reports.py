"""The books as of a date T, and the reports of FORMATS.md built from them.

``compute_books`` reads one consistent snapshot (one connection), applies R1–R9 and
returns every frame the command line, the dashboard and the statements need. Minutes
stay integer microseconds (``*_us``) here; they become text only when a report is formatted (``as_table``, ``write_csv``).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from billing import adjusting, closing, ledger, rules
from billing.adjustments import dated_in_force
from billing.calendar import business_day_expr, to_utc
from billing.policy import US_PER_MINUTE, Policy
from billing.store import data_version

# FORMATS.md; the last columns of daily and blocks are "Over time" (R10, R12, R13).
DAILY_COLUMNS = ["customer_id", "day", "adhoc_raw_minutes", "adhoc_billed_minutes", "session_minutes",
                 "fee_minutes", "billable_minutes", "covered_minutes", "uncovered_minutes",
                 "charged_minutes", "late_for"]
BLOCKS_COLUMNS = ["purchase_id", "customer_id", "purchased_on", "expires_on", "purchased_minutes",
                  "used_minutes", "forfeited_minutes", "remaining_minutes", "status", "rolled_over_minutes"]
SUMMARY_COLUMNS = ["customer_id", "purchased_minutes", "billable_minutes", "covered_minutes",
                   "uncovered_minutes", "forfeited_minutes", "remaining_minutes", "fee_minutes",
                   "nonbillable_minutes", "next_expiry", "expiring_minutes"]
REVIEW_COLUMNS = ["customer_id", "day", "item", "id", "issue", "what_to_do"]


@dataclass
class Books:
    as_of: date
    policy: Policy
    data_version: int
    days: pd.DataFrame          # every customer-day ≤ T with any minutes, incl. general-only days,
                                # sorted by customer_id (code point order), then day
    appointments: pd.DataFrame  # appointments dated ≤ T not completed: they bill a fee (R6) or need a look
    blocks: pd.DataFrame        # R7–R9 per block as of T (purchases, credits and rollover blocks)
    draws: pd.DataFrame         # which block paid for which day (R8; paid_on later for R14)
    customers: pd.Index         # customers with anything dated ≤ T
    adjustments: pd.DataFrame = None  # R10: the adjustments in force as of T (billing.adjusting)
    closed_through: date | None = None  # R12: the last closed day, if the books are closed
    truth: pd.DataFrame = None  # each day's figures computed now, before any close (None: ``days``)


def purchases_as_of(con, policy: Policy, as_of: date, customer: str | None = None) -> pd.DataFrame:
    """Purchases dated ≤ T (R1), optionally of one customer: the stored columns plus
    purchase_day and purchased_utc (the instant, a plain date as local midnight) and minutes_us."""
    day = business_day_expr("p", "purchased_at")
    where = "AND p.customer_id = $customer" if customer is not None else ""
    params = {"tz": policy.timezone, "asof": as_of}
    if customer is not None:
        params["customer"] = customer
    df = con.execute(f"SELECT p.*, {day} AS purchase_day FROM purchases p WHERE {day} <= $asof {where}",
                     params).df()
    # R8 tie-break: the purchase instant; a plain date counts as local midnight.
    df["purchased_utc"] = to_utc(df["purchased_at"], df["purchased_at_offset"], policy.timezone)
    return df


def compute_books(con, policy: Policy, as_of: date, customer: str | None = None,
                  adjustments: pd.DataFrame | None = None, closed="db") -> Books:
    """R1–R14 as of T, for every customer (or one: its figures are the same either way).

    ``adjustments``: the R10 adjustments to apply (billing.adjusting columns); None reads
    those in force as of T from the database. ``closed``: the R12 snapshot to respect
    (billing.closing.Snapshot or None); "db" reads the close in force from the database.
    As of a closed day T ≤ D the figures are the close's; after D, closed days keep them and
    what changed since posts on D + 1 (billing.closing)."""
    snap = closing.snapshot(con, customer) if isinstance(closed, str) else closed
    if snap is not None and as_of <= snap.through:
        return _closed_books(con, snap, policy, as_of, customer)
    adj = adjusting.adjustments_as_of(con, as_of, customer) if adjustments is None \
        else dated_in_force(adjustments, as_of)
    if customer is not None:
        adj = adj[adj["customer_id"] == customer]
    appts = rules.appointments_as_of(con, policy, as_of, customer)
    if len(adj):
        appts = adjusting.apply_waivers(appts, adj)
    days = rules.daily_billable(con, policy, as_of, customer, appts=appts,
                                excluded=adjusting.excluded_entries(adj))
    days = adjusting.add_charges(days, adj)
    purchases = purchases_as_of(con, policy, as_of, customer)
    credits = adjusting.credit_purchases(adj, policy)
    if len(credits):
        purchases = pd.concat([purchases.assign(kind=ledger.KIND_PURCHASE), credits], ignore_index=True)
    blocks = ledger.make_blocks(purchases, policy, extended_to=adjusting.extended_to(adj))
    truth = None
    if snap is None:
        days, draws, blocks = ledger.draw_books(days, blocks, policy, as_of)
        days["late_for"] = pd.Series(pd.NaT, index=days.index, dtype="datetime64[us]")  # R12: no late rows
    else:
        truth = days
        days, draws, blocks, appts = _after_close(snap, policy, as_of, days, blocks, appts)
    if snap is None:
        blocks = ledger.block_status(blocks, draws, as_of, policy)
    # Vectorised unique (iterating Arrow strings one by one costs seconds on a million rows).
    customers = pd.Index(days["customer_id"].unique()) \
        .union(rules.customers_as_of(con, policy, as_of, customer)) \
        .union(pd.Index(blocks["customer_id"].unique())).sort_values()
    return Books(as_of=as_of, policy=policy, data_version=data_version(con), days=days,
                 appointments=appts, blocks=blocks, draws=draws, customers=customers, adjustments=adj,
                 closed_through=snap.through if snap is not None else None, truth=truth)


def _closed_books(con, snap, policy: Policy, as_of: date, customer: str | None) -> Books:
    """R12: as of a closed day, the close's figures cut at T."""
    parts = closing.frozen_books(snap, as_of)
    blocks = ledger.block_status(parts["blocks"], parts["draws"], as_of, policy)
    customers = pd.Index(parts["days"]["customer_id"].unique()) \
        .union(pd.Index(parts["appointments"]["customer_id"].unique())) \
        .union(pd.Index(blocks["customer_id"].unique())).sort_values()
    return Books(as_of=as_of, policy=policy, data_version=data_version(con), days=parts["days"],
                 appointments=parts["appointments"], blocks=blocks, draws=parts["draws"], customers=customers,
                 adjustments=adjusting.no_adjustments(), closed_through=snap.through, truth=parts["days"])


def _by_customer_day(frame: pd.DataFrame) -> np.ndarray:
    """The order of ``frame``'s rows by customer (code point order), day, then late_for
    (ordinary rows first)."""
    local, uniques = pd.factorize(frame["customer_id"])  # one dictionary encoding, then the few names ranked
    rank = np.empty(len(uniques), dtype="int64")
    rank[np.argsort(np.asarray(uniques, dtype=object), kind="stable")] = np.arange(len(uniques))
    codes = rank[local]
    day = frame["day"].to_numpy(dtype="datetime64[D]").astype("int64")
    late = frame["late_for"].to_numpy(dtype="datetime64[D]") if "late_for" in frame else None
    late = np.where(np.isnat(late), np.iinfo("int64").min, late.astype("int64")) if late is not None \
        else np.zeros(len(frame), "int64")
    return np.lexsort((late, day, codes))


def _after_close(snap, policy: Policy, as_of: date, days: pd.DataFrame, blocks: pd.DataFrame,
                 appts: pd.DataFrame):
    """R12 after D: closed days as closed, the differences posted on D + 1, the days after D
    drawn from what the blocks had left at the end of D. Returns (days, draws, blocks with
    used_before_us, appointments)."""
    from datetime import timedelta

    first_open = snap.through + timedelta(days=1)
    t = pd.Timestamp(snap.through)
    diff = closing.late_differences(snap.truth, days, snap.through)
    late = closing.late_rows(diff, first_open)
    credit = closing.late_credits(diff, first_open, policy)
    credits = ledger.make_blocks(credit, policy) if len(credit) else credit
    to_draw_blocks = closing.blocks_after(snap, blocks, credits)
    after = days[days["day"] > t].reset_index(drop=True)
    after["late_for"] = pd.Series(pd.NaT, index=after.index, dtype="datetime64[us]")
    if len(late):
        both = pd.concat([after, late], ignore_index=True)
        totals = both.groupby(["customer_id", "day"], as_index=False, sort=True)["billable_us"].sum()
        drawn, draws, drawn_blocks = ledger.draw_books(totals, to_draw_blocks, policy, as_of)
        # A day's covered minutes go to its ordinary row first, then to its late rows in order.
        both = both.iloc[_by_customer_day(both)].reset_index(drop=True)
        cov = both[["customer_id", "day"]].merge(drawn[["customer_id", "day", "covered_us"]], how="left",
                                                 on=["customer_id", "day"])["covered_us"].fillna(0).to_numpy("int64")
        bill = both["billable_us"].to_numpy("int64")
        before = both.groupby(["customer_id", "day"], sort=False)["billable_us"].cumsum().to_numpy("int64") - bill
        covered = np.clip(cov - before, 0, bill)
        after = both.assign(covered_us=covered, uncovered_us=bill - covered)
    else:
        after, draws, drawn_blocks = ledger.draw_books(after, to_draw_blocks, policy, as_of)
    for c in closing.FIGURES + closing.PARTS:
        if c not in after:
            after[c] = 0
    frozen = snap.days
    all_days = pd.concat([frozen, after[[c for c in after.columns if c in frozen.columns or c == "late_for"]]],
                         ignore_index=True)
    for c in closing.FIGURES + closing.PARTS + ["covered_us", "uncovered_us"]:
        all_days[c] = all_days[c].fillna(0).astype("int64")
    all_days = all_days.iloc[_by_customer_day(all_days)].reset_index(drop=True)
    # Blocks: what the close recorded plus what the days after D drew.
    b = drawn_blocks.copy()
    for c in ("frozen_used_us", "frozen_rolled_us", "frozen_purchased_us"):
        b[c] = b[c].fillna(0).astype("int64")
    # A block's purchase is what it was bought with (the drawing saw only what was left);
    # blocks new since the close (rollover blocks made after D among them) have no frozen part.
    cap = b["purchased_us"].astype("int64")
    b["purchased_us"] = b["frozen_purchased_us"].where(b["frozen_purchased_us"] > 0, cap).astype("int64")
    b["used_before_us"] = b.pop("frozen_used_us")
    b["rolled_over_us"] = b["rolled_over_us"].astype("int64") + b.pop("frozen_rolled_us")
    b = ledger.block_status(b.drop(columns=["frozen_purchased_us"]), draws, as_of, policy)
    all_draws = pd.concat([snap.draws, draws.drop(columns="block")], ignore_index=True)
    fees = pd.concat([snap.fees, appts[appts["day"] > t]], ignore_index=True)
    return all_days, all_draws, b, fees


# --------------------------------------------------------------------------- FORMATS.md reports
def daily_frame(books: Books) -> pd.DataFrame:
    """The `daily` rows (billable minutes > 0), in Books.days' order: by customer and day
    already, so no sort of 400k text keys; only the report's columns are copied."""
    d = books.days
    return d.loc[d["billable_us"].to_numpy() > 0, _DAILY_US].reset_index(drop=True)


_DAILY_US = ["customer_id", "day", "adhoc_raw_us", "adhoc_billed_us", "session_us", "fee_us", "billable_us",
             "covered_us", "uncovered_us", "charged_us", "late_for"]


def blocks_frame(books: Books) -> pd.DataFrame:
    """The blocks report's rows (R7-R9), one per block, µs columns; sorted by customer and drawing order."""
    b = books.blocks
    return b[["purchase_id", "customer_id", "purchased_on", "expires_on", "purchased_us", "used_us",
              "forfeited_us", "remaining_us", "status", "rolled_over_us", "days_left", "expiring_soon", "kind"]] \
        .sort_values(["purchase_id", "customer_id"], kind="stable").reset_index(drop=True)


def summary_frame(books: Books) -> pd.DataFrame:
    """The summary report's rows: one per customer, purchased, billable, covered,
    uncovered, forfeited, remaining µs and the like."""
    idx = books.customers
    d, b = books.days, books.blocks

    def per_customer(frame, columns):
        """One grouped sum for several columns, aligned on the summary's customers."""
        sums = frame.groupby("customer_id", sort=False)[columns].sum()
        return sums.reindex(idx, fill_value=0).astype("int64")

    days = per_customer(d, ["billable_us", "covered_us", "uncovered_us", "fee_us", "general_us"])
    blocks = per_customer(b, ["forfeited_us", "remaining_us"])
    # Purchases and credits; a rollover block's minutes were purchased once already (R13).
    blocks["purchased_us"] = per_customer(b[b["kind"] != ledger.KIND_ROLLOVER], ["purchased_us"])["purchased_us"]
    active = b[b["status"] == ledger.STATUS_ACTIVE]
    soon = per_customer(active[active["expiring_soon"]], ["remaining_us"])
    next_expiry = active.groupby("customer_id")["expires_on"].min().reindex(idx)
    return pd.DataFrame({
        "customer_id": idx,
        "purchased_us": blocks["purchased_us"].to_numpy(),
        "billable_us": days["billable_us"].to_numpy(),
        "covered_us": days["covered_us"].to_numpy(),
        "uncovered_us": days["uncovered_us"].to_numpy(),
        "forfeited_us": blocks["forfeited_us"].to_numpy(),
        "remaining_us": blocks["remaining_us"].to_numpy(),
        "fee_us": days["fee_us"].to_numpy(),
        "nonbillable_us": days["general_us"].to_numpy(),
        "next_expiry": next_expiry.to_numpy(),
        "expiring_us": soon["remaining_us"].to_numpy(),
    }).reset_index(drop=True)


def review_frame(con, policy: Policy, as_of: date, appointments: pd.DataFrame,
                 customer: str | None = None, excluded=None) -> pd.DataFrame:
    """What needs a human look, each with its reason and what to do about it.

    ``appointments``: rules.appointments_as_of (Books.appointments); ``excluded``: the entry ids
    excluded by adjustments in force as of T (R10: they count toward nothing, so they are
    neither held nor "still counting"; None reads them from the database). The review needs
    no daily totals and no ledger, so `report review` does not compute them."""
    if excluded is None:
        excluded = adjusting.excluded_entries(adjusting.adjustments_as_of(con, as_of, customer))
    where = "AND e.customer_id = $customer" if customer is not None else ""
    params = {"tz": policy.timezone, "asof": as_of}
    if customer is not None:
        params["customer"] = customer
    entries = con.execute(f"""
        SELECT customer_id, day, entry_id, kind, hold_reason, minutes_us
        FROM ({rules.classified_entries_sql(where, excluded)})
        WHERE kind <> 'excluded' AND (kind = 'held' OR minutes_us < 60000000)""", params).df()
    held = entries[entries["kind"] == "held"]
    tiny = entries[(entries["kind"] != "held") & (entries["minutes_us"] < US_PER_MINUTE)]
    a = appointments
    parts = [
        pd.DataFrame({"customer_id": held["customer_id"], "day": held["day"], "item": "entry",
                      "id": held["entry_id"], "issue": "held: " + held["hold_reason"],
                      "what_to_do": "complete the appointment in the tracker, or take the entry off the appointment, "
                                    "and import again; until then it counts toward nothing"}),
        pd.DataFrame({"customer_id": tiny["customer_id"], "day": tiny["day"], "item": "entry",
                      "id": tiny["entry_id"],
                      "issue": "entry under one minute (" + (tiny["minutes_us"] / US_PER_MINUTE).round(4).astype(str)
                               + " min)",
                      "what_to_do": "check it is not a timer started by mistake; it still counts"}),
    ]
    if policy.session_billing == "logged":
        empty = rules.empty_sessions(con, policy, as_of, customer, excluded)
        parts.append(pd.DataFrame({
            "customer_id": empty["customer_id"], "day": empty["day"], "item": "appointment",
            "id": empty["appointment_id"], "issue": "completed session with no 1-on-1 time logged: bills nothing",
            "what_to_do": "log the session's time on this appointment in the tracker, or correct its status"}))
    stale = a[(a["status"] == "scheduled") & (pd.to_datetime(a["day"]).dt.date < as_of)]
    parts.append(pd.DataFrame({
        "customer_id": stale["customer_id"], "day": stale["day"], "item": "appointment",
        "id": stale["appointment_id"], "issue": "past appointment still scheduled",
        "what_to_do": "mark it completed, cancelled (with when) or no-show in the tracker and import again "
                      "(a fee may be due)"}))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in REVIEW_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    out["day"] = pd.to_datetime(out["day"]).dt.date
    return out[REVIEW_COLUMNS].sort_values(["customer_id", "day", "item", "id"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- printing
HUNDREDTH_US = US_PER_MINUTE // 100  # 600,000 µs: the unit of a printed minute (2 decimals)


def minutes_sql(us: str) -> str:
    """SQL: integer µs → minutes rounded to 2 decimals (half up, away from zero), as text.

    Exact: the hundredths h = (|µs| + 300,000) // 600,000 in integers (no overflow for any
    real sum), printed by DuckDB as a DECIMAL of scale 2 ("12.50", "-0.05", "0.00"). About
    twice as fast as assembling the digits with string functions."""
    h = f"((abs({us}) + {HUNDREDTH_US // 2}) // {HUNDREDTH_US})"
    # Zero, the most common figure of a daily report (no fee, no session, nothing uncovered),
    # skips the DECIMAL conversion.
    return f"CASE WHEN {us} = 0 THEN '0.00' ELSE CAST(CAST(sign({us}) * {h} AS DECIMAL(18,0)) * 0.01 AS VARCHAR) END"


def report_minutes_text(us) -> np.ndarray:
    """Integer µs → minutes as text, 2 decimals, half up (the same figures as minutes_sql),
    positionally like ``us``. Integer arithmetic, then numpy string ops (for the dashboard's
    small tables; whole reports are formatted in DuckDB)."""
    v = np.asarray(us, dtype="int64")
    if v.size == 0:
        return np.empty(0, dtype=object)
    h = (np.abs(v) + HUNDREDTH_US // 2) // HUNDREDTH_US
    text = np.char.add(np.char.add((h // 100).astype(str), "."), np.char.zfill((h % 100).astype(str), 2))
    return np.where((v < 0) & (h > 0), np.char.add("-", text), text).astype(object)


def _holds_dates(values: pd.Series) -> bool:
    """A column of datetime.date objects (blocks' purchased_on, summary's next_expiry): the
    engine's columns hold one type, so the first value present tells."""
    present = values.dropna()
    return len(present) > 0 and isinstance(present.iloc[0], date)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _formatted(frame: pd.DataFrame, columns: list[str],
               for_people: bool = False) -> tuple[list[tuple[str, str, bool]], pa.Table]:
    """(SQL expression, column, free text?) triples that write ``columns`` as FORMATS.md text
    (``x_minutes`` from ``x_us``: 2 decimals; dates YYYY-MM-DD; NULL where missing or empty),
    and the Arrow table they read. Only free text (ids, names) can need CSV quoting.
    ``for_people``: times as hours and whole minutes (billing.display.duration_sql) and a
    block's status in words ("used up"), for ``write_table``."""
    from billing.display import duration_sql

    exprs = []
    for col in columns:
        quoted = _ident(col)
        if col.endswith("_minutes") and col.replace("_minutes", "_us") in frame:
            us = _ident(col.replace("_minutes", "_us"))
            exprs.append((duration_sql(us) if for_people else minutes_sql(us), col, False))
        elif for_people and col == "status":
            exprs.append((f"replace(CAST({quoted} AS VARCHAR), '_', ' ')", col, False))
        elif pd.api.types.is_datetime64_any_dtype(frame[col]):
            exprs.append((f"strftime({quoted}, '%Y-%m-%d')", col, False))
        elif frame[col].dtype == object and _holds_dates(frame[col]):
            exprs.append((f"CAST(CAST({quoted} AS DATE) AS VARCHAR)", col, False))
        else:
            exprs.append((f"nullif(CAST({quoted} AS VARCHAR), '')", col, True))
    wanted = set(columns) | {c.replace("_minutes", "_us") for c in columns}
    source = frame[[c for c in frame.columns if c in wanted]]
    return exprs, pa.Table.from_pandas(source, preserve_index=False)


_SCRATCH = None
_SCRATCH_LOCK = threading.Lock()


@contextmanager
def scratch(source: pa.Table):
    """A cursor on one in-memory DuckDB (made once per process: a new database costs about
    30 ms, a cursor nothing) with ``source`` registered as ``report_frame``. One cursor per
    use, so threads (Streamlit sessions) never share a connection."""
    import duckdb

    global _SCRATCH
    with _SCRATCH_LOCK:
        if _SCRATCH is None:
            _SCRATCH = duckdb.connect()
        cur = _SCRATCH.cursor()
    try:
        cur.register("report_frame", source)
        yield cur
    finally:
        cur.close()


def as_table(frame: pd.DataFrame, columns: list[str], for_people: bool = False) -> pa.Table:
    """The report as an Arrow table of text ('' where missing), formatted by DuckDB over the
    frame (vectorised, multi-threaded, no Python per row); ``for_people``: see ``_formatted``."""
    exprs, source = _formatted(frame, columns, for_people)
    with scratch(source) as cur:
        select = ", ".join(f"coalesce({e}, '') AS {_ident(c)}" for e, c, _ in exprs)
        return cur.sql(f"SELECT {select} FROM report_frame").to_arrow_table()


def csv_field_sql(text: str) -> str:
    """SQL: a text value as one RFC 4180 field: quoted (inner quotes doubled) only when it holds
    a comma, a quote or a line break. NULL stays NULL (concat() writes it as an empty field)."""
    return (f"CASE WHEN contains({text}, ',') OR contains({text}, '\"') OR contains({text}, chr(10)) "
            f"OR contains({text}, chr(13)) THEN '\"' || replace({text}, '\"', '\"\"') || '\"' "
            f"ELSE {text} END")


def csv_field(text: str) -> str:
    """Python twin of csv_field_sql (for the header row)."""
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(ch in text for ch in ',"\r\n') else text


def _stream_lines(cur, line: str, sink) -> None:
    """Write the text of SQL ``line`` over report_frame, row by row in order, to ``sink``: in
    Arrow batches, straight from their buffers."""
    for batch in cur.sql(f"SELECT {line} FROM report_frame").to_arrow_reader(1 << 16):
        for chunk in _text_bytes(batch.column(0)):
            sink.write(chunk)


def _text_bytes(column: pa.Array | pa.ChunkedArray):
    """The bytes of a column of text, end to end, without a copy per value: the data buffer of
    an Arrow string array between its first and last offset."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for arr in chunks:
        if arr.type not in (pa.string(), pa.large_string()):
            arr = arr.cast(pa.large_string())
        if len(arr) == 0:
            continue
        width = 4 if arr.type == pa.string() else 8
        _, offsets, data = arr.buffers()
        pos = np.frombuffer(offsets, dtype=f"int{width * 8}", count=len(arr) + 1, offset=arr.offset * width)
        yield memoryview(data)[int(pos[0]):int(pos[-1])]


def write_csv(frame: pd.DataFrame, columns: list[str], sink) -> None:
    """FORMATS.md CSV of a report's rows into a binary file object: a header row, fields quoted
    only where needed (RFC 4180), '\\n' line ends, an empty field for a missing value.

    DuckDB formats each row into one line of text (vectorised, multi-threaded, in the frame's
    row order); the lines are streamed to ``sink`` in batches straight from Arrow's buffers.
    This is several times faster than a CSV writer that formats and escapes value by value."""
    exprs, source = _formatted(frame, columns)
    sink.write(("".join([",".join(csv_field(c) for c in columns), "\n"])).encode())
    # concat(), not ||: it skips NULLs (an empty field) and is about twice as fast here.
    fields = [csv_field_sql(e) if free else e for e, _, free in exprs]
    line = "concat(" + ", ',', ".join(fields) + ", chr(10))"
    with scratch(source) as cur:
        _stream_lines(cur, line, sink)


def write_table(frame: pd.DataFrame, columns: list[str], sink, names: dict[str, str] | None = None,
                report: str | None = None, width: int | None = None) -> None:
    """The report as a text table for people: billing.text_table.write_report_table (names
    beside ids, times in hours and whole minutes, fitted to ``width`` terminal cells; None:
    every column at full width, as in a file written with --out)."""
    from billing.text_table import write_report_table

    write_report_table(frame, columns, sink, names, report, width)


REPORT_COLUMNS = {"daily": DAILY_COLUMNS, "blocks": BLOCKS_COLUMNS, "summary": SUMMARY_COLUMNS,
                  "review": REVIEW_COLUMNS}


def report_frame(con, name: str, policy: Policy, as_of: date, customer: str | None = None,
                 books: Books | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The rows of a report (minutes still µs) and the FORMATS.md columns to print."""
    if name not in REPORT_COLUMNS:
        raise ValueError(f"unknown report {name!r}")
    if name == "review":
        appts = books.appointments if books else rules.appointments_as_of(con, policy, as_of, customer)
        excluded = adjusting.excluded_entries(books.adjustments) if books and books.adjustments is not None else None
        return review_frame(con, policy, as_of, appts, customer, excluded), REVIEW_COLUMNS
    books = books or compute_books(con, policy, as_of, customer)
    frame = {"daily": daily_frame, "blocks": blocks_frame, "summary": summary_frame}[name]
    return frame(books), REPORT_COLUMNS[name]


def report_table(con, name: str, policy: Policy, as_of: date, customer: str | None = None,
                 books: Books | None = None) -> pa.Table:
    """One of daily, blocks, summary, review, in the columns of FORMATS.md (minutes as text)."""
    return as_table(*report_frame(con, name, policy, as_of, customer, books))


def report(con, name: str, policy: Policy, as_of: date, customer: str | None = None,
           books: Books | None = None) -> pd.DataFrame:
    """One of daily, blocks, summary, review as a DataFrame of text (see report_table)."""
    return report_table(con, name, policy, as_of, customer, books).to_pandas()
