"""Merging staged rows into the store: upsert by id, and removal of what a period import's
file lacks, within its scope and period (R1: whole days of the export's zone)."""
from __future__ import annotations



from billing.store import ID_COLUMN, TABLES
from billing.calendar import business_day_sql
from billing.canonical import minutes_text
from billing.load.results import FileCounts, ImportResult, MAX_REMOVALS_LISTED, Removal


def file_people(con, files) -> tuple[list[str], list[str]]:
    """Distinct staff and customers of the staged good time entries."""
    if "time_entries" not in files:
        return [], []
    staff, customers = con.execute(
        "SELECT list_sort(list(DISTINCT staff)), list_sort(list(DISTINCT customer_id)) "
        "FROM stage_time_entries WHERE bad_reason IS NULL").fetchone()
    return staff or [], customers or []


def new_customers(con, files) -> list[str]:
    """Customer ids of the staged good rows that the database has nowhere yet."""
    staged = " UNION ".join(f"SELECT customer_id FROM stage_{t} WHERE bad_reason IS NULL" for t in files)
    known = " UNION ".join(f"SELECT customer_id FROM {t}" for t in ID_COLUMN)
    return [r[0] for r in con.execute(
        f"SELECT DISTINCT customer_id FROM ({staged}) WHERE customer_id NOT IN ({known}) ORDER BY 1").fetchall()]


def content_columns(table: str) -> list[str]:
    return [line.split()[0] for line in TABLES[table].strip().split(",\n")
            if line.split()[0] != "import_id"]


def merge_table(con, table: str, filename: str, import_id: int, removal, policy, result: ImportResult,
           id_prefix: str | None = None) -> list[str]:
    """Upsert the staged good rows; with ``removal`` = (period, its zone, scope, spared keys), remove
    the stored rows of the period that the file lacks, within the scope. Returns the removed
    rows as "table id" keys."""
    counts = result.files[filename]
    _upsert(con, table, import_id, counts)
    if removal is None or table not in ("time_entries", "appointments") or removal[2].add_only:
        return []
    return _remove_lacking(con, table, import_id, removal, policy, result, counts, id_prefix)


