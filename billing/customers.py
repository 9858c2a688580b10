"""Who the customers are and what they are called: the one answer the dashboard, the command
line and the statements give.

A customer's name is the one ``customers.csv`` gives; without one, the name of its newest
time entry that carries a name (latest ``started_at`` as written). Every customer id that
appears in any table is a customer, named or not.
"""
from __future__ import annotations

import pandas as pd

CUSTOMERS_SQL = """
    WITH ids AS (SELECT customer_id FROM time_entries UNION SELECT customer_id FROM appointments
                 UNION SELECT customer_id FROM purchases UNION SELECT customer_id FROM customers),
    listed AS (SELECT customer_id, nullif(customer_name, '') AS n FROM customers),
    newest AS (SELECT customer_id, arg_max(customer_name, started_at) AS n FROM time_entries
               WHERE customer_name IS NOT NULL AND customer_name <> ''
                 AND customer_id NOT IN (SELECT customer_id FROM listed WHERE n IS NOT NULL)
               GROUP BY customer_id)
    SELECT ids.customer_id, coalesce(listed.n, newest.n, '') AS customer_name
    FROM ids LEFT JOIN listed USING (customer_id) LEFT JOIN newest USING (customer_id)
    ORDER BY ids.customer_id"""


def customers_frame(con) -> pd.DataFrame:
    """Every customer id in the data (sorted) with its name ('' when the data gives none):
    columns customer_id, customer_name. ``con``: an open DuckDB connection."""
    return con.execute(CUSTOMERS_SQL).df()


def customer_names(con) -> dict[str, str]:
    """customer_id → name, for the customers the data names (see the module's rule)."""
    frame = customers_frame(con)
    return {cid: name for cid, name in zip(frame["customer_id"], frame["customer_name"]) if name}


def customer_contacts(con) -> dict[str, list[str]]:
    """customer_id → the contact addresses of its ``contact_email`` in customers.csv (several
    separated by ``;`` or ``,``; checked at import, FORMATS.md), for the customers that have
    any. The column is kept with the file's other extra columns (``customers.extra``), so a
    database imported before Hourbank knew it answers the same."""
    from billing.addresses import is_address, split_addresses

    rows = con.execute("""SELECT customer_id, json_extract_string(extra, '$.contact_email') FROM customers
                          WHERE extra IS NOT NULL ORDER BY customer_id""").fetchall()
    out = {}
    for cid, text in rows:
        # A database imported before the import checked the column can hold anything: only
        # what is an address is one.
        found = [a for a in split_addresses(text) if is_address(a)]
        if found:
            out[cid] = found
    return out
