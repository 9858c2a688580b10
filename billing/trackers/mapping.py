"""A mapping: how one tracker's export becomes canonical time entries (FORMATS.md).

A mapping is a TOML file (the shipped presets live in ``presets/``). It says:
- ``[detect] require``: header names that identify the tracker (a list inside the list
  means "one of these");
- ``extends = "toggl"``: start from that preset (or mapping file) and change only the keys
  given here, section by section;
- ``[columns]``: which column feeds each source field. A value is a header name, a list
  of names (per row, the first of them that the file has and that is not empty: header
  variants and languages, or a fallback such as ``client = ["Client", "Project"]``), or
  ``{ join = ["First Name", "Last Name"], sep = " " }``. Names ignore case and spacing
  and may use ``*`` (``"Amount (*)"``). In a list, ``{ column = "Issue Key", pattern =
  "^([A-Z][A-Z0-9_]*)-[0-9]+$" }`` takes the part of that column's value that the pattern's
  group matches (Jira: the project key of an issue key);
- ``[format]``: date order or a strptime ``date_pattern``, 12/24-hour clock, duration style
  and unit, number marks, delimiter, the source's time zone;
- ``[values]``: which texts mean yes and no (localized);
- ``[meaning]``: tiers (R2), session work (R4), customer-requested (R3), activity;
- ``[activity_map]`` and ``[customers]``: tracker names to canonical ones.
"""
from __future__ import annotations

import codecs
import copy
import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billing.trackers.reader import TrackerError

PRESET_DIR = Path(__file__).resolve().parent / "presets"

SOURCE_FIELDS = (
    "id", "staff", "email", "client", "project", "task", "description", "billable", "tags",
    "start", "start_date", "start_time", "end", "end_date", "end_time", "duration",
    "activity", "customer_requested", "session",
)
TIERS = ("one_on_one", "general")

DEFAULT_YES = ["yes", "y", "true", "1", "x", "billable", "ja", "j", "oui", "sí", "si", "sì", "sim",
               "tak", "ano", "kyllä", "da", "evet", "wahr"]
DEFAULT_NO = ["no", "n", "false", "0", "", "non-billable", "not billable", "nein", "nee", "non", "não",
              "nao", "nie", "ne", "ei", "hayır", "falsch"]

FORMAT_DEFAULTS = {
    "date_order": "auto",      # ymd | dmy | mdy | auto (decide from the rows, or ask)
    "clock": "auto",           # 24h | 12h | auto
    "duration": "auto",        # auto | hms | number
    "duration_unit": "hours",  # unit of a plain number duration: hours | minutes | seconds | auto
    #                            (auto: the unit the column's name states, else the one that
    #                            fits every row's start and end and a day; Kimai 1.x: seconds)
    "decimal": "auto",         # "." | "," | auto (decided from the file's own number values)
    "date_pattern": "",        # strptime pattern for dates (or date and time), e.g. "%d/%b/%y %I:%M %p"
    "encoding": "utf-8",       # the CSV file's text encodings, tried in order, e.g. "utf-8, cp1252"
    "thousands": "",           # grouping marks allowed in numbers, e.g. ",'" or ". "
    "delimiter": "auto",       # "," | ";" | "\t" | auto
    "tags_separator": ",",
    "join_separator": " ",
    "timezone": "",            # the zone of the file's wall times; "" = given on import
}
MEANING_DEFAULTS = {
    "billable_yes": "one_on_one",
    "billable_no": "general",
    "default_tier": "",        # tier when nothing else decides; "" = the row is rejected
    "one_on_one_projects": [], "general_projects": [],
    "one_on_one_tags": [], "general_tags": [],
    "one_on_one_clients": [], "general_clients": [],
    "session_projects": [], "session_tags": ["session"], "session_tasks": [],
    "requested_tags": ["customer requested", "customer-requested", "customer_requested"],
    "activity_from": ["task", "tags"],
}


def norm(text: str) -> str:
    """A name compared the way people mean it: case and spacing ignored."""
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


