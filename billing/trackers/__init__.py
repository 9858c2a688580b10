"""Importing any time tracker's export (issue 4): a mapping-driven conversion layer.

A tracker's CSV (Toggl Track, Clockify, Harvest, Kimai, solidtime, or anything a mapping
file describes) is converted into a canonical export folder (FORMATS.md), which the
engine then loads as a period import, so an entry edited or deleted in the tracker
replaces or removes the old one. What a file can remove is limited by its removal scope
(billing.load.decide_scope): a file of one person's or one client's entries removes only
theirs, so per-person and per-client exports add up.

    detect_preset(path) -> str | None
    load_mapping(name_or_path) -> Mapping
    convert(path, mapping, timezone, out_dir=None, date_order=None) -> Conversion
    import_tracker_file(db_path, path, preset_or_mapping, timezone=None, dry_run=False,
                        customer_map=None, *, date_order=None, policy=None, period=None,
                        scope="auto", add_only=False, expect_removals=None) -> TrackerImport
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from billing.trackers.convert import Conversion, convert
from billing.trackers.mapping import Mapping, load_mapping, matches, norm, preset_names
from billing.trackers.reader import TrackerError, read_header


def detect_preset(path: str | Path) -> str | None:
    """The shipped preset whose required headers the file's header row has (most specific wins)."""
    header = read_header(path)
    best, best_score = None, -1
    for name in preset_names():
        score = matches(header, load_mapping(name))
        if score > best_score:
            best, best_score = name, score
    return best if best_score > 0 else None


__all__ = ["Conversion", "Mapping", "TrackerError", "convert", "detect_preset", "load_mapping",
           "preset_names"]


# --- convert + the engine's period import -----------------------------------------------


@dataclass
class TrackerImport:
    """What importing a tracker file did (or, with dry_run, would do)."""
    conversion: Conversion
    result: object | None = None   # billing.load.ImportResult; None when the file has no row at all
    rejects: list = field(default_factory=list)  # billing.load.Reject: converter's, then engine's
    matched_customers: dict = field(default_factory=dict)   # client -> customer id, matched by name
    ambiguous_clients: dict = field(default_factory=dict)   # client -> the customer ids with its name
    hints: list = field(default_factory=list)                # what to change when no row converts

    @property
    def nothing_read(self) -> bool:
        """Rows there were, and none of them converted: nothing could be imported."""
        return self.conversion.entries == 0 and bool(self.rejects)


def _mapping_for(path: Path, preset_or_mapping) -> Mapping:
    if isinstance(preset_or_mapping, Mapping):
        return preset_or_mapping
    if preset_or_mapping in (None, "", "auto"):
        name = detect_preset(path)
        if name is None:
            raise TrackerError(
                f"{path.name}: the header row matches none of the presets ({', '.join(preset_names())}); "
                f"choose one or give a mapping file.")
        return load_mapping(name)
    return load_mapping(preset_or_mapping)


def known_customers(con) -> tuple[set[str], dict[str, set[str]]]:
    """The customer ids the database has, and the ids of each customer name (compared as
    ``norm`` does: case and spacing ignored) from customers.csv and the stored entries."""
    ids = {r[0] for r in con.execute(
        "SELECT customer_id FROM customers UNION SELECT customer_id FROM time_entries "
        "UNION SELECT customer_id FROM appointments UNION SELECT customer_id FROM purchases").fetchall()}
    by_name: dict[str, set[str]] = {}
    for customer_id, name in con.execute(
            "SELECT DISTINCT customer_id, customer_name FROM customers WHERE customer_name IS NOT NULL "
            "UNION SELECT DISTINCT customer_id, customer_name FROM time_entries "
            "WHERE customer_name IS NOT NULL").fetchall():
        by_name.setdefault(norm(name), set()).add(customer_id)
    return ids, by_name


def match_clients(clients, ids: set[str], by_name: dict[str, set[str]]) -> tuple[dict, dict]:
    """Tracker clients that no mapping entry names -> known customers, by name.

    A client equal to an existing customer id stays that id; a client whose name (case and
    spacing ignored) is exactly one known customer's becomes that customer; a name two or
    more customers share is not matched (returned as ambiguous, with their ids).
    """
    matched, ambiguous = {}, {}
    for client in clients:
        if client in ids:
            continue
        found = by_name.get(norm(client), set())
        if len(found) == 1:
            matched[client] = next(iter(found))
        elif len(found) > 1:
            ambiguous[client] = sorted(found)
    return matched, ambiguous



def no_row_hints(conversion: Conversion, tracker: str, *, cli: bool = True) -> list[str]:
    """What to change when no row of a tracker file converts: the converter's own hints
    first, then the presets and the date order."""
    hints = list(conversion.hints)
    others = ", ".join(n for n in preset_names() if n != tracker)
    if cli:
        hints.append(f"check that the file is a {tracker} export; if it is another tracker's, give --from with "
                     f"its preset ({others}) or a mapping file.")
        hints.append("if its dates are read the wrong way round, give --date-order dmy, mdy or ymd.")
    else:
        hints.append(f"check that the file is a {tracker} export; if it is another tracker's, choose it under "
                     f"Tracker ({others}).")
        hints.append("if its dates are read the wrong way round, choose the Date order (dmy, mdy or ymd).")
    return hints


