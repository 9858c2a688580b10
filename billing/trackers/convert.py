"""Converting a tracker export into a canonical export folder (FORMATS.md) for the engine.

One pass reads every record through the mapping; a record the mapping cannot read is
rejected with its file, physical line, column and reason, and the rest go on. Nothing
is written until every record has been read, and each output file is written to a
temporary name and then renamed, so a folder never holds half a conversion.
"""
from __future__ import annotations

import csv
import hashlib
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from billing.trackers.mapping import Mapping, norm, resolve
from billing.trackers.reader import Record, Table, TrackerError, read_table
from billing.trackers.values import (
    DATE_ORDERS, date_order_evidence, minutes_text, parse_bool, parse_date, parse_duration,
    parse_time)
from billing.policy import US_PER_MINUTE

MAX_ENTRY_US = 1440 * US_PER_MINUTE  # FORMATS.md: minutes ≤ 1440

SEED_ACTIVITIES = ("kickoff", "orientation", "project_management", "familiarization", "setup",
                   "monitoring", "research", "testing", "status_call")

ENTRY_COLUMNS = ["entry_id", "customer_id", "customer_name", "staff", "started_at", "minutes",
                 "tier", "activity", "appointment_id", "customer_requested", "notes",
                 "project", "tags", "_source_file", "_source_line"]
APPOINTMENT_COLUMNS = ["appointment_id", "customer_id", "staff", "scheduled_start",
                       "scheduled_minutes", "status", "cancelled_at", "cancelled_by",
                       "_source_file", "_source_line"]
PREVIEW_COLUMNS = ["line", "entry_id", "started_at", "staff", "client", "customer_id", "minutes",
                   "tier", "activity", "appointment_id", "customer_requested", "notes"]

Reject = tuple  # (file, line, column, reason, raw_record)


class RowError(Exception):
    def __init__(self, column: str | None, reason: str):
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass
class Conversion:
    out_dir: Path
    period: tuple[date, date] | None
    rejects: list[Reject]
    unmapped_clients: list[str]
    preview: pd.DataFrame
    needs_date_order: bool = False
    tracker: str = ""
    source_file: str = ""
    date_order: str | None = None
    timezone: str | None = None
    entries: int = 0
    appointments: int = 0
    ambiguous_dates: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    line: int
    raw: str
    client: str
    customer_id: str
    staff: str
    wall_start: datetime          # as written (naive), for grouping and ids
    started_at: str               # canonical text, with the source offset when known
    sort_key: datetime
    us: int
    tier: str
    activity: str
    session: bool
    requested: bool
    notes: str
    project: str
    tags: str
    identity: str
    entry_id: str = ""
    appointment_id: str = ""


# --- the reading context: which cells feed which field ---------------------------------

class _Context:
    def __init__(self, table: Table, mapping: Mapping, zone: ZoneInfo | None, order: str | None):
        self.table = table
        self.mapping = mapping
        self.zone = zone
        self.order = order
        self.fmt = mapping.format
        self.decimal = self.fmt["decimal"] if self.fmt["decimal"] != "auto" else (
            "," if table.delimiter == ";" else ".")
        self.cols = {}
        for name, spec in mapping.columns.items():
            found = resolve(table.header, spec)
            if found:
                self.cols[name] = found

    def has(self, name: str) -> bool:
        return name in self.cols

    def column_name(self, name: str) -> str:
        return " + ".join(self.table.header[i] for i in self.cols.get(name, [])) or name

    def cell(self, fields: list[str], name: str) -> str | None:
        if name not in self.cols:
            return None
        parts = [fields[i].strip() for i in self.cols[name]]
        spec = self.mapping.columns[name]
        sep = spec.get("sep", self.fmt["join_separator"]) if isinstance(spec, dict) else " "
        return sep.join(p for p in parts if p)


def _need_columns(ctx: _Context, path: Path) -> None:
    """Whole-file errors: without these no row can be read."""
    needs = [("client", ("client",)), ("staff", ("staff",)), ("the start", ("start", "start_date")),
             ("the duration or end", ("duration", "end", "end_time"))]
    missing = [(label, keys) for label, keys in needs if not any(ctx.has(k) for k in keys)]
    if missing:
        wanted = "; ".join(
            f"{label} ({' or '.join(_spec_text(ctx.mapping.columns[k]) for k in keys if k in ctx.mapping.columns) or 'not mapped'})"
            for label, keys in missing)
        raise TrackerError(
            f"{path.name}: line 1: the header has no column for {wanted} "
            f"(mapping '{ctx.mapping.name}'); check the export or the mapping.")


