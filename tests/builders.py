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


OVER_TIME_POLICY = """timezone = "America/New_York"
rollover_days = 30

[[change]]
from = 2026-11-15
rounding_increment_minutes = 15
"""


def demo_over_time(folder: Path, today: date, seed: int = 7) -> tuple[Path, Path, dict]:
    """The demo database (``demo_database``) with the books over time in it (R10–R14), for the
    pages and the browser: a policy file with rollover (30 days) and 15-minute rounding from
    2026-11-15; the books closed through 2026-10-31; a late entry for C1014 on 2026-10-12,
    imported after the close; a late waiver of an October fee (a late credit); and C1014's
    November adjustments: a waived no-show, a credit, a charge, an extension of its latest
    block and an excluded entry. Returns (database, policy file, what was made: ids by name)."""
    from billing import closing
    from billing.adjustments import record, resolve
    from billing.policy import load_policy

    db = demo_database(folder, today, seed)
    policy_file = folder / "policy.toml"
    policy_file.write_text(OVER_TIME_POLICY)
    policy = load_policy(policy_file)
    made = {"closing": closing.close(db, date(2026, 10, 31), policy, by="lead@example.com",
                                     reason="October statements sent", today=today)}
    write_export(folder / "late", entries=[entry("TE-LATE-1", "2026-10-12T10:00:00", 40, customer="C1014",
                                                 staff="Ann Lee", activity="follow-up")])
    import_export(db, folder / "late", policy=policy, add_only=True, label="late October entry")
    with open_db(db, read_only=True) as con:
        october_fee = con.execute("""SELECT appointment_id FROM appointments WHERE status = 'no_show'
                                     AND scheduled_start BETWEEN '2026-10-05' AND '2026-10-25'
                                     ORDER BY scheduled_start LIMIT 1""").fetchone()[0]
        november_fee = con.execute("""SELECT appointment_id FROM appointments WHERE customer_id = 'C1014'
                                      AND status = 'no_show' AND scheduled_start >= '2026-11-01'
                                      ORDER BY scheduled_start DESC LIMIT 1""").fetchone()[0]
        block = con.execute("""SELECT purchase_id FROM purchases WHERE customer_id = 'C1014'
                               ORDER BY purchased_at DESC LIMIT 1""").fetchone()[0]
        entry_id = con.execute("""SELECT entry_id FROM time_entries WHERE customer_id = 'C1014'
                                  AND appointment_id IS NULL AND tier = 'one_on_one'
                                  AND started_at BETWEEN '2026-11-02' AND '2026-11-14'
                                  ORDER BY started_at LIMIT 1""").fetchone()[0]
        last_day = resolve(con, "extend", block, policy, date(2026, 11, 20)).last_day
    by = "lead@example.com"
    made["late_waive"] = record(db, "waive", october_fee, on=date(2026, 11, 3), by=by, policy=policy,
                                reason="the customer was in hospital")
    made["waive"] = record(db, "waive", november_fee, on=date(2026, 11, 27), by=by, policy=policy,
                           reason="first no-show, goodwill")
    made["credit"] = record(db, "credit", "C1014", minutes="90", on=date(2026, 11, 20), by=by, policy=policy,
                            reason="outage on Nov 19")
    made["charge"] = record(db, "charge", "C1014", minutes="15", on=date(2026, 11, 18), by=by, policy=policy,
                            reason="report written after the call")
    made["extend"] = record(db, "extend", block, to_day=max(last_day, today) + __import__("datetime").timedelta(days=60),
                            on=date(2026, 11, 20), by=by, policy=policy, reason="customer away in December")
    made["exclude"] = record(db, "exclude", entry_id, on=date(2026, 11, 16), by=by, policy=policy,
                             reason="logged twice")
    made |= {"october_fee": october_fee, "november_fee": november_fee, "block": block, "entry": entry_id}
    return db, policy_file, made
