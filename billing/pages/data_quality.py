"""Data quality page: what needs a human look (the review report), rejected import rows and
tracker clients that no customer map named, each with what to do."""
from __future__ import annotations

import json

import pandas as pd

from billing.pages.common import Filters, of_customers


def review_counts(review: pd.DataFrame) -> pd.DataFrame:
    """How many of each kind of issue, for the headline of the Data quality page."""
    if review.empty:
        return pd.DataFrame({"issue": pd.Series(dtype="str"), "count": pd.Series(dtype="int64")})
    kind = review["issue"].str.replace(r"\s*[:(].*$", "", regex=True)
    return kind.value_counts().rename_axis("issue").reset_index(name="count")


def rejects_with_action(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejected import rows with where they are and what to do (FORMATS.md: kept, not lost)."""
    out = rejects.copy()
    where = [f"{f}" + (f", line {int(l)}" if pd.notna(l) else "") + (f", column '{c}'" if isinstance(c, str) and c else "")
             for f, l, c in zip(out["file"], out["line"], out["column"])]
    out["what_to_do"] = [f"correct {w} in the export ({r}) and import it again" for w, r in zip(where, out["reason"])]
    return out


def unmapped_clients(imports: pd.DataFrame) -> pd.DataFrame:
    """Tracker clients that no customer-map entry named, per import not undone (a
    renamed client, or one written two ways, would otherwise become a customer of its own)."""
    rows = []
    if "notes" in imports:
        for r in imports.itertuples():
            if pd.notna(r.undone_at) or not isinstance(r.notes, str):
                continue
            notes = json.loads(r.notes)
            for client in notes.get("unmapped_clients", []):
                rows.append({"client": client, "customer_id": client, "import_id": int(r.import_id),
                             "file": notes.get("file", ""),
                             "what_to_do": "if this is an existing customer, map the client to its id on the Import "
                                           "page (or in the mapping's [customers]) and import the file again"})
    return pd.DataFrame(rows, columns=["client", "customer_id", "import_id", "file", "what_to_do"])


def review_for(review: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """The review frame's rows of the filters' customers."""
    return of_customers(review, f.customers).reset_index(drop=True)