def _spec_text(spec) -> str:
    if spec is None:
        return "not mapped"
    if isinstance(spec, str):
        return f"'{spec}'"
    if isinstance(spec, list):
        return " or ".join(f"'{s}'" for s in spec)
    return " + ".join(_spec_text(p) for p in spec["join"])


# --- date order: decided from the file's rows, or asked ----------------------------------

def _split_datetime(text: str) -> tuple[str, str]:
    s = text.strip()
    m = re.match(r"^(\S+?)(?:[Tt]|\s+)(\d.*)$", s)
    if m and re.search(r"\d[-/.]\d", m[1]):
        return m[1], m[2]
    return s, ""


def _date_texts(ctx: _Context, records: list[Record]):
    for rec in records:
        if len(rec.fields) != len(ctx.table.header):
            continue
        for name in ("start_date", "end_date"):
            value = ctx.cell(rec.fields, name)
            if value:
                yield rec.line, value
        for name in ("start", "end"):
            value = ctx.cell(rec.fields, name)
            if value:
                yield rec.line, _split_datetime(value)[0]


def decide_date_order(ctx: _Context, records: list[Record], path: Path) -> tuple[str | None, list[str]]:
    """(order, ambiguous examples): None when dates are day/month ambiguous throughout."""
    possible = {"dmy", "mdy"}
    ambiguous, decided_by = [], {}
    for line, text in _date_texts(ctx, records):
        evidence = date_order_evidence(text)
        if evidence is None:
            continue
        if len(evidence) == 2:
            if len(ambiguous) < 3:
                ambiguous.append(text)
            continue
        for order in evidence:
            decided_by.setdefault(order, (line, text))
        possible &= evidence
    if not possible:
        (l1, t1), (l2, t2) = decided_by["dmy"], decided_by["mdy"]
        raise TrackerError(
            f"{path.name}: the dates mix day-first (line {l1}: {t1}) and month-first "
            f"(line {l2}: {t2}) order; fix the export so all dates use one order.")
    if len(possible) == 1:
        return possible.pop(), []
    return (None, ambiguous) if ambiguous else ("ymd", [])


# --- one record -----------------------------------------------------------------------

def _parse_date_cell(ctx: _Context, field_name: str, text: str) -> date:
    try:
        return parse_date(text, ctx.order)
    except ValueError as exc:
        raise RowError(ctx.column_name(field_name), str(exc)) from None


def _parse_time_cell(ctx: _Context, field_name: str, text: str) -> time:
    try:
        return parse_time(text, ctx.fmt["clock"])
    except ValueError as exc:
        raise RowError(ctx.column_name(field_name), str(exc)) from None


def _start(ctx: _Context, fields: list[str]) -> tuple[date, time | None]:
    if ctx.has("start"):
        text = ctx.cell(fields, "start")
        if not text:
            raise RowError(ctx.column_name("start"), "has no start")
        date_text, time_text = _split_datetime(text)
        day = _parse_date_cell(ctx, "start", date_text)
        return day, (_parse_time_cell(ctx, "start", time_text) if time_text else None)
    date_text = ctx.cell(fields, "start_date")
    if not date_text:
        raise RowError(ctx.column_name("start_date"), "has no date")
    day = _parse_date_cell(ctx, "start_date", date_text)
    time_text = ctx.cell(fields, "start_time")
    return day, (_parse_time_cell(ctx, "start_time", time_text) if time_text else None)


def _end(ctx: _Context, fields: list[str], start_day: date) -> tuple[datetime | None, str]:
    if ctx.has("end") and ctx.cell(fields, "end"):
        text = ctx.cell(fields, "end")
        date_text, time_text = _split_datetime(text)
        if not time_text:  # only a time of day was written
            return datetime.combine(start_day, _parse_time_cell(ctx, "end", date_text)), "end"
        day = _parse_date_cell(ctx, "end", date_text)
        return datetime.combine(day, _parse_time_cell(ctx, "end", time_text)), "end"
    time_text = ctx.cell(fields, "end_time")
    if ctx.has("end_time") and time_text:
        date_text = ctx.cell(fields, "end_date")
        day = _parse_date_cell(ctx, "end_date", date_text) if date_text else start_day
        return datetime.combine(day, _parse_time_cell(ctx, "end_time", time_text)), "end_time"
    return None, ""


