"""Policy settings (RULES.md, "Policy settings"), read from a TOML file.

A missing key takes its default; an unknown key or a bad value is a PolicyError that
names the key. Minute and hour settings are kept exact: they are converted to integer
microseconds (``*_us``) through ``Decimal``, never through float arithmetic.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billing.errors import HourbankError

US_PER_MINUTE = 60_000_000
US_PER_HOUR = 60 * US_PER_MINUTE

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "billing.toml"


class PolicyError(HourbankError):
    pass


@dataclass(frozen=True)
class Policy:
    timezone: str = "UTC"
    rounding_increment_minutes: int = 30
    hours_valid_days: int = 90
    cancellation_notice_hours: int | float = 24
    late_cancellation_minutes: int | float = 30
    no_show_minutes: int | float = 30
    session_billing: str = "logged"
    expiring_window_days: int = 30
    rollover_days: int = 0                         # R13: 0 = nothing rolls over
    rollover_max_minutes: int | float | None = None  # R13: None = no cap
    overage: str = "report"                        # R14: "report" or "carry"
    # R11: dated changes, increasing: ((from_day, ((setting, value), …)), …). Each figure uses
    # the settings in force on its own day (``on``).
    changes: tuple = field(default=())

    def on(self, day: date) -> "Policy":
        """R11: the settings in force on ``day`` (the changes dated ≤ day applied in order),
        as a Policy without changes."""
        values = {k: v for k, v in asdict(self).items() if k != "changes"}
        for start, settings in self.changes:
            if start <= day:
                values.update(settings)
        return Policy(**values)

    def varies(self, name: str) -> bool:
        """Whether setting ``name`` changes on some date (R11)."""
        return any(name in dict(settings) for _, settings in self.changes)

    def varies_us(self, name: str) -> bool:
        """Whether setting ``name``, or the setting an exact ``*_us`` view is made from, changes
        on some date (R11)."""
        return self.varies(name) or self.varies(_US_OF.get(name, name))

    def by_day(self, name: str, days) -> "np.ndarray":
        """R11, vectorised: the value of setting ``name`` (or of a ``*_us`` property) in force on
        each of ``days`` (datetime64 values or dates), as a numpy array positionally like them."""
        import numpy as np

        d = np.asarray(days, dtype="datetime64[D]")
        out = np.full(d.shape, getattr(self, name))
        current = self
        for start, settings in self.changes:
            current = replace(current, **dict(settings), changes=())
            if name in dict(settings) or _US_OF.get(name) in dict(settings):
                out = np.where(d >= np.datetime64(start, "D"), getattr(current, name), out)
        return out

    @property
    def rollover_max_us(self) -> int | None:
        return None if self.rollover_max_minutes is None else _exact_us(self.rollover_max_minutes, US_PER_MINUTE)

    # Exact integer-microsecond views of the numeric settings.
    @property
    def increment_us(self) -> int:
        return self.rounding_increment_minutes * US_PER_MINUTE

    @property
    def notice_us(self) -> int:
        return _exact_us(self.cancellation_notice_hours, US_PER_HOUR)

    @property
    def late_fee_us(self) -> int:
        return _exact_us(self.late_cancellation_minutes, US_PER_MINUTE)

    @property
    def no_show_fee_us(self) -> int:
        return _exact_us(self.no_show_minutes, US_PER_MINUTE)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def as_dict(self) -> dict:
        """The settings as the policy file writes them: top-level keys (None = key absent) and,
        when there are dated changes, ``change``: [{"from": "YYYY-MM-DD", setting: value, …}]."""
        out = {k: v for k, v in asdict(self).items() if k != "changes" and v is not None}
        if self.changes:
            out["change"] = [{"from": start.isoformat(), **dict(settings)} for start, settings in self.changes]
        return out

    def fingerprint(self) -> str:
        """A short stable hash of the settings, for cache keys and issued statements. The R13/R14
        settings count only when they differ from their defaults, so a policy that does not use
        them keeps the hash it had before they existed."""
        quiet = {"rollover_days": 0, "overage": "report"}
        text = json.dumps({k: v for k, v in self.as_dict().items() if quiet.get(k, ...) != v}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def with_changes(self, **changes) -> "Policy":
        """This policy with some top-level settings replaced (the what-if), validated."""
        return validate_policy({**self.as_dict(), **changes}, source="what-if")

    def with_dated_change(self, start: date, **settings) -> "Policy":
        """This policy with one more dated change (R11) from ``start``, validated: the what-if's
        "15-minute rounding from 2027-01-01". A change on a date already listed is merged into it."""
        table = self.as_dict().get("change", [])
        merged = [dict(c) for c in table]
        for c in merged:
            if c["from"] == start.isoformat():
                c.update(settings)
                break
        else:
            merged.append({"from": start.isoformat(), **settings})
        merged.sort(key=lambda c: c["from"])
        return validate_policy({**self.as_dict(), "change": merged}, source="what-if")


def _exact_us(value: int | float, unit_us: int) -> int:
    # Decimal(str(x)) keeps what was written (30.5 stays 30.5); a fraction of a
    # microsecond is rounded half-up once, here, where the setting enters the engine.
    exact = Decimal(str(value)) * unit_us
    return int(exact.to_integral_value(rounding="ROUND_HALF_UP"))


_INT_MIN = {"rounding_increment_minutes": 1, "hours_valid_days": 1, "expiring_window_days": 0,
            "rollover_days": 0}
_NUMBERS = ("cancellation_notice_hours", "late_cancellation_minutes", "no_show_minutes", "rollover_max_minutes")
_SESSION_MODES = ("logged", "at_least_booked")
_OVERAGE_MODES = ("report", "carry")
# Which setting each exact ``*_us`` view is made from (Policy.by_day on a view).
_US_OF = {"increment_us": "rounding_increment_minutes", "notice_us": "cancellation_notice_hours",
          "late_fee_us": "late_cancellation_minutes", "no_show_fee_us": "no_show_minutes",
          "rollover_max_us": "rollover_max_minutes"}


# Tables of the policy file that are not billing settings: each is read and validated by its
# own module from ``read_policy_file`` (``[team]``: the statement's sender, ``[alerts]``: who
# hears of expiring hours). ``[[change]]`` (R11) is read here.
SECTIONS = ("team", "alerts")


def validate_policy(settings: dict, source: str = "policy") -> Policy:
    """``settings`` (key → value, e.g. read from TOML) as a Policy; missing keys take their
    defaults; the tables named in SECTIONS are left to their own modules. Raises PolicyError
    naming the key for an unknown key or a bad value (``source`` names the file in the message)."""
    changes = _dated_changes(settings.get("change", []), source)
    values = _checked({k: v for k, v in settings.items() if k != "change"}, source,
                      known={f for f in Policy.__dataclass_fields__} - {"changes"})
    return Policy(**values, changes=changes)


def _dated_changes(table, source: str) -> tuple:
    """R11: the ``[[change]]`` tables as ((from_day, ((setting, value), …)), …), checked: each
    has ``from`` (a date), at least one setting, no ``timezone``; dates strictly increasing."""
    if not isinstance(table, list) or not all(isinstance(c, dict) for c in table):
        raise PolicyError(f"{source}: 'change' must be [[change]] tables, each with from = YYYY-MM-DD.")
    out, previous = [], None
    for n, change in enumerate(table, start=1):
        where = f"{source}: [[change]] #{n}"
        start = change.get("from")
        if isinstance(start, str):
            try:
                start = date.fromisoformat(start)
            except ValueError:
                pass
        if not isinstance(start, date) or hasattr(start, "hour"):
            raise PolicyError(f"{where}: 'from' must be a date (from = 2027-01-01), not {start!r}.")
        if "timezone" in change:
            raise PolicyError(f"{where}: 'timezone' cannot change on a date (R11); it defines the business day.")
        settings = {k: v for k, v in change.items() if k != "from"}
        if not settings:
            raise PolicyError(f"{where}: from {start} changes no setting.")
        checked = _checked(settings, where, known={f for f in Policy.__dataclass_fields__} - {"changes", "timezone"})
        if previous is not None and start <= previous:
            raise PolicyError(f"{where}: dates must increase ({start} is not after {previous}).")
        previous = start
        out.append((start, tuple(sorted(checked.items()))))
    return tuple(out)


def _checked(settings: dict, source: str, known: set) -> dict:
    settings = {k: v for k, v in settings.items() if k not in SECTIONS}
    for key in settings:
        if key not in known:
            raise PolicyError(f"{source}: unknown setting '{key}' (known: {', '.join(sorted(known))}).")
    values = {}
    for key, value in settings.items():
        if key in _INT_MIN:
            if isinstance(value, bool) or not isinstance(value, int) or value < _INT_MIN[key]:
                raise PolicyError(
                    f"{source}: '{key}' must be a whole number ≥ {_INT_MIN[key]}, not {value!r}.")
        elif key in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value \
                    or value < 0 or value in (float("inf"),):
                raise PolicyError(f"{source}: '{key}' must be a number ≥ 0, not {value!r}.")
        elif key == "timezone":
            if not isinstance(value, str) or not value:
                raise PolicyError(f"{source}: 'timezone' must be an IANA zone name, not {value!r}.")
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise PolicyError(f"{source}: 'timezone' {value!r} is not a time zone that zoneinfo knows.")
        elif key == "session_billing":
            if value not in _SESSION_MODES:
                raise PolicyError(
                    f"{source}: 'session_billing' must be 'logged' or 'at_least_booked', not {value!r}.")
        elif key == "overage":
            if value not in _OVERAGE_MODES:
                raise PolicyError(f"{source}: 'overage' must be 'report' or 'carry', not {value!r}.")
        values[key] = value
    return values


def load_policy(path: str | Path | None = None) -> Policy:
    """Read a policy file; ``None`` reads the project's ``billing.toml``. Raises PolicyError."""
    path = Path(path) if path is not None else DEFAULT_POLICY_PATH
    return validate_policy(read_policy_file(path), source=str(path))


def read_policy_file(path: str | Path | None = None) -> dict:
    """The policy file as a TOML dict (top-level settings and the SECTIONS tables), not yet
    validated; ``None`` reads the project's ``billing.toml``. Raises PolicyError naming the
    file when it is missing, unreadable, not UTF-8 or not TOML."""
    path = Path(path) if path is not None else DEFAULT_POLICY_PATH
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found.")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file ({exc.strerror}).")
    try:
        settings = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: the policy file is not UTF-8 text.")
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML ({exc}).")
    return settings


__all__ = ["Policy", "PolicyError", "load_policy", "read_policy_file", "validate_policy", "SECTIONS", "replace",
           "US_PER_MINUTE", "US_PER_HOUR", "DEFAULT_POLICY_PATH"]
