"""Importing any time tracker's export (issue 4): a mapping-driven conversion layer.

A tracker's CSV (Toggl Track, Clockify, Harvest, Kimai, solidtime, or anything a mapping
file describes) is converted into a canonical export folder (FORMATS.md), which the
engine then loads as a period import, so an entry edited or deleted in the tracker
replaces or removes the old one.

    detect_preset(path) -> str | None
    load_mapping(name_or_path) -> Mapping
    convert(path, mapping, timezone, out_dir, date_order=None) -> Conversion
    import_tracker_file(db_path, path, preset_or_mapping, timezone=None, dry_run=False,
                        customer_map=None, *, date_order=None, policy=None) -> TrackerImport
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from billing.trackers.convert import Conversion, convert
from billing.trackers.mapping import Mapping, load_mapping, matches, preset_names
from billing.trackers.reader import TrackerError, read_table


def detect_preset(path: str | Path) -> str | None:
    """The shipped preset whose required headers the file's header row has (most specific wins)."""
    header = read_table(path).header
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
    result: object | None = None   # billing.load.ImportResult; None when nothing was readable
    rejects: list = field(default_factory=list)  # billing.load.Reject: converter's, then engine's


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


def import_tracker_file(db_path, path, preset_or_mapping, timezone: str | None = None,
                        dry_run: bool = False, customer_map: dict | None = None, *,
                        date_order: str | None = None, policy=None) -> TrackerImport:
    """Convert a tracker export and load it as covering its first to last day.

    ``preset_or_mapping``: a preset name, a mapping file path, a ``Mapping``, or None/"auto"
    (recognised from the header row). ``customer_map`` (tracker client name -> customer id)
    is added to the mapping's. Entries of that period that the file no longer has are
    removed by the engine, so an edited or deleted tracker entry does not bill twice.
    """
    from billing.load import Reject, import_export

    path = Path(path)
    mapping = _mapping_for(path, preset_or_mapping)
    if customer_map:
        mapping = mapping.copy()
        mapping.customers.update(customer_map)
    with tempfile.TemporaryDirectory(prefix="hourbank-tracker-") as tmp:
        conversion = convert(path, mapping, timezone, tmp, date_order=date_order)
        if conversion.needs_date_order:
            examples = ", ".join(conversion.ambiguous_dates)
            raise TrackerError(
                f"{path.name}: dates such as {examples} could be day/month or month/day and no row "
                f"decides it; give the date order (dmy or mdy).")
        rejects = [Reject(file=f, line=line, column=col, reason=reason, record=raw)
                   for f, line, col, reason, raw in conversion.rejects]
        if conversion.entries == 0:
            return TrackerImport(conversion=conversion, result=None, rejects=rejects)
        # The period removal is scoped to this tracker's own ids, and widened to the business
        # days (policy zone) of the converted rows, so edits near midnight are still caught.
        result = import_export(db_path, tmp, period=conversion.period, policy=policy,
                               dry_run=dry_run, label=f"{mapping.name}: {path.name}",
                               id_prefix=f"{mapping.name}-", widen_period=True, extra_rejects=rejects,
                               notes={"unmapped_clients": list(conversion.unmapped_clients),
                                      "tracker": mapping.name, "file": path.name})
    return TrackerImport(conversion=conversion, result=result, rejects=list(result.rejects))


__all__ += ["TrackerImport", "import_tracker_file"]
