"""Data quality: what needs a human look (review report) and the rows recent imports rejected."""
import streamlit as st

from billing import appdata
from billing.display import review_text
from billing.pages import adjustments as adjust
from billing.pages import data_quality as dq
from billing.pages.common import IMPORT_TIMES, import_history
from pages import _ui as ui

c = ui.page_context("Data quality", "Entries and appointments that need a look, and rejected import rows, "
                                    "each with what to do.")
f = c.filters
review = ui.compute(appdata.review, c.db, c.version.number, c.policy, f.as_of)
review = dq.review_for(review, f)
imports, rejects = ui.compute(appdata.recent_imports, c.db, c.version.number)

st.subheader("To review")
if review.empty:
    st.success(f"Nothing to review as of {f.as_of}: no held entries, empty sessions, stale appointments "
               "or tiny entries.")
else:
    counts = dq.review_counts(review)
    cols = st.columns(max(1, min(4, len(counts))))
    for i, row in enumerate(counts.itertuples(index=False)):
        cols[i % len(cols)].metric(row.issue, int(row.count))
    ui.linked_table(review.assign(issue=[review_text(v) for v in review["issue"]]), None,
                    adjust.links("exclude", review["id"], review["item"] == "entry"), adjust.LINK_TEXT["exclude"],
                    wrap={"name": 115, "issue": 135, "what to do": 240})

st.subheader("Recent imports")
if imports.empty:
    st.info("No imports yet: load an export with `python -m billing import EXPORT_DIR`.")
else:
    ui.table(import_history(imports, c.policy.timezone).drop(columns=["period_from", "period_to"]),
             help={t: f"In {c.policy.timezone} (the policy's time zone)." for t in IMPORT_TIMES},
             wrap={"source": 200})
    st.subheader("Rejected rows")
    if rejects.empty:
        st.success("The recent imports rejected no rows.")
    else:
        st.caption("These rows were not loaded (and not lost): correct them in the export at the file and "
                   "line shown and import it again.")
        ui.table(dq.rejects_with_action(rejects), wrap={"reason": 240, "what to do": 240})

unmapped = dq.unmapped_clients(imports) if not imports.empty else None
if unmapped is not None and not unmapped.empty:
    st.subheader("Tracker clients without a customer id")
    st.caption("Loaded under the client's own name: each became a customer id as written in the tracker.")
    ui.table(unmapped, {"customer_id": "loaded as customer"})
