"""The team that sends customer statements: its name, address, e-mail, phone and logo.

They come from the ``[team]`` table of the policy file (billing.toml), which
``billing.policy`` leaves to this module::

    [team]
    name = "Northwind Tech Support"              # required when [team] is there
    address = ["12 Harbour Street", "Portland, ME 04101"]   # or one text with line breaks
    email = "support@northwind.example"
    phone = "+1 207 555 0142"
    logo = "static/demo-team-logo.svg"           # PNG, JPEG or SVG, relative to the policy file

Every key but ``name`` is optional; a policy file without ``[team]`` gives no team, and a
statement is then written without a letterhead. A bad value is a ``TeamError`` (a
PolicyError) of one sentence naming the file and the key. The logo is read and checked once,
here (its kind from its content, not only its name), so a statement never fails half-way
because of it.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from billing.policy import DEFAULT_POLICY_PATH, PolicyError, read_policy_file

KEYS = ("name", "address", "email", "phone", "logo")
LOGO_KINDS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".svg": "svg"}
MAX_LOGO_BYTES = 2_000_000
MAX_ADDRESS_LINES = 6
_MAX_TEXT = 120
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")


class TeamError(PolicyError):
    pass


@dataclass(frozen=True)
class Team:
    """The sender of a statement. ``logo``: the file's bytes (None without a logo),
    ``logo_kind``: "png", "jpeg" or "svg"; ``logo_path``: the file, for messages."""
    name: str
    address: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    logo: bytes | None = None
    logo_kind: str | None = None
    logo_path: str | None = None

    def contact_lines(self) -> list[str]:
        """The address lines, then the e-mail and the phone, one a line, as printed under the name."""
        return [*self.address, *(x for x in (self.email, self.phone) if x)]

    def key(self) -> tuple:
        """A small cache key (billing.appdata): the texts and the logo's digest."""
        digest = hashlib.sha256(self.logo).hexdigest()[:16] if self.logo else None
        return ("team", self.name, self.address, self.email, self.phone, self.logo_kind, digest)


def load_team(path: str | Path | None = None) -> Team | None:
    """The ``[team]`` of the policy file at ``path`` (None: the project's billing.toml), or
    None when the file has no ``[team]``. Raises TeamError (a PolicyError) naming the key
    for a bad value, and PolicyError for a file that cannot be read."""
    path = Path(path) if path is not None else DEFAULT_POLICY_PATH
    settings = read_policy_file(path)
    if "team" not in settings:
        return None
    return validate_team(settings["team"], base=path.parent, source=str(path))


def validate_team(table, base: Path, source: str = "policy") -> Team:
    """``table`` (the TOML ``[team]`` table) as a Team; ``base``: the folder a relative logo
    path starts from (the policy file's). Raises TeamError naming ``source`` and the key."""
    where = f"{source}: [team]"
    if not isinstance(table, dict):
        raise TeamError(f"{source}: 'team' must be a table ([team] with keys {', '.join(KEYS)}), "
                        f"not {type(table).__name__}.")
    for key in table:
        if key not in KEYS:
            raise TeamError(f"{where} has an unknown key '{key}' (known: {', '.join(KEYS)}).")
    if "name" not in table:
        raise TeamError(f"{where} needs 'name': the team's name printed on statements.")
    name = _text(table["name"], "name", where)
    address = _address(table.get("address"), where)
    email = phone = None
    if "email" in table:
        email = _text(table["email"], "email", where)
        if not _EMAIL.match(email):
            raise TeamError(f"{where} 'email' must be an e-mail address such as support@example.com, "
                            f"not {email!r}.")
    if "phone" in table:
        phone = _text(table["phone"], "phone", where)
        if not _PHONE.match(phone) or sum(ch.isdigit() for ch in phone) < 3:
            raise TeamError(f"{where} 'phone' must be a phone number (digits, spaces, + ( ) . / -), "
                            f"not {phone!r}.")
    logo = kind = logo_path = None
    if "logo" in table:
        logo_path = _text(table["logo"], "logo", where)
        logo, kind = _read_logo(base, logo_path, where)
    return Team(name=name, address=address, email=email, phone=phone, logo=logo, logo_kind=kind,
                logo_path=logo_path)