def _instant(ctx: _Context, wall: datetime) -> datetime:
    """R1: a wall time in the source zone as an instant; a skipped or repeated one is fold 0."""
    if ctx.zone is None:
        return wall
    return wall.replace(tzinfo=ctx.zone, fold=0).astimezone(dt_timezone.utc)


def _duration_us(ctx: _Context, fields: list[str], start_day: date, start_time: time | None) -> int:
    end, end_field = _end(ctx, fields, start_day)
    if end is not None and start_time is not None:
        # Start and end both given: the duration comes from them, as real elapsed time
        # (an instant difference, so a daylight-saving change counts as it happened).
        start = datetime.combine(start_day, start_time)
        if end < start:
            end += timedelta(days=1)  # an end before the start means the next day
        if end < start:
            raise RowError(ctx.column_name(end_field), f"ends ({end:%Y-%m-%d %H:%M}) before it starts")
        elapsed = _instant(ctx, end) - _instant(ctx, start)
        return elapsed // timedelta(microseconds=1)
    text = ctx.cell(fields, "duration")
    if not text:
        what = "no end time and no duration" if ctx.has("duration") else "no end time"
        raise RowError(ctx.column_name("duration" if ctx.has("duration") else "end_time"),
                       f"has {what} (a running timer?)")
    try:
        return parse_duration(text, ctx.fmt["duration"], ctx.fmt["duration_unit"],
                              ctx.decimal, ctx.fmt["thousands"])
    except ValueError as exc:
        raise RowError(ctx.column_name("duration"), str(exc)) from None


def _bool_cell(ctx: _Context, fields: list[str], name: str) -> bool | None:
    if not ctx.has(name):
        return None
    try:
        return parse_bool(ctx.cell(fields, name) or "", ctx.mapping.yes, ctx.mapping.no)
    except ValueError as exc:
        raise RowError(ctx.column_name(name), str(exc)) from None


def _in(value: str, names: list[str]) -> bool:
    return bool(value) and norm(value) in {norm(n) for n in names}


def _any_in(values: list[str], names: list[str]) -> bool:
    wanted = {norm(n) for n in names}
    return any(norm(v) in wanted for v in values)


def decide_tier(ctx: _Context, client: str, project: str, tags: list[str],
                billable: bool | None) -> str:
    """R2: one_on_one or general, from (in order) client, project, tags, the billable flag."""
    meaning = ctx.mapping.meaning
    for kind, values in (("clients", [client]), ("projects", [project]), ("tags", tags)):
        general = _any_in(values, meaning[f"general_{kind}"])
        one = _any_in(values, meaning[f"one_on_one_{kind}"])
        if general and one:
            raise RowError(ctx.column_name("tags" if kind == "tags" else kind[:-1]),
                           f"its {kind} mean both one_on_one and general (R2); fix the mapping")
        if general or one:
            return "general" if general else "one_on_one"
    if billable is not None:
        return meaning["billable_yes"] if billable else meaning["billable_no"]
    if meaning["default_tier"]:
        return meaning["default_tier"]
    raise RowError(ctx.column_name("billable"),
                   "nothing says whether this is one_on_one or general work (R2); "
                   "set a billable column or default_tier in the mapping")


def decide_activity(ctx: _Context, fields: list[str], task: str, tags: list[str], project: str) -> str:
    """Task or tags -> activity; a name that reads as a seed category becomes that category."""
    meaning = ctx.mapping.meaning
    meaning_tags = set()
    for key in ("session_tags", "requested_tags", "one_on_one_tags", "general_tags"):
        meaning_tags |= {norm(t) for t in meaning[key]}
    value = ""
    for source in meaning["activity_from"]:
        if source == "task":
            value = task
        elif source == "tags":
            value = next((t for t in tags if norm(t) not in meaning_tags), "")
        elif source == "project":
            value = project
        elif source in ("activity", "description"):
            value = ctx.cell(fields, source) or ""
        if value:
            break
    if not value:
        return ""
    for name, canonical in ctx.mapping.activity_map.items():
        if norm(name) == norm(value):
            return canonical
    seed = re.sub(r"[\s\-]+", "_", norm(value))
    return seed if seed in SEED_ACTIVITIES else value


