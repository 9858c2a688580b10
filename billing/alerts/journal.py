"""What the alerts sent, in the database (table ``alerts_sent``, billing.store.SCHEMA).

One row per alert per message attempt: kind, customer, block (purchase_id), threshold,
channel, recipient, audience, the as-of day, when (UTC), the outcome (``sent`` or
``failed``) and the error. A digest is one row of kind ``digest`` (its period as the
threshold) and one row per alert it carried (``digest`` names the period). A test message is
one row of kind ``test``.

An alert counts as delivered to a recipient once a row of it says ``sent``; a ``failed``
row leaves it due, so the next run tries again. Reads tolerate a database made before this
table existed (a read-only open cannot create it): nothing was sent then.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd

from billing.store import open_db, transaction

TABLE = "alerts_sent"
SENT, FAILED = "sent", "failed"
HISTORY_COLUMNS = ["message_id", "attempted_at", "as_of", "kind", "customer_id", "purchase_id", "threshold",
                   "channel", "recipient", "audience", "digest", "outcome", "error", "subject"]


def has_table(con) -> bool:
    """Whether the database has the alerts' table (one made before alerts existed has not)."""
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'",
                       [TABLE]).fetchone()[0] > 0


def delivered(con) -> tuple[set[tuple], set[tuple]]:
    """(alert deliveries, digests) that went out: {(kind, customer_id, block, threshold, channel,
    recipient)} and {(period, channel, recipient)}; ids missing are ''."""
    if not has_table(con):
        return set(), set()
    rows = con.execute(f"""SELECT DISTINCT kind, coalesce(customer_id, ''), coalesce(purchase_id, ''), threshold,
                                  channel, recipient FROM {TABLE} WHERE outcome = ? AND kind NOT IN ('test')""",
                       [SENT]).fetchall()
    alerts = {tuple(r) for r in rows if r[0] != "digest"}
    digests = {(r[3], r[4], r[5]) for r in rows if r[0] == "digest"}
    return alerts, digests


def failed_before(con) -> dict[tuple, tuple[datetime, str]]:
    """The alert deliveries whose attempts all failed so far: key (as in ``delivered``) →
    (when the last attempt was, its error)."""
    if not has_table(con):
        return {}
    rows = con.execute(f"""
        SELECT kind, coalesce(customer_id, ''), coalesce(purchase_id, ''), threshold, channel, recipient,
               max(attempted_at), arg_max(error, attempted_at)
        FROM {TABLE} WHERE kind NOT IN ('test', 'digest')
        GROUP BY ALL HAVING bool_and(outcome = ?)""", [FAILED]).fetchall()
    return {tuple(r[:6]): (r[6], r[7] or "") for r in rows}


def record(db: str | Path, rows: list[dict], outcome: str, error: str | None, as_of: date,
           when: datetime | None = None) -> int:
    """Record one message attempt (``rows``: its alert rows, each a dict of kind, customer_id,
    purchase_id, threshold, channel, recipient, audience, digest, subject) with its outcome, in
    one transaction; creates the table in a database made before it. Returns the message_id."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
    with open_db(db) as con:
        with transaction(con):
            message_id = con.execute(f"SELECT coalesce(max(message_id), 0) + 1 FROM {TABLE}").fetchone()[0]
            con.executemany(
                f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[message_id, r["kind"], r.get("customer_id") or None, r.get("purchase_id") or None,
                  r.get("threshold", ""), r["channel"], r["recipient"], r["audience"], r.get("digest"),
                  as_of, when, outcome, error, r["subject"]] for r in rows])
    return int(message_id)


def history(con, limit: int = 500) -> pd.DataFrame:
    """The last ``limit`` rows, newest first, in HISTORY_COLUMNS (empty without the table)."""
    if not has_table(con):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in HISTORY_COLUMNS})
    return con.execute(f"SELECT {', '.join(HISTORY_COLUMNS)} FROM {TABLE} "
                       f"ORDER BY message_id DESC, kind, customer_id, purchase_id LIMIT ?", [limit]).df()
