"""E-mail addresses: the one form Hourbank accepts, for the alerts' managers (policy file) and
a customer's ``contact_email`` (customers.csv), checked alike in Python and in the import's SQL.

An address is ``local@domain`` with a dot in the domain, no spaces, and none of ``< > ( ) , ; :
" [ ] \\`` (so that a list of them separated by ``;`` or ``,`` cannot be misread). This is
deliberately plain: it refuses what is surely not an address (a name, a typo without ``@``),
and leaves the rest to the mail server.
"""
from __future__ import annotations

import re

_ATOM = r'[^\s@<>(),;:"\[\]\\]'
_LABEL = r'[^\s@<>(),;:"\[\]\\.]+'
ADDRESS_PATTERN = f"{_ATOM}+@{_LABEL}(\\.{_LABEL})+"
_ADDRESS = re.compile(ADDRESS_PATTERN)
SEPARATORS = "[;,]"


def is_address(text: str) -> bool:
    """Whether ``text`` (trimmed) is one e-mail address of the accepted form."""
    return isinstance(text, str) and _ADDRESS.fullmatch(text.strip()) is not None


def split_addresses(text: str | None) -> list[str]:
    """A list of addresses written in one value, separated by ``;`` or ``,`` ("a@x.com; b@y.org"),
    trimmed, empty pieces dropped, in order, each once. Does not check them (``is_address``)."""
    if not text:
        return []
    seen: list[str] = []
    for piece in re.split(SEPARATORS, text):
        piece = piece.strip()
        if piece and piece not in seen:
            seen.append(piece)
    return seen


def sql_bad_address_list(value: str) -> str:
    """SQL: true when the text ``value`` (an expression) holds a piece, between ``;`` or ``,``,
    that is not an address (``is_address``); NULL stays NULL (an empty value is fine)."""
    pattern = ADDRESS_PATTERN.replace("'", "''")
    return (f"len(list_filter(string_split_regex({value}, '{SEPARATORS}'), "
            f"lambda x: trim(x) <> '' AND NOT regexp_full_match(trim(x), '{pattern}'))) > 0")