def map_record(ctx: _Context, rec: Record) -> _Entry:
    fields = rec.fields
    width = len(ctx.table.header)
    if len(fields) != width:
        raise RowError(None, f"has {len(fields)} fields but the header has {width}")
    staff = ctx.cell(fields, "staff")
    if not staff:
        raise RowError(ctx.column_name("staff"), "has no staff member (who did the work)")
    client = ctx.cell(fields, "client")
    if not client:
        raise RowError(ctx.column_name("client"), "has no client, so no customer can be billed")
    customer_id = ctx.mapping.customer_for(client) or re.sub(r"\s+", " ", client).strip()

    start_day, start_time = _start(ctx, fields)
    us = _duration_us(ctx, fields, start_day, start_time)
    duration_column = ctx.column_name("duration" if ctx.has("duration") else "end_time")
    if us <= 0:
        raise RowError(duration_column, "the duration is zero; there is no time to bill")
    if us > MAX_ENTRY_US:
        raise RowError(duration_column,
                       f"the duration is {minutes_text(us)} minutes, more than a day (1440)")
    if minutes_text(us) == "0":
        raise RowError(duration_column, "the duration rounds to zero minutes")

    wall = datetime.combine(start_day, start_time or time(0))
    if start_time is None:
        # A date without a time belongs to that business day (R1): written without an
        # offset, midnight is read as local time in the policy zone, so its day is kept.
        started_at, sort_key = wall.isoformat(), wall
    elif ctx.zone is not None:
        local = wall.replace(tzinfo=ctx.zone, fold=0)  # R1: fold 0
        started_at, sort_key = local.isoformat(), local.astimezone(dt_timezone.utc).replace(tzinfo=None)
    else:
        started_at, sort_key = wall.isoformat(), wall

    project = ctx.cell(fields, "project") or ""
    task = ctx.cell(fields, "task") or ""
    tags_text = ctx.cell(fields, "tags") or ""
    tags = [t.strip() for t in tags_text.split(ctx.fmt["tags_separator"]) if t.strip()]
    billable = _bool_cell(ctx, fields, "billable")
    tier = decide_tier(ctx, client, project, tags, billable)
    meaning = ctx.mapping.meaning
    session = bool(_bool_cell(ctx, fields, "session")) or _in(project, meaning["session_projects"]) \
        or _any_in(tags, meaning["session_tags"]) or _in(task, meaning["session_tasks"])
    requested = bool(_bool_cell(ctx, fields, "customer_requested")) \
        or _any_in(tags, meaning["requested_tags"])
    activity = decide_activity(ctx, fields, task, tags, project)
    notes = ctx.cell(fields, "description") or ""
    email = ctx.cell(fields, "email") or ""
    identity = "\x1f".join([ctx.mapping.name, staff, email, client, project, task, notes,
                            wall.isoformat(), str(start_time is not None), str(us),
                            "" if billable is None else str(billable), tags_text])
    return _Entry(line=rec.line, raw=rec.raw, client=client, customer_id=customer_id, staff=staff,
                  wall_start=wall, started_at=started_at, sort_key=sort_key, us=us, tier=tier,
                  activity=activity, session=session, requested=requested, notes=notes,
                  project=project, tags=tags_text, identity=identity)


# --- ids, sessions, output ----------------------------------------------------------