@dataclass
class Mapping:
    name: str
    title: str = ""
    require: list = field(default_factory=list)
    columns: dict = field(default_factory=dict)
    format: dict = field(default_factory=lambda: dict(FORMAT_DEFAULTS))
    yes: list = field(default_factory=lambda: list(DEFAULT_YES))
    no: list = field(default_factory=lambda: list(DEFAULT_NO))
    meaning: dict = field(default_factory=lambda: copy.deepcopy(MEANING_DEFAULTS))
    activity_map: dict = field(default_factory=dict)
    customers: dict = field(default_factory=dict)
    source: str = ""

    def copy(self) -> "Mapping":
        """An editable copy (the Import page changes meanings without touching the preset)."""
        return copy.deepcopy(self)

    def customer_for(self, client: str) -> str | None:
        """R-: tracker client name -> customer id through the customer map; None if unmapped."""
        wanted = norm(client)
        for name, customer_id in self.customers.items():
            if norm(name) == wanted:
                return customer_id
        return None

    def to_toml(self) -> str:
        """The mapping as a TOML file, so an edited mapping can be saved and reused."""
        out = [f"name = {_toml(self.name)}", f"title = {_toml(self.title)}", "", "[detect]",
               f"require = {_toml(self.require)}", "", "[columns]"]
        out += [f"{k} = {_toml(v)}" for k, v in self.columns.items()]
        out += ["", "[format]"] + [f"{k} = {_toml(v)}" for k, v in self.format.items()]
        out += ["", "[values]", f"yes = {_toml(self.yes)}", f"no = {_toml(self.no)}"]
        out += ["", "[meaning]"] + [f"{k} = {_toml(v)}" for k, v in self.meaning.items()]
        out += ["", "[activity_map]"] + [f"{_toml(k)} = {_toml(v)}" for k, v in self.activity_map.items()]
        out += ["", "[customers]"] + [f"{_toml(k)} = {_toml(v)}" for k, v in self.customers.items()]
        return "\n".join(out) + "\n"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


# --- reading and checking a mapping file --------------------------------------------

def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A shipped preset by name (``toggl``) or a mapping file by path.

    Raises TrackerError (one sentence naming the file and the key) for a missing, unreadable
    or invalid mapping."""
    data, path = _read_mapping_data(name_or_path)
    return mapping_from_dict(data, source=str(path))


def _read_mapping_data(name_or_path: str | Path, relative_to: Path | None = None) -> tuple[dict, Path]:
    """The TOML table of a preset (by name) or a mapping file (by path), as written."""
    text_name = str(name_or_path)
    if relative_to is not None and not Path(text_name).is_absolute() and (relative_to / text_name).exists():
        name_or_path = relative_to / text_name
    path = PRESET_DIR / f"{text_name}.toml"
    if not (re.fullmatch(r"[a-z0-9_]+", text_name) and path.exists()):
        path = Path(name_or_path)
        if not path.exists():
            raise TrackerError(
                f"{text_name}: no such mapping file or preset (presets: {', '.join(preset_names())}).")
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise TrackerError(f"{path}: the mapping file is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise TrackerError(f"{path}: the mapping file is not valid TOML ({exc}).") from None
    except OSError as exc:
        raise TrackerError(f"{path}: cannot read the mapping file ({exc.strerror}).") from None
    return data, path


MERGED_SECTIONS = ("detect", "columns", "format", "values", "meaning", "activity_map", "customers")


def _extended(data: dict, source: str, seen: tuple[str, ...] = ()) -> dict:
    """``data`` laid over the mapping it ``extends`` (section by section, key by key)."""
    base_name = data.get("extends")
    if base_name is None:
        return data
    if not isinstance(base_name, str) or not base_name:
        _fail(source, "'extends' must name a preset or a mapping file")
    if base_name in seen:
        _fail(source, f"'extends' goes round in a circle ({' -> '.join(seen + (base_name,))})")
    try:
        base, base_path = _read_mapping_data(base_name, Path(source).parent if source else None)
    except TrackerError as exc:
        raise TrackerError(f"{source}: 'extends' names {base_name!r}, which cannot be used: {exc}") from None
    base = _extended(base, str(base_path), seen + (base_name,))
    merged = {k: v for k, v in base.items() if k not in ("name", "title")}
    for key, value in data.items():
        if key == "extends":
            continue
        if key in MERGED_SECTIONS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    merged.setdefault("name", base.get("name", base_name))
    merged.setdefault("title", f"{base.get('title', base_name)}, changed by {Path(source).name}")
    return merged


def _fail(source: str, what: str) -> None:
    raise TrackerError(f"{source}: {what}.")


def _str_list(source: str, key: str, value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _fail(source, f"'{key}' must be a list of texts")
    return list(value)


def _check_column_spec(source: str, key: str, spec) -> None:
    if isinstance(spec, str):
        return
    if isinstance(spec, list) and spec and all(isinstance(v, str) or _is_pattern_spec(v) for v in spec):
        for item in spec:
            if isinstance(item, dict):
                try:
                    groups = re.compile(item["pattern"]).groups
                except re.error as exc:
                    _fail(source, f"columns.{key}: pattern {item['pattern']!r} is not a regular expression ({exc})")
                if groups != 1:
                    _fail(source, f"columns.{key}: pattern {item['pattern']!r} must have exactly one group")
        return
    if isinstance(spec, dict) and set(spec) <= {"join", "sep"} and "join" in spec:
        parts = spec["join"]
        if isinstance(parts, list) and parts and all(isinstance(p, (str, list)) for p in parts):
            if isinstance(spec.get("sep", " "), str):
                return
    _fail(source, f"columns.{key} must be a header name, a list of alternative names (each a name or "
                  f"{{ column = name, pattern = regex }}), or {{ join = [names], sep = \" \" }}")


def _is_pattern_spec(item) -> bool:
    """``{ column = "Issue Key", pattern = "^(.+)-[0-9]+$" }``: part of a column's value."""
    return (isinstance(item, dict) and set(item) == {"column", "pattern"}
            and all(isinstance(v, str) and v for v in item.values()))


