"""Build real canonical exports and real databases for tests (no mocks of the engine)."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from billing.canonical import APPOINTMENT_COLUMNS, CUSTOMER_COLUMNS, ENTRY_COLUMNS, PURCHASE_COLUMNS
from billing.load import import_export
from billing.policy import Policy
from billing.reports import compute_books, report
from billing.store import open_db

FILES = {"entries": ("time_entries.csv", ENTRY_COLUMNS),
         "appointments": ("appointments.csv", APPOINTMENT_COLUMNS),
         "purchases": ("purchases.csv", PURCHASE_COLUMNS),
         "customers": ("customers.csv", CUSTOMER_COLUMNS)}


def entry(entry_id, started_at, minutes, customer="acme", staff="Ann", tier="one_on_one", **kw):
    return {"entry_id": entry_id, "customer_id": customer, "staff": staff, "started_at": started_at,
            "minutes": str(minutes), "tier": tier, **kw}


def appointment(appointment_id, start, minutes=60, status="completed", customer="acme", **kw):
    return {"appointment_id": appointment_id, "customer_id": customer, "scheduled_start": start,
            "scheduled_minutes": str(minutes), "status": status, **kw}


def purchase(purchase_id, purchased_at, hours, customer="acme", **kw):
    return {"purchase_id": purchase_id, "customer_id": customer, "purchased_at": purchased_at,
            "hours": str(hours), **kw}


def write_export(folder: Path, **tables) -> Path:
    """write_export(dir, entries=[...], appointments=[...], purchases=[...], customers=[...]); a
    row's keys beyond the file's canonical columns become extra columns."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, rows in tables.items():
        if rows is None:
            continue
        name, columns = FILES[key]
        # Columns the canonical list lacks (customers.csv's contact_email, any extra column)
        # follow it, in the order the rows name them.
        columns = columns + list(dict.fromkeys(k for row in rows for k in row if k not in columns))
        with (folder / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="raise")
            writer.writeheader()
            for row in rows:
                writer.writerow({c: row.get(c, "") for c in columns})
    return folder


def write_csv(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


class Ledger:
    """A real database built from rows, with the engine's reports at hand."""

    def __init__(self, tmp_path: Path, policy: Policy | None = None):
        self.tmp = tmp_path
        self.db = tmp_path / "test.duckdb"
        self.policy = policy or Policy()
        self.n = 0

    def load(self, period=None, **tables):
        self.n += 1
        folder = write_export(self.tmp / f"export{self.n}", **tables)
        return import_export(self.db, folder, period=period, policy=self.policy)

    def books(self, as_of: date, policy: Policy | None = None, customer=None):
        with open_db(self.db, read_only=True) as con:
            return compute_books(con, policy or self.policy, as_of, customer)

    def report(self, name: str, as_of: date, policy: Policy | None = None, customer=None):
        with open_db(self.db, read_only=True) as con:
            return report(con, name, policy or self.policy, as_of, customer=customer)

    def day(self, as_of: date, day: str, customer="acme", policy: Policy | None = None) -> dict:
        """The `daily` row of one customer-day, as minutes (float is fine in asserts of .2f text)."""
        df = self.report("daily", as_of, policy)
        row = df[(df["customer_id"] == customer) & (df["day"] == day)]
        assert len(row) == 1, f"no daily row for {customer} {day}: {df}"
        return row.iloc[0].to_dict()


def demo_database(folder: Path, today: date, seed: int = 7) -> Path:
    """The realistic demo export (billing.demo) of ``today`` written into ``folder`` and imported
    under the default policy; returns the database's path."""
    from billing.demo import write_demo

    write_demo(folder / "export", today=today, seed=seed)
    db = folder / "demo.duckdb"
    import_export(db, folder / "export", policy=Policy())
    return db
