"""Importing any time tracker's export (issue 4): a mapping-driven conversion layer.

A tracker's CSV (Toggl Track, Clockify, Harvest, Kimai, solidtime, or anything a mapping
file describes) is converted into a canonical export folder (FORMATS.md), which the
engine then loads as a period import, so an entry edited or deleted in the tracker
replaces or removes the old one.

    detect_preset(path) -> str | None
    load_mapping(name_or_path) -> Mapping
    convert(path, mapping, timezone, out_dir, date_order=None) -> Conversion
"""
from __future__ import annotations

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
