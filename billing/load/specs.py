"""The canonical export's files and their columns (FORMATS.md): the one list of them."""
from __future__ import annotations

from dataclasses import dataclass




@dataclass(frozen=True)
class FileSpec:
    filename: str
    table: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    # Optional columns that are checked but stored with the other extra columns (``extra``,
    # JSON) rather than in a column of their own: the table's schema stays as it is, and a
    # database imported before the column was known already holds the values the same way.
    in_extra: tuple[str, ...] = ()


SPECS = {
    "time_entries": FileSpec(
        "time_entries.csv", "time_entries",
        ("entry_id", "customer_id", "staff", "started_at", "minutes", "tier"),
        ("customer_name", "activity", "appointment_id", "customer_requested", "notes")),
    "appointments": FileSpec(
        "appointments.csv", "appointments",
        ("appointment_id", "customer_id", "scheduled_start", "scheduled_minutes", "status"),
        ("staff", "cancelled_at", "cancelled_by")),
    "purchases": FileSpec(
        "purchases.csv", "purchases",
        ("purchase_id", "customer_id", "purchased_at", "hours"),
        ("amount",)),
    "customers": FileSpec(
        "customers.csv", "customers", ("customer_id",), ("customer_name", "contact_email"),
        in_extra=("contact_email",)),
}
# Columns a converter (billing.trackers) adds so that a reject points at the user's own file.
SOURCE_FILE_COLUMN, SOURCE_LINE_COLUMN = "_source_file", "_source_line"