def import_tracker_file(db_path, path, preset_or_mapping, timezone: str | None = None,
                        dry_run: bool = False, customer_map: dict | None = None, *,
                        date_order: str | None = None, policy=None, period=None, scope: str = "auto",
                        add_only: bool = False, expect_removals: str | None = None,
                        cli: bool = True, con=None) -> TrackerImport:
    """Convert a tracker export and load it as covering its first to last day.

    ``preset_or_mapping``: a preset name, a mapping file path, a ``Mapping``, or None/"auto"
    (recognised from the header row). ``customer_map`` (tracker client name -> customer id)
    is added to the mapping's. Clients that no mapping entry names are matched by name to the
    customers the database knows (``match_clients``; an explicit entry wins).

    Entries of the period that the file no longer has are removed by the engine, so an
    edited or deleted tracker entry does not bill twice: only this tracker's ids, and
    within the removal scope (``billing.load.decide_scope``; ``scope="auto"``: a file with
    one staff member is that person's own export, one with one customer that customer's,
    so per-person and per-client exports add up). ``period`` (first, last), when given,
    wins over the file's own first to last day. The period's days are those of the file's
    zone (``timezone``, else the mapping's, else the policy's). ``add_only`` removes nothing.

    A file none of whose rows converts is still recorded (0 added) with its rejects, and
    nothing is removed; ``hints`` then say what to change.
    """
    from billing.policy import load_policy
    from billing.store import open_db

    policy = policy or load_policy()
    path = Path(path)
    mapping = _mapping_for(path, preset_or_mapping)
    # The file's wall times are in the zone given, else the mapping's, else the policy's
    # (R1): always one zone, so that the command line and the Import page store the same
    # instants for the same file and a re-import finds its rows unchanged.
    timezone = timezone or mapping.format["timezone"] or policy.timezone
    if customer_map:
        mapping = mapping.copy()
        mapping.customers.update(customer_map)
    # Converted before the database is opened: a file that cannot be read touches nothing.
    conversion = convert(path, mapping, timezone, date_order=date_order)
    if conversion.needs_date_order:
        examples = ", ".join(dict.fromkeys(conversion.ambiguous_dates))
        raise TrackerError(
            f"{path.name}: dates such as {examples} could be day/month or month/day and no row "
            f"decides it; give the date order: --date-order dmy or mdy on the command line, "
            f"Date order on the Import page.")
    if conversion.entries == 0 and not conversion.rejects:
        return TrackerImport(conversion=conversion)  # a header and no row: nothing to import
    options = dict(timezone=timezone, date_order=date_order, policy=policy, period=period, scope=scope,
                   add_only=add_only, expect_removals=expect_removals, dry_run=dry_run, cli=cli)
    if con is not None:
        return _import_converted(con, db_path, path, mapping, conversion, **options)
    with open_db(db_path) as con:
        return _import_converted(con, db_path, path, mapping, conversion, **options)


def _import_converted(con, db_path, path: Path, mapping: Mapping, conversion: Conversion, *,
                      timezone, date_order, policy, period, scope, add_only, expect_removals, dry_run,
                      cli) -> TrackerImport:
    from billing.load import Reject, TableSource, import_export

    matched, ambiguous = match_clients(conversion.unmapped_clients, *known_customers(con))
    if matched:  # convert again with them, so ids and sessions use the right customer
        mapping = mapping.copy()
        mapping.customers.update(matched)
        conversion = convert(path, mapping, timezone, date_order=date_order)
    rejects = [Reject(file=f, line=line, column=col, reason=reason, record=raw)
               for f, line, col, reason, raw in conversion.rejects]
    done = TrackerImport(conversion=conversion, rejects=rejects, matched_customers=matched,
                         ambiguous_clients=ambiguous)
    notices = list(conversion.notes)
    notices += [f"client '{client}' is customer {cid} (the same name)." for client, cid in matched.items()]
    notices += [f"client '{client}' was not matched by name: customers {' and '.join(ids)} all have that "
                f"name; it becomes customer '{client}' unless the customer map says which."
                for client, ids in ambiguous.items()]
    zone = conversion.timezone or policy.timezone
    used = conversion.period
    if conversion.entries == 0:
        used, add_only = None, True   # rejected rows are no sign that anything was deleted
        done.hints = no_row_hints(conversion, mapping.name, cli=cli)
    elif period is not None:
        used = (period[0], period[1])
        if used != conversion.period:
            first, last = conversion.period
            notices.append(f"the period {used[0]}..{used[1]} given is used, not the file's own first to last "
                           f"day ({first}..{last}).")
    # The converted tables go to the engine as they are, as if they were the export's files.
    # Named after the user's own file, as the summary and the import log show them.
    names = {"time_entries": path.name, "appointments": f"{path.name} (sessions)"}
    source = {table: TableSource(names[table], data, origin=f"{path.name} ({mapping.name})")
              for table, data in conversion.tables.items()}
    done.result = import_export(
        db_path, source, period=used, policy=policy, dry_run=dry_run, label=f"{mapping.name}: {path.name}",
        id_prefix=f"{mapping.name}-", scope=scope, add_only=add_only, timezone=zone,
        scope_staff=conversion.staff, scope_customers=conversion.customers, expect_removals=expect_removals,
        extra_rejects=rejects, notices=notices, spare=conversion.reject_keys, con=con,
        notes={"unmapped_clients": [c for c in conversion.unmapped_clients if c not in matched],
               "matched_customers": matched, "ambiguous_clients": ambiguous,
               "tracker": mapping.name, "file": path.name,
               "period_source": "given" if period is not None else "file"})
    done.rejects = list(done.result.rejects)
    done.result.hints = list(done.hints)
    return done


__all__ += ["TrackerImport", "import_tracker_file", "known_customers", "match_clients", "no_row_hints"]