def _digest(text: str, n: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def assign_ids(entries: list[_Entry], tracker: str) -> None:
    """A stable id from the row's content; identical rows get an occurrence counter."""
    seen: Counter = Counter()
    for entry in entries:
        seen[entry.identity] += 1
        n = seen[entry.identity]
        entry.entry_id = f"{tracker}-{_digest(entry.identity)}" + (f"-{n}" if n > 1 else "")


def derive_appointments(entries: list[_Entry], tracker: str, source_file: str) -> list[dict]:
    """R4: session entries get one completed appointment per customer and (written) day.

    Only one_on_one entries are tied to it (general work is never billable, R2, so it
    stays plain non-billable usage). The booked length is what was logged, so that
    ``at_least_booked`` adds nothing to a session no one booked in advance.
    """
    groups: dict[tuple[str, date], list[_Entry]] = defaultdict(list)
    for entry in entries:
        if entry.session and entry.tier == "one_on_one":
            groups[(entry.customer_id, entry.wall_start.date())].append(entry)
    appointments = []
    for (customer_id, day), members in sorted(groups.items()):
        appointment_id = f"{tracker}-session-{_digest(customer_id + chr(31) + day.isoformat(), 12)}"
        first = min(members, key=lambda e: (e.sort_key, e.line))
        staff = {e.staff for e in members}
        for entry in members:
            entry.appointment_id = appointment_id
        appointments.append({
            "appointment_id": appointment_id, "customer_id": customer_id,
            "staff": staff.pop() if len(staff) == 1 else "",
            "scheduled_start": first.started_at,
            "scheduled_minutes": minutes_text(sum(e.us for e in members)),
            "status": "completed", "cancelled_at": "", "cancelled_by": "",
            "_source_file": source_file, "_source_line": str(first.line)})
    return appointments


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def _entry_row(entry: _Entry, source_file: str) -> dict:
    return {"entry_id": entry.entry_id, "customer_id": entry.customer_id,
            "customer_name": entry.client, "staff": entry.staff, "started_at": entry.started_at,
            "minutes": minutes_text(entry.us), "tier": entry.tier, "activity": entry.activity,
            "appointment_id": entry.appointment_id,
            "customer_requested": "true" if entry.requested else "false", "notes": entry.notes,
            "project": entry.project, "tags": entry.tags,
            "_source_file": source_file, "_source_line": str(entry.line)}


def _zone(path: Path, name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TrackerError(f"{path.name}: time zone {name!r} is not one that zoneinfo knows "
                           f"(use an IANA name such as Europe/Berlin).") from None


def convert(path: str | Path, mapping: Mapping, timezone: str | None, out_dir: str | Path,
            date_order: str | None = None) -> Conversion:
    """Convert one tracker file into ``out_dir`` (time_entries.csv, maybe appointments.csv).

    ``timezone`` is the zone of the file's wall times (None: the mapping's, else written
    without an offset). ``date_order`` (ymd/dmy/mdy) overrides the mapping's; when the
    order is needed but cannot be decided, nothing is written and ``needs_date_order``
    is set so the caller can ask.
    """
    path = Path(path)
    out_dir = Path(out_dir)
    if date_order is not None and date_order not in DATE_ORDERS:
        raise TrackerError(f"date order {date_order!r} must be one of {', '.join(DATE_ORDERS)}.")
    delimiter = None if mapping.format["delimiter"] == "auto" else mapping.format["delimiter"]
    table = read_table(path, delimiter)
    zone_name = timezone or mapping.format["timezone"] or None
    zone = _zone(path, zone_name)
    ctx = _Context(table, mapping, zone, None)
    _need_columns(ctx, path)
    source_file = path.name

    order = date_order or (None if mapping.format["date_order"] == "auto" else mapping.format["date_order"])
    ambiguous: list[str] = []
    if order is None:
        order, ambiguous = decide_date_order(ctx, table.records, path)
    ctx.order = order
    if order is None:
        return Conversion(out_dir=out_dir, period=None, rejects=[], unmapped_clients=[],
                          preview=pd.DataFrame(columns=PREVIEW_COLUMNS), needs_date_order=True,
                          tracker=mapping.name, source_file=source_file, timezone=zone_name,
                          ambiguous_dates=ambiguous)

    entries: list[_Entry] = []
    rejects: list[Reject] = []
    for rec in table.records:
        try:
            entries.append(map_record(ctx, rec))
        except RowError as exc:
            rejects.append((source_file, rec.line, exc.column, exc.reason, rec.raw))
    assign_ids(entries, mapping.name)
    appointments = derive_appointments(entries, mapping.name, source_file)

    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(out_dir / "time_entries.csv", ENTRY_COLUMNS, [_entry_row(e, source_file) for e in entries])
    if appointments:
        _write_csv(out_dir / "appointments.csv", APPOINTMENT_COLUMNS, appointments)
    elif (out_dir / "appointments.csv").exists():
        (out_dir / "appointments.csv").unlink()  # left by an earlier conversion into this folder

    days = [e.wall_start.date() for e in entries]
    unmapped = sorted({re.sub(r"\s+", " ", e.client).strip() for e in entries
                       if mapping.customer_for(e.client) is None}, key=str.casefold)
    preview = pd.DataFrame(
        [{"line": e.line, "entry_id": e.entry_id, "started_at": e.started_at, "staff": e.staff,
          "client": e.client, "customer_id": e.customer_id, "minutes": minutes_text(e.us),
          "tier": e.tier, "activity": e.activity, "appointment_id": e.appointment_id,
          "customer_requested": e.requested, "notes": e.notes} for e in entries],
        columns=PREVIEW_COLUMNS)
    return Conversion(out_dir=out_dir, period=(min(days), max(days)) if days else None,
                      rejects=rejects, unmapped_clients=unmapped, preview=preview,
                      tracker=mapping.name, source_file=source_file, date_order=order,
                      timezone=zone_name, entries=len(entries), appointments=len(appointments))
