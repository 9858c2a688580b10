"""Policy settings (RULES.md, "Policy settings"), read from a TOML file.

A missing key takes its default; an unknown key or a bad value is a PolicyError that
names the key. Minute and hour settings are kept exact: they are converted to integer
microseconds (``*_us``) through ``Decimal``, never through float arithmetic.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, replace
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
        return asdict(self)

    def fingerprint(self) -> str:
        """A short stable hash of the settings, for cache keys and issued statements."""
        text = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def with_changes(self, **changes) -> "Policy":
        return validate_policy({**self.as_dict(), **changes}, source="what-if")


def _exact_us(value: int | float, unit_us: int) -> int:
    # Decimal(str(x)) keeps what was written (30.5 stays 30.5); a fraction of a
    # microsecond is rounded half-up once, here, where the setting enters the engine.
    exact = Decimal(str(value)) * unit_us
    return int(exact.to_integral_value(rounding="ROUND_HALF_UP"))


_INT_MIN = {"rounding_increment_minutes": 1, "hours_valid_days": 1, "expiring_window_days": 0}
_NUMBERS = ("cancellation_notice_hours", "late_cancellation_minutes", "no_show_minutes")
_SESSION_MODES = ("logged", "at_least_booked")


# Tables of the policy file that are not billing settings of R1–R9: each is read and
# validated by its own module from ``read_policy_file`` (``[team]``: the statement's sender,
# ``[alerts]``: who hears of expiring hours, ``[[change]]``: dated changes, R11).
SECTIONS = ("team", "alerts", "change")


def validate_policy(settings: dict, source: str = "policy") -> Policy:
    """``settings`` (key → value, e.g. read from TOML) as a Policy; missing keys take their
    defaults; the tables named in SECTIONS are left to their own modules. Raises PolicyError
    naming the key for an unknown key or a bad value (``source`` names the file in the message)."""
    known = {f for f in Policy.__dataclass_fields__}
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
        values[key] = value
    return Policy(**values)


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
