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


SEPARATOR = " · "


def customer_label(customer_id, names: dict[str, str]) -> str:
    """How people see a customer wherever one is picked or charted: "C1014 · Acme Logistics
    Inc." (the id first, so it stays what a link or the command line takes), the bare id when
    the data names none or the name is the id (a tracker's client that became a customer id).
    ``names``: ``customer_names``."""
    name = names.get(customer_id) if names else None
    return f"{customer_id}{SEPARATOR}{name}" if name and name != customer_id else str(customer_id)


def customer_labels(customer_ids, names: dict[str, str]) -> list[str]:
    """``customer_label`` of each id of a column."""
    return [customer_label(c, names) for c in customer_ids]


def unknown_customer_message(customer: str, frame: pd.DataFrame, where: str) -> str | None:
    """None when ``customer`` is an id of ``frame`` (``customers_frame``); else one sentence
    that names it, says where it was looked for, and points at the id when the text is a
    customer's name (case and spacing ignored) or the start of one or of an id
    (``unknown_customer_hint``). Every command that takes a customer id says this."""
    if customer in set(frame["customer_id"]):
        return None
    return f"no customer {customer!r} in {where}: customers are given by id.{unknown_customer_hint(customer, frame)}"


def unknown_customer_hint(customer: str, frame: pd.DataFrame) -> str:
    """What to give instead of ``customer``, an id ``frame`` (``customers_frame``) does not
    have, as a sentence with a leading space: " Did you mean C1003 (Café Müller GmbH)?" when
    the text is a customer's name (case and spacing ignored) or the start of names or ids (at
    most 5), else " The 40 customers are C1001 … C1040." ('' when there are none)."""
    ids = list(frame["customer_id"])
    folded = " ".join(str(customer).split()).casefold()
    by_name = [(cid, name) for cid, name in zip(frame["customer_id"], frame["customer_name"])
               if name and " ".join(name.split()).casefold() == folded]
    if not by_name:
        by_name = [(cid, name) for cid, name in zip(frame["customer_id"], frame["customer_name"])
                   if folded and (str(cid).casefold().startswith(folded)
                                  or " ".join(str(name).split()).casefold().startswith(folded))][:5]
    if by_name:
        return " Did you mean " + " or ".join(f"{cid} ({name})" if name else cid for cid, name in by_name) + "?"
    if ids:
        return f" The {len(ids)} customers are {ids[0]}" + (f" … {ids[-1]}" if len(ids) > 1 else "") + "."
    return ""


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
