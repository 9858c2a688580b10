"""Customer links: every link to a customer's own page (billing/share.py), and revoking one."""
import streamlit as st

from billing import share
from billing.errors import HourbankError
from pages import _auth, _share
from pages import _ui as ui

FLASH = "share_links_flash"

c = ui.page_context("Customer links", "Links that open one customer's own read-only page without signing in: "
                                      "who made each, until when it is good, and revoking it.")
zone = c.policy.timezone
try:
    _share.dashboard_secret()
except share.ShareOff as exc:
    st.warning(f"{exc} Links made before cannot be opened while it is off.")
st.caption("Make a link on the Statement page, or with `python -m billing share CUSTOMER_ID`.")
if st.session_state.get(FLASH):
    st.success(st.session_state.pop(FLASH))

frame = ui.compute(_share.links_table, c.db, zone)
if c.filters.customers:
    frame = frame[frame["customer_id"].isin(list(c.filters.customers))]
    st.caption("Only the links of the customers chosen in the sidebar.")
active = frame[frame["status"] == "active"]
st.subheader(f"Active links ({len(active)})")
if active.empty:
    st.info("No active link.")
for r in active.itertuples(index=False):
    text, button = st.columns([5, 1])
    name = f" · {r.customer_name}" if r.customer_name else ""
    text.markdown(f"**{r.customer_id}{name}** · link `{r.link_id}` · made {r.created_at} by "
                  f"{r.created_by or 'unknown'} · good until {r.expires_at}")
    if button.button("Revoke", key=f"revoke_{r.link_id}", icon=":material/link_off:",
                     help=f"Link {r.link_id} opens nothing from now on."):
        try:
            share.revoke_link(c.db, r.link_id, revoked_by=_auth.signed_in_email() or "dashboard")
        except HourbankError as exc:
            st.error(str(exc))
        else:
            st.session_state[FLASH] = f"Link {r.link_id} to {r.customer_id}'s page revoked: it opens nothing now."
            st.rerun()

st.subheader("All links")
if frame.empty:
    st.caption("No link has been made yet.")
else:
    ui.table(frame[["link_id", "customer_id", "customer_name", "status", "created_at", "created_by", "expires_at",
                    "revoked_at", "revoked_by"]],
             {"link_id": "link", "customer_name": "name", "created_at": "made", "created_by": "made by",
              "expires_at": "good until", "revoked_at": "revoked", "revoked_by": "revoked by"})
