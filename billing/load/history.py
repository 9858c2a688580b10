"""The import log and undo."""
from __future__ import annotations

from datetime import datetime, timezone


from billing.errors import HourbankError
from billing.store import ID_COLUMN, bump_data_version, open_db, transaction
from billing.load.merge import content_columns


def list_imports(con):
    """The import log, newest first, as a DataFrame."""
    return con.execute("SELECT * FROM imports ORDER BY import_id DESC").df()


def undo_import(db_path, import_id: int, *, now: datetime | None = None, con=None) -> int:
    """Undo one import: its rows go, the versions it replaced or removed come back.

    Refused (nothing changed) when a later import, not undone, touched the same rows:
    undo that one first. Returns the new data version.
    """
    if con is None:
        with open_db(db_path) as con:
            return undo_import(db_path, import_id, now=now, con=con)
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    row = con.execute("SELECT undone_at FROM imports WHERE import_id = ?", [import_id]).fetchone()
    if row is None:
        raise HourbankError(f"import {import_id}: there is no such import (see `python -m billing imports`).")
    if row[0] is not None:
        raise HourbankError(f"import {import_id}: it was already undone on {row[0]:%Y-%m-%d %H:%M}.")
    with transaction(con):
        for table, idc in ID_COLUMN.items():
            touched = f"""(SELECT {idc} FROM {table} WHERE import_id = $x
                           UNION SELECT {idc} FROM {table}_history WHERE superseded_by = $x OR import_id = $x)"""
            later = con.execute(f"""
                SELECT min(i) FROM (
                    SELECT import_id AS i FROM {table} WHERE import_id > $x AND {idc} IN {touched}
                    UNION ALL SELECT superseded_by FROM {table}_history
                    WHERE superseded_by > $x AND {idc} IN {touched})""", {"x": import_id}).fetchone()[0]
            if later is not None:
                raise HourbankError(f"import {import_id}: import {later} changed the same {table.replace('_', ' ')} "
                                    f"since; undo import {later} first.")
        for table, idc in ID_COLUMN.items():
            live_cols = ", ".join(content_columns(table) + ["import_id"])
            con.execute(f"DELETE FROM {table} WHERE import_id = ?", [import_id])
            con.execute(f"INSERT INTO {table} SELECT {live_cols} FROM {table}_history WHERE superseded_by = ?",
                        [import_id])
            con.execute(f"DELETE FROM {table}_history WHERE superseded_by = ?", [import_id])
        con.execute("UPDATE imports SET undone_at = ? WHERE import_id = ?", [now, import_id])
        version = bump_data_version(con)
    return version