def _text(value, key: str, where: str) -> str:
    """One line of text: a non-empty string of at most _MAX_TEXT characters, no control characters."""
    if not isinstance(value, str):
        raise TeamError(f"{where} '{key}' must be text in quotes, not {value!r}.")
    text = value.strip()
    if not text:
        raise TeamError(f"{where} '{key}' is empty: leave the key out or give it a value.")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise TeamError(f"{where} '{key}' must be one line without control characters, not {value!r}.")
    if len(text) > _MAX_TEXT:
        raise TeamError(f"{where} '{key}' is {len(text)} characters long; at most {_MAX_TEXT} fit a statement.")
    return text


def _address(value, where: str) -> tuple[str, ...]:
    """The address as lines: a list of texts, or one text whose line breaks separate them."""
    if value is None:
        return ()
    if isinstance(value, str):
        lines = [line for line in value.splitlines() if line.strip()]
    elif isinstance(value, list):
        lines = value
    else:
        raise TeamError(f"{where} 'address' must be a list of lines or a text, not {value!r}.")
    if not lines:
        raise TeamError(f"{where} 'address' is empty: leave the key out or give its lines.")
    if len(lines) > MAX_ADDRESS_LINES:
        raise TeamError(f"{where} 'address' has {len(lines)} lines; at most {MAX_ADDRESS_LINES} fit a statement.")
    return tuple(_text(line, f"address line {i}", where) for i, line in enumerate(lines, start=1))


def _read_logo(base: Path, given: str, where: str) -> tuple[bytes, str]:
    """The logo file's bytes and kind, checked: a PNG, JPEG or SVG by name and by content."""
    path = Path(given)
    path = path if path.is_absolute() else base / path
    kind = LOGO_KINDS.get(path.suffix.lower())
    if kind is None:
        raise TeamError(f"{where} 'logo' {given!r} must be a .png, .jpg, .jpeg or .svg file.")
    try:
        size = path.stat().st_size
        if size > MAX_LOGO_BYTES:
            raise TeamError(f"{where} 'logo' {given!r} is {size:,} bytes; at most {MAX_LOGO_BYTES:,} are accepted.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise TeamError(f"{where} 'logo' {given!r}: no such file (looked for {path}; a relative "
                        f"path starts at the policy file's folder).") from None
    except IsADirectoryError:
        raise TeamError(f"{where} 'logo' {given!r} is a folder, not an image file.") from None
    except OSError as exc:
        raise TeamError(f"{where} 'logo' {given!r} cannot be read ({exc.strerror}).") from None
    if kind == "svg":
        _check_svg(data, given, where)
    else:
        _check_bitmap(data, kind, given, where)
    return data, kind


def _check_svg(data: bytes, given: str, where: str) -> None:
    from fpdf.svg import SVGObject

    try:
        svg = SVGObject(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise TeamError(f"{where} 'logo' {given!r} is not an SVG file (not UTF-8 text).") from None
    except Exception as exc:  # noqa: BLE001 - fpdf2 raises XML and its own errors: one sentence
        raise TeamError(f"{where} 'logo' {given!r} is not an SVG file the PDF can draw ({exc}).") from None
    if not svg.viewbox and not (svg.width and svg.height):
        raise TeamError(f"{where} 'logo' {given!r}: the SVG needs a viewBox or a width and a height, "
                        "so that it can be scaled.")


def _check_bitmap(data: bytes, kind: str, given: str, where: str) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            found = (image.format or "").lower()
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise TeamError(f"{where} 'logo' {given!r} is not a readable {kind.upper()} image ({exc}).") from None
    if found != kind:
        raise TeamError(f"{where} 'logo' {given!r} is named .{Path(given).suffix.lstrip('.')} but holds "
                        f"a {found.upper() or 'different'} image.")


__all__ = ["Team", "TeamError", "load_team", "validate_team", "KEYS", "LOGO_KINDS"]
