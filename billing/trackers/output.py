"""The canonical tables a tracker table converts to (FORMATS.md), and writing them.

    build_entries(ctx, rows, staff, client, meant, start, us, zone_offset, source_file) -> columns
    build_appointments(entries, tracker, source_file) -> appointments table or None
    canonical_tables(entries, appointments) -> {"time_entries": ..., "appointments": ...}
    write_tables(out_dir, tables);  preview_of(entries) -> PREVIEW_COLUMNS table
"""
from __future__ import annotations

import hashlib
import os
import re
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing import canonical
from billing.trackers.columns import Context, codes_of, factorize, texts_of
from billing.trackers.meaning import Meanings
from billing.trackers.stamps import EPOCH, Stamp, format_offset, instant_us
from billing.canonical import minutes_text

# The canonical files' columns (billing.canonical), plus what the tracker said that FORMATS.md
# keeps as extra columns, and where each row came from (so a reject points at the user's file).
ENTRY_COLUMNS = canonical.ENTRY_COLUMNS + ["project", "tags", "_source_file", "_source_line"]
APPOINTMENT_COLUMNS = canonical.APPOINTMENT_COLUMNS + ["_source_file", "_source_line"]
PREVIEW_COLUMNS = ["line", "entry_id", "started_at", "staff", "client", "customer_id", "minutes",
                   "tier", "activity", "appointment_id", "customer_requested", "notes"]


