"""What an import did: its counts, rejects, removal scope and removals, the words the
importer, the command line and the Import page share."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


from billing.errors import HourbankError


class ImportError_(HourbankError):
    """The import could not be read at all; nothing of it was loaded."""


@dataclass
class Reject:
    file: str
    line: int | None
    column: str | None
    reason: str
    record: str | None = None

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line else "")
        where += f", column '{self.column}'" if self.column else ""
        return f"{where}: {self.reason}"


def reject_groups(rejects) -> list[tuple[str | None, str, int]]:
    """(column, reason with its quoted values left out, count), most frequent first: what went
    wrong, once per kind."""
    import re
    from collections import Counter

    counts = Counter((r.column, re.sub(r"'[^']*'", "'…'", r.reason)) for r in rejects)
    return [(col, reason, n) for (col, reason), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1]))]


@dataclass
class FileCounts:
    read: int = 0
    added: int = 0
    replaced: int = 0
    removed: int = 0
    unchanged: int = 0
    rejected: int = 0


SCOPES = ("auto", "team", "staff", "customers")
MAX_REMOVALS_LISTED = 10_000


@dataclass(frozen=True)
class RemovalScope:
    """Which stored rows a period import may remove: the rows of the period that the file lacks,
    restricted to the file's staff and/or customers, or none at all (add only).

    ``asked``: what the user chose (auto, team, staff, customers; add-only overrides it);
    ``staff`` / ``customers``: None = not restricted by it, else the only ones removable.
    """
    asked: str
    add_only: bool = False
    staff: tuple[str, ...] | None = None
    customers: tuple[str, ...] | None = None
    file_staff: tuple[str, ...] = ()
    file_customers: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        if self.add_only:
            return "add-only"
        if self.staff is not None and self.customers is not None:
            return "staff+customers"
        return "staff" if self.staff is not None else "customers" if self.customers is not None else "team"

    def as_json(self) -> dict:
        return {"asked": self.asked, "used": self.kind, "add_only": self.add_only,
                "staff": list(self.staff) if self.staff is not None else None,
                "customers": list(self.customers) if self.customers is not None else None}

    def sentence(self, team_option: str = "--scope team", add_only_option: str = "--add-only") -> str:
        """The scope in words, for the import summary (the option names as the caller shows them)."""
        def names(values):
            return ", ".join(values) if values else "none"

        if self.add_only:
            return f"add only ({add_only_option}): nothing is removed."
        fs, fc = self.file_staff, self.file_customers
        if self.asked == "auto" and self.kind != "team":
            if self.kind == "staff+customers":
                return (f"this file has one staff member, {fs[0]}, and one customer, {fc[0]}: treated as "
                        f"{fs[0]}'s own export for {fc[0]}; only {fs[0]}'s entries for {fc[0]} can be removed; "
                        f"if it is the whole team's, use {team_option}.")
            if self.kind == "staff":
                return (f"this file has one staff member, {fs[0]}: treated as {fs[0]}'s own export; only "
                        f"{fs[0]}'s entries can be removed; if it is the whole team's, use {team_option}.")
            return (f"this file has one customer, {fc[0]}: treated as that customer's export; only "
                    f"{fc[0]}'s entries can be removed; if it is the whole team's, use {team_option}.")
        if self.kind == "team":
            why = (f"this file has {len(fs)} staff members and {len(fc)} customers: " if self.asked == "auto"
                   else "scope team: ")
            return why + "treated as the whole team's export; any entry of the period that it lacks can be removed."
        if self.kind == "staff":
            return (f"scope staff: only the entries of the file's staff ({names(self.staff)}) can be removed"
                    + ("; the file has no entries, so nothing is removed." if not self.staff else "."))
        return (f"scope customers: only the entries of the file's customers ({names(self.customers)}) can be "
                f"removed" + ("; the file has no entries, so nothing is removed." if not self.customers else "."))


def decide_scope(asked: str, staff, customers, add_only: bool = False) -> RemovalScope:
    """The removal scope of an import whose (good) entries have these staff and customers.

    ``auto``: one staff member → only that person's rows can be removed (a per-person export);
    one customer → only that customer's (a per-client export); both if both; otherwise the
    whole team's. ``team`` forces whole-team; ``staff`` / ``customers`` force restricting to
    the file's staff / customers; ``add_only`` removes nothing.
    """
    if asked not in SCOPES:
        raise ImportError_(f"scope {asked!r}: must be one of {', '.join(SCOPES)}.")
    fs, fc = tuple(sorted(set(staff or ()))), tuple(sorted(set(customers or ())))
    keep = dict(asked=asked, add_only=add_only, file_staff=fs, file_customers=fc)
    if add_only or asked == "team":
        return RemovalScope(**keep)
    if asked == "staff":
        return RemovalScope(staff=fs, **keep)
    if asked == "customers":
        return RemovalScope(customers=fc, **keep)
    return RemovalScope(staff=fs if len(fs) == 1 else None, customers=fc if len(fc) == 1 else None, **keep)


@dataclass(frozen=True)
class Removal:
    """A stored row an import removes (or, in a dry run, would remove)."""
    table: str          # time_entries or appointments
    id: str
    day: date           # its business day (R1, policy zone)
    staff: str | None
    customer_id: str
    minutes: str        # exact, as text

    def __str__(self) -> str:
        return f"{self.id}  {self.day}  {self.staff or '-'}  {self.customer_id}  {self.minutes} min"


@dataclass
class ImportResult:
    import_id: int
    dry_run: bool
    data_version: int
    period: tuple[date, date] | None
    files: dict[str, FileCounts] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    # What a period import removes, in dry runs and real runs alike (the first
    # MAX_REMOVALS_LISTED; ``removed`` counts them all), and a key of the whole set: an import
    # told ``expect_removals=key`` removes exactly those rows or nothing.
    removals: list[Removal] = field(default_factory=list)
    removal_key: str = ""
    scope: RemovalScope | None = None
    period_zone: str | None = None      # the zone whose days the period covers
    new_customers: list[str] = field(default_factory=list)  # customer ids not in the database yet
    notices: list[str] = field(default_factory=list)         # sentences for the summary
    hints: list[str] = field(default_factory=list)           # what to change when no row could be read

    def total(self, what: str) -> int:
        return sum(getattr(c, what) for c in self.files.values())

    @property
    def added(self) -> int:
        return self.total("added")

    @property
    def replaced(self) -> int:
        return self.total("replaced")

    @property
    def removed(self) -> int:
        return self.total("removed")

    @property
    def unchanged(self) -> int:
        return self.total("unchanged")

    @property
    def rejected(self) -> int:
        return self.total("rejected")

    @property
    def nothing_read(self) -> bool:
        """Rows there were, and not one of them could be read: nothing is imported."""
        return self.rejected > 0 and self.added + self.replaced + self.unchanged == 0