def _upsert(con, table: str, import_id: int, counts: FileCounts) -> None:
    """Add the staged good rows that are new, replace the changed ones (their previous version
    goes to ``<table>_history``), leave the unchanged ones; count each kind in ``counts``."""
    idc = ID_COLUMN[table]
    cols = content_columns(table)
    live_cols = ", ".join(cols + ["import_id"])
    good = f"(SELECT * FROM stage_{table} WHERE bad_reason IS NULL)"  # this import's new content
    if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)").fetchone()[0] == 0:
        # Nothing loaded yet (a first import): every good row is new, no comparison needed.
        con.execute(f"INSERT INTO {table} SELECT {', '.join(cols)}, ? FROM {good}", [import_id])
        counts.added = con.execute(f"SELECT count(*) FROM {good}").fetchone()[0]
        return
    same = " AND ".join(f"l.{c} IS NOT DISTINCT FROM n.{c}" for c in cols)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cmp_{table} AS
        SELECT n.{idc} AS id, l.{idc} IS NULL AS is_new, l.{idc} IS NOT NULL AND NOT ({same}) AS is_changed
        FROM {good} n LEFT JOIN {table} l ON l.{idc} = n.{idc}""")
    counts.added, counts.replaced, counts.unchanged = con.execute(
        f"SELECT count(*) FILTER (is_new), count(*) FILTER (is_changed), "
        f"count(*) FILTER (NOT is_new AND NOT is_changed) FROM cmp_{table}").fetchone()
    if counts.replaced:
        con.execute(f"""INSERT INTO {table}_history SELECT {live_cols}, ?, 'replaced' FROM {table}
                        WHERE {idc} IN (SELECT id FROM cmp_{table} WHERE is_changed)""", [import_id])
        con.execute(f"DELETE FROM {table} WHERE {idc} IN (SELECT id FROM cmp_{table} WHERE is_changed)")
    if counts.added or counts.replaced:
        con.execute(f"""INSERT INTO {table} SELECT {', '.join('n.' + c for c in cols)}, ?
                        FROM {good} n JOIN cmp_{table} c ON c.id = n.{idc} WHERE c.is_new OR c.is_changed""",
                    [import_id])
    con.execute(f"DROP TABLE cmp_{table}")


def _remove_lacking(con, table: str, import_id: int, removal, policy, result: ImportResult, counts: FileCounts,
                    id_prefix: str | None) -> list[str]:
    """Remove the stored rows of the period that the file lacks, within the scope (their
    previous version goes to the history); list them in ``result.removals``; return them as
    "table id" keys."""
    idc = ID_COLUMN[table]
    live_cols = ", ".join(content_columns(table) + ["import_id"])
    (first, last), zone, scope, spare = removal
    ts = "started_at" if table == "time_entries" else "scheduled_start"
    minutes = "minutes_us" if table == "time_entries" else "scheduled_us"
    # The period's days are business days (R1) of the export's zone: a row with an offset by
    # its instant's date there, one without by its written date. A row whose new version was
    # rejected keeps its old version (the reject is shown, nothing lost).
    where = [f"{business_day_sql('l.' + ts, 'l.' + ts + '_offset').replace('?', '$zone')} BETWEEN $first AND $last",
             f"l.{idc} NOT IN (SELECT {idc} FROM stage_{table} WHERE bad_reason IS NULL)",
             f"""l.{idc} NOT IN (SELECT json_extract_string(record, '$.{idc}') FROM stage_{table}
                                WHERE bad_reason IS NOT NULL AND json_extract_string(record, '$.{idc}') IS NOT NULL)"""]
    params = {"first": first, "last": last, "zone": zone}
    if id_prefix is not None:
        where.append("starts_with(l.{idc}, $prefix)".format(idc=idc))
        params["prefix"] = id_prefix
    if spare and table == "time_entries":
        # Rows the converter could not read may be new versions of stored entries: an entry
        # of the same staff, customer and written day (each as far as it could be read) stays.
        con.execute("CREATE OR REPLACE TEMP TABLE spare_keys (staff VARCHAR, customer_id VARCHAR, day DATE)")
        con.executemany("INSERT INTO spare_keys VALUES (?, ?, ?)", [list(k) for k in spare])
        kept_by_spare = f"""EXISTS (SELECT 1 FROM spare_keys s WHERE (s.staff IS NULL OR s.staff = l.staff)
                         AND (s.customer_id IS NULL OR s.customer_id = l.customer_id)
                         AND (s.day IS NULL OR s.day = CAST(l.{ts} AS DATE)))"""
    for column, allowed in (("staff", scope.staff), ("customer_id", scope.customers)):
        if allowed is not None:
            where.append(f"list_contains(${column}, l.{column})" if allowed else "false")
            if allowed:
                params[column] = list(allowed)
    spared = spare and table == "time_entries"
    condition = " AND ".join(f"({w})" for w in where)
    con.execute(f"CREATE OR REPLACE TEMP TABLE gone_{table} AS SELECT l.{idc} FROM {table} l "
                f"WHERE {condition}" + (f" AND NOT {kept_by_spare}" if spared else ""), params)
    if spared:
        kept = con.execute(f"SELECT count(*) FROM {table} l WHERE {condition} AND {kept_by_spare}",
                           params).fetchone()[0]
        if kept:
            result.notices.append(
                f"{kept} stored entr{'ies are' if kept > 1 else 'y is'} kept although the file no longer has "
                f"{'them' if kept > 1 else 'it'}: a rejected row of the same staff member, customer and day may be "
                f"{'their' if kept > 1 else 'its'} new version. Correct the rejected rows and import again.")
    counts.removed = con.execute(f"SELECT count(*) FROM gone_{table}").fetchone()[0]
    gone: list[str] = []
    if counts.removed:
        listed = con.execute(
            f"""SELECT l.{idc}, {business_day_sql('l.' + ts, 'l.' + ts + '_offset')} AS day, l.staff,
                       l.customer_id, l.{minutes}
                FROM {table} l WHERE l.{idc} IN (SELECT * FROM gone_{table})
                ORDER BY day, l.staff NULLS FIRST, l.customer_id, l.{idc}""", [policy.timezone]).fetchall()
        gone = [f"{table} {r[0]}" for r in listed]
        room = MAX_REMOVALS_LISTED - len(result.removals)
        result.removals += [Removal(table, i, d, st, c, minutes_text(us)) for i, d, st, c, us in listed[:max(room, 0)]]
        con.execute(f"""INSERT INTO {table}_history SELECT {live_cols}, ?, 'removed' FROM {table}
                        WHERE {idc} IN (SELECT * FROM gone_{table})""", [import_id])
        con.execute(f"DELETE FROM {table} WHERE {idc} IN (SELECT * FROM gone_{table})")
    con.execute(f"DROP TABLE gone_{table}")
    return gone