def _digest(text: str, n: int = 16) -> str:
    """The first ``n`` hex digits of the sha256 of ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def _write_csv(path: Path, table: pa.Table) -> None:
    """``table`` as CSV at ``path``, written to a temporary name and then renamed."""
    import pyarrow.csv as pcsv

    tmp = path.with_name(f".{path.name}.tmp")
    pcsv.write_csv(table, tmp, write_options=pcsv.WriteOptions(quoting_style="needed"))
    os.replace(tmp, path)


def _bool_texts(mask: np.ndarray, yes: str, no: str) -> pa.Array:
    """``yes`` where ``mask`` is true, else ``no``, as Arrow texts."""
    return pc.if_else(pa.array(mask, pa.bool_()), yes, no)


def _stamped_ids(columns: dict, tracker: str) -> tuple[pa.Array, pa.Array]:
    """(entry ids, started_at texts) of the rows in ``columns``, computed by DuckDB on every core.

    ``columns``: day (days since 1970), tod (µs since midnight, -1 without a time), off
    (the offset text written after the wall time, "" for none), us (µs worked), and the texts staff,
    email, client, project, task, notes, billable, tags. The id is the first 16 hex digits
    of the sha256 of the row's content joined by U+001F (tracker, staff, email, client,
    project, task, notes, the written start, whether it had a time, µs, billable, tags), as
    every version has made it; identical rows get an occurrence counter in the order of the
    file (``-2``, ``-3``).
    """
    import duckdb

    whole = pa.table(columns)
    con = duckdb.connect()
    try:
        # In batches, so that DuckDB works on every core (one batch is one thread).
        con.register("entries", pa.Table.from_batches(whole.to_batches(max_chunksize=1 << 17), schema=whole.schema))
        found = con.sql(
            """SELECT h, hash(h) AS k, wall || off AS started_at FROM (
                 SELECT $p || left(sha256(concat_ws(chr(31), $name, staff, email, client, project, task, notes, wall,
                          CASE WHEN tod >= 0 THEN 'True' ELSE 'False' END, CAST(us AS VARCHAR), billable, tags)), 16) AS h,
                        wall, off
                 FROM (SELECT *, strftime(make_timestamp(CAST(day AS BIGINT) * 86400000000 + greatest(tod, 0)),
                                          '%Y-%m-%dT%H:%M:%S')
                                 || CASE WHEN tod > 0 AND tod % 1000000 <> 0
                                         THEN '.' || lpad(CAST(tod % 1000000 AS VARCHAR), 6, '0') ELSE '' END AS wall
                       FROM entries))""",
            params={"p": f"{tracker}-", "name": tracker}).to_arrow_table()
    finally:
        con.close()
    digests = found.column("h")
    started_at = found.column("started_at").combine_chunks()
    keys = np.sort(found.column("k").to_numpy())
    if not (keys[1:] == keys[:-1]).any():
        return digests.combine_chunks(), started_at  # no two rows alike (the usual case)
    series = digests.to_pandas()
    repeated = series.duplicated(keep=False).to_numpy()
    ids = series.to_numpy(dtype=object)
    nth = series[repeated].groupby(series[repeated], sort=False).cumcount().to_numpy() + 1
    ids[np.flatnonzero(repeated)] = [i if n == 1 else f"{i}-{n}" for i, n in zip(ids[repeated], nth)]
    return pa.array(ids, pa.string()), started_at


def build_entries(ctx: Context, rows: np.ndarray, staff: pa.Array, client: pa.Array, meant: Meanings,
                  start: Stamp, us: np.ndarray, zone_offset: np.ndarray, source_file: str) -> dict:
    """The converted entries as columns (canonical texts, FORMATS.md), ids assigned.

    ``rows``: the indices of the table's rows that convert; ``staff``, ``client``, ``meant``,
    ``start``, ``us`` (µs worked) and ``zone_offset`` (the zone's UTC offset of the start,
    seconds) have one value per row of the table. Returns column name -> Arrow texts for
    ENTRY_COLUMNS, plus numpy arrays for the caller: ``_line``, ``_day`` (days since 1970),
    ``_us``, ``_session``, ``_sort`` (µs since 1970 UTC) and ``_requested``."""
    project, task, tags_text, billable = meant.project, meant.task, meant.tags, meant.billable
    tier, activity, session, requested = meant.tier, meant.activity, meant.session, meant.requested
    count = len(rows)
    everyone = count == ctx.n
    take_rows = pa.array(rows, pa.int64())

    def take(array):
        return array if everyone else array.take(take_rows)

    mapping = ctx.mapping
    day, tod, own = start.day[rows], start.tod[rows], start.offset[rows]
    # The offset written after the wall time: the cell's own, else the zone's (fold 0, R1);
    # a date without a time keeps no offset, so its written day is its business day.
    offset_seconds = np.where(np.isnan(own), zone_offset[rows], np.nan_to_num(own)).astype(np.int64)
    show_offset = (tod >= 0) & (~np.isnan(own) | (ctx.zone is not None))
    offs_u, offs_i = factorize(offset_seconds)
    offset_text = pc.if_else(pa.array(show_offset, pa.bool_()),
                             texts_of([format_offset(o) for o in offs_u], offs_i), "")
    us_rows = us[rows]
    us_u, us_i = factorize(us_rows)
    minutes = texts_of([minutes_text(int(v)) for v in us_u], us_i)

    staff_r, client_r = take(staff), take(client)
    project_r, task_r, tags_r = take(project), take(task), take(tags_text)
    notes_r = take(ctx.cell("description"))
    email_r = take(ctx.cell("email"))
    billable_r = (_bool_texts(np.equal(billable[rows], True), "True", "False") if billable is not None
                  else pa.repeat(pa.scalar("", pa.string()), count))
    client_i, client_u = codes_of(client_r)
    customer = texts_of([mapping.customer_for(c) or re.sub(r"\s+", " ", c).strip() for c in client_u], client_i)
    if count:
        entry_id, started_at = _stamped_ids(
            {"day": pa.array(day, pa.int64()), "tod": pa.array(tod, pa.int64()), "off": offset_text,
             "us": pa.array(us_rows, pa.int64()), "staff": staff_r, "email": email_r, "client": client_r,
             "project": project_r, "task": task_r, "notes": notes_r, "billable": billable_r, "tags": tags_r},
            mapping.name)
    else:
        entry_id = started_at = pa.array([], pa.string())
    if ctx.has("id") and count:
        # The tracker's own id, where its export has one (Jira's Worklog Id): an edited entry
        # then replaces its earlier version instead of being removed and added again.
        own_id = take(ctx.cell("id"))
        entry_id = pc.if_else(pc.equal(own_id, ""), entry_id,
                              pc.binary_join_element_wise(pa.scalar(f"{mapping.name}-id-"), own_id, ""))
    return {
        "entry_id": entry_id, "customer_id": customer, "customer_name": client_r, "staff": staff_r,
        "started_at": started_at, "minutes": minutes, "tier": pa.array(tier[rows], pa.string()),
        "activity": activity if everyone else activity.take(take_rows),
        "appointment_id": pa.repeat(pa.scalar("", pa.string()), count),
        "customer_requested": _bool_texts(requested[rows], "true", "false"),
        "notes": notes_r, "project": project_r, "tags": tags_r,
        "_source_file": pa.repeat(pa.scalar(source_file, pa.string()), count),
        "_source_line": pa.array(ctx.table.lines[rows], pa.int64()).cast(pa.string()),
        # for the caller, not written
        "_line": ctx.table.lines[rows], "_day": day, "_us": us_rows,
        "_session": session[rows] & (tier[rows] == "one_on_one"),
        "_sort": instant_us(day, tod, own, zone_offset[rows]), "_requested": requested[rows],
    }


def build_appointments(entries: dict, tracker: str, source_file: str) -> pa.Table | None:
    """R4: session entries get one completed appointment per customer, (written) day and
    staff member, so that per-person exports of the same session add up instead of
    replacing each other's appointment.

    Only one_on_one entries are tied to it (general work is never billable, R2, so it
    stays plain non-billable usage). The booked length is what was logged, so that
    ``at_least_booked`` adds nothing to a session no one booked in advance.

    ``entries``: as ``build_entries`` gives, whose ``appointment_id`` column this fills in.
    Returns the appointments (APPOINTMENT_COLUMNS, texts), or None without a session entry.
    """
    members = np.flatnonzero(entries["_session"])
    if not len(members):
        return None
    import pandas as pd

    frame = pd.DataFrame({
        "row": members, "customer_id": entries["customer_id"].take(pa.array(members)).to_numpy(zero_copy_only=False),
        "day": entries["_day"][members], "sort": entries["_sort"][members], "line": entries["_line"][members],
        "us": entries["_us"][members],
        "staff": entries["staff"].take(pa.array(members)).to_numpy(zero_copy_only=False),
        "started_at": entries["started_at"].take(pa.array(members)).to_numpy(zero_copy_only=False)})
    appointment_of_row = np.full(len(entries["_day"]), "", dtype=object)
    out = []
    frame = frame.sort_values(["customer_id", "day", "staff", "sort", "line"], kind="stable")
    for (customer_id, day, staff), group in frame.groupby(["customer_id", "day", "staff"], sort=True):
        when = (EPOCH + timedelta(days=int(day))).isoformat()
        appointment_id = f"{tracker}-session-{_digest(chr(31).join((customer_id, when, staff)), 12)}"
        appointment_of_row[group["row"].to_numpy()] = appointment_id
        first = group.iloc[0]
        out.append({"appointment_id": appointment_id, "customer_id": customer_id,
                    "staff": staff, "scheduled_start": first["started_at"],
                    "scheduled_minutes": minutes_text(int(group["us"].sum())), "status": "completed",
                    "cancelled_at": "", "cancelled_by": "", "_source_file": source_file,
                    "_source_line": str(int(first["line"]))})
    entries["appointment_id"] = pa.array(appointment_of_row, pa.string())
    return pa.Table.from_pylist(out, schema=pa.schema([(c, pa.string()) for c in APPOINTMENT_COLUMNS]))


def canonical_tables(entries: dict, appointments: pa.Table | None) -> dict[str, pa.Table]:
    """The tables to load: "time_entries" (ENTRY_COLUMNS of ``entries``, as ``build_entries``
    gives them) and, when there are any, "appointments"."""
    tables = {"time_entries": pa.table({c: entries[c] for c in ENTRY_COLUMNS})}
    if appointments is not None:
        tables["appointments"] = appointments
    return tables


def write_tables(out_dir: Path, tables: dict[str, pa.Table]) -> None:
    """time_entries.csv, and appointments.csv when ``tables`` has appointments, into
    ``out_dir`` (made if missing); an appointments.csv an earlier conversion left there
    is removed. Each file is written whole or not at all; OSError propagates."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(out_dir / "time_entries.csv", tables["time_entries"])
    if "appointments" in tables:
        _write_csv(out_dir / "appointments.csv", tables["appointments"])
    elif (out_dir / "appointments.csv").exists():
        (out_dir / "appointments.csv").unlink()  # left by an earlier conversion into this folder


def preview_of(entries: dict | None) -> pa.Table:
    """One row per converted entry (PREVIEW_COLUMNS) from ``build_entries``'s columns, after
    ``build_appointments``; None gives the empty preview (texts)."""
    if entries is None:
        return pa.table({c: pa.array([], pa.string()) for c in PREVIEW_COLUMNS})
    return pa.table({
        "line": pa.array(entries["_line"], pa.int64()), "entry_id": entries["entry_id"],
        "started_at": entries["started_at"], "staff": entries["staff"], "client": entries["customer_name"],
        "customer_id": entries["customer_id"], "minutes": entries["minutes"], "tier": entries["tier"],
        "activity": entries["activity"], "appointment_id": entries["appointment_id"],
        "customer_requested": pa.array(entries["_requested"], pa.bool_()), "notes": entries["notes"]})