def spec_column(item) -> str:
    """The header name of one alternative of a column spec (a name or a pattern spec)."""
    return item["column"] if isinstance(item, dict) else item


def mapping_from_dict(data: dict, source: str = "mapping") -> Mapping:
    """A checked ``Mapping`` from a mapping file's TOML table (``extends`` resolved).

    Raises TrackerError naming the first unknown or bad key."""
    known = {"name", "title", "extends", "detect", "columns", "format", "values", "meaning",
             "activity_map", "customers"}
    for key in data:
        if key not in known:
            _fail(source, f"unknown section or key '{key}' (known: {', '.join(sorted(known))})")
    data = _extended(data, source)
    name = data.get("name") or Path(source).stem
    if not isinstance(name, str):
        _fail(source, "'name' must be a text")
    mapping = Mapping(name=name, title=str(data.get("title", name)), source=source)

    detect = data.get("detect", {})
    if not isinstance(detect, dict) or set(detect) - {"require"}:
        _fail(source, "[detect] takes only 'require'")
    require = detect.get("require", [])
    if not isinstance(require, list) or not all(
            isinstance(r, str) or (isinstance(r, list) and all(isinstance(x, str) for x in r))
            for r in require):
        _fail(source, "detect.require must list header names (a list inside means one of them)")
    mapping.require = require

    columns = data.get("columns", {})
    if not isinstance(columns, dict):
        _fail(source, "[columns] must be a table")
    for key, spec in columns.items():
        if key not in SOURCE_FIELDS:
            _fail(source, f"unknown column field '{key}' (known: {', '.join(SOURCE_FIELDS)})")
        _check_column_spec(source, key, spec)
    mapping.columns = dict(columns)

    fmt = data.get("format", {})
    for key, value in fmt.items():
        if key not in FORMAT_DEFAULTS:
            _fail(source, f"unknown format setting '{key}' (known: {', '.join(FORMAT_DEFAULTS)})")
        if not isinstance(value, str):
            _fail(source, f"format.{key} must be a text, not {value!r}")
    mapping.format = {**FORMAT_DEFAULTS, **fmt}
    _check_format(source, mapping.format)

    values = data.get("values", {})
    for key in values:
        if key not in ("yes", "no"):
            _fail(source, f"unknown values setting '{key}' (known: yes, no)")
    if "yes" in values:
        mapping.yes = _str_list(source, "values.yes", values["yes"])
    if "no" in values:
        mapping.no = _str_list(source, "values.no", values["no"])
    overlap = {norm(v) for v in mapping.yes} & {norm(v) for v in mapping.no}
    if overlap:
        _fail(source, f"values {sorted(overlap)} are listed as both yes and no")

    meaning = data.get("meaning", {})
    for key, value in meaning.items():
        if key not in MEANING_DEFAULTS:
            _fail(source, f"unknown meaning setting '{key}' (known: {', '.join(MEANING_DEFAULTS)})")
        if isinstance(MEANING_DEFAULTS[key], list):
            _str_list(source, f"meaning.{key}", value)
        elif not isinstance(value, str):
            _fail(source, f"meaning.{key} must be a text")
    mapping.meaning = {**copy.deepcopy(MEANING_DEFAULTS), **meaning}
    for key in ("billable_yes", "billable_no"):
        if mapping.meaning[key] not in TIERS:
            _fail(source, f"meaning.{key} must be one_on_one or general (R2)")
    if mapping.meaning["default_tier"] not in TIERS + ("",):
        _fail(source, "meaning.default_tier must be one_on_one, general or empty (R2)")
    for item in mapping.meaning["activity_from"]:
        if item not in ("task", "tags", "project", "activity", "description"):
            _fail(source, f"meaning.activity_from: '{item}' is not task, tags, project or activity")

    for section in ("activity_map", "customers"):
        table = data.get(section, {})
        if not isinstance(table, dict) or not all(
                isinstance(v, str) and v.strip() for v in table.values()):
            _fail(source, f"[{section}] must map names to non-empty texts")
        setattr(mapping, section, dict(table))
    return mapping


def encodings_of(fmt: dict) -> tuple[str, ...]:
    """The text encodings a mapping's ``format.encoding`` lists, in the order to try them."""
    return tuple(e.strip() for e in fmt["encoding"].split(",") if e.strip()) or ("utf-8",)


def _check_format(source: str, fmt: dict) -> None:
    allowed = {
        "date_order": ("auto", "ymd", "dmy", "mdy"), "clock": ("auto", "24h", "12h"),
        "duration": ("auto", "hms", "number"), "duration_unit": ("hours", "minutes", "seconds", "auto"),
        "decimal": ("auto", ".", ","), "delimiter": ("auto", ",", ";", "\t"),
    }
    for key, choices in allowed.items():
        if fmt[key] not in choices:
            _fail(source, f"format.{key} must be one of {', '.join(repr(c) for c in choices)}, "
                          f"not {fmt[key]!r}")
    for encoding in encodings_of(fmt):
        try:
            codecs.lookup(encoding)
        except LookupError:
            _fail(source, f"format.encoding: {encoding!r} is not a text encoding Python knows "
                          f"(such as 'utf-8', 'cp1252', 'iso-8859-15')")
    if fmt["date_pattern"] and "%" not in fmt["date_pattern"]:
        _fail(source, f"format.date_pattern {fmt['date_pattern']!r} is not a strptime pattern (such as '%d/%m/%y')")
    if fmt["timezone"]:
        try:
            ZoneInfo(fmt["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            _fail(source, f"format.timezone {fmt['timezone']!r} is not a time zone that zoneinfo knows")


# --- matching header names ------------------------------------------------------------

def find_column(header: list[str], name: str) -> int | None:
    """Index of the header cell matching ``name`` (case/spacing ignored, ``*`` wildcard)."""
    wanted = norm(name)
    normalized = [norm(h) for h in header]
    if "*" in wanted or "?" in wanted:
        for i, h in enumerate(normalized):
            if fnmatch.fnmatchcase(h, wanted):
                return i
        return None
    return normalized.index(wanted) if wanted in normalized else None


def resolve_all(header: list[str], spec) -> tuple[str, list[int]] | None:
    """Which header cells feed a field, and how: ("first", the cells of a list of names that
    the header has, in the list's order: per row the first non-empty one is used) or
    ("join", one cell per part, joined); None if the header has none of them."""
    if isinstance(spec, dict):
        found = resolve(header, spec)
        return ("join", found) if found else None
    names = [spec] if isinstance(spec, str) else [spec_column(n) for n in spec]
    found = [i for i in (find_column(header, n) for n in names) if i is not None]
    return ("first", list(dict.fromkeys(found))) if found else None


def resolve(header: list[str], spec) -> list[int] | None:
    """Which header cells feed a field: one (alternatives) or several (join); None if absent."""
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, list):
        for name in spec:
            index = find_column(header, spec_column(name))
            if index is not None:
                return [index]
        return None
    parts = []
    for part in spec["join"]:
        index = resolve(header, part)
        if index:
            parts.extend(index)
    return parts or None


def matches(header: list[str], mapping: Mapping) -> int:
    """How many of the mapping's required headers this header row has; -1 if one is missing."""
    if not mapping.require:
        return -1
    for item in mapping.require:
        alternatives = [item] if isinstance(item, str) else item
        if all(find_column(header, a) is None for a in alternatives):
            return -1
    return len(mapping.require)


def column_patterns(header: list[str], spec) -> dict[int, "re.Pattern"]:
    """Header index -> compiled pattern, for the pattern specs in a list spec that the header has."""
    if not isinstance(spec, list):
        return {}
    out = {}
    for item in spec:
        if isinstance(item, dict):
            index = find_column(header, item["column"])
            if index is not None and index not in out:
                out[index] = re.compile(item["pattern"])
    return out
