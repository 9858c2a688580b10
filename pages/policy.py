"""Policy: the active settings, each rule in plain words, and a what-if under changed settings."""
import streamlit as st

from billing import appdata
from billing.pages import policy as pol
from billing.display import code_text
from billing.errors import HourbankError
from pages import _ui as ui

c = ui.page_context("Policy", "The billing settings in use, what each rule means, and what the period would "
                              "bill under other settings.")
f, p = c.filters, c.policy

left, right = st.columns([2, 3])
with left:
    st.subheader("Active settings")
    st.caption(f"From {appdata.policy_path()} (fingerprint {p.fingerprint()}).")
    ui.table(pol.policy_settings(p), {"setting": "key in the policy file"})
with right:
    st.subheader("The rules")
    for rule, text in pol.rule_explanations(p):
        st.markdown(f"**{rule}** {text}")

st.subheader("What if")
cols = st.columns(4)
increment = cols[0].number_input("Rounding increment (min)", 1, 240, p.rounding_increment_minutes, key="wi_inc")
session = cols[1].selectbox("Session billing", ["logged", "at_least_booked"], format_func=code_text,
                            index=["logged", "at_least_booked"].index(p.session_billing), key="wi_session")
late = cols[2].number_input("Late cancellation fee (min)", 0.0, 600.0, float(p.late_cancellation_minutes),
                            step=5.0, key="wi_late", format="%g")
no_show = cols[3].number_input("No-show fee (min)", 0.0, 600.0, float(p.no_show_minutes), step=5.0, key="wi_noshow", format="%g")
cols = st.columns(4)
notice = cols[0].number_input("Free cancellation notice (h)", 0.0, 336.0, float(p.cancellation_notice_hours),
                              step=1.0, key="wi_notice", format="%g")
valid = cols[1].number_input("Hours valid for (days)", 1, 1000, p.hours_valid_days, key="wi_valid")


def _num(value, original):
    # keep an integer setting an integer (policy validation keeps what the file would say)
    return int(value) if float(value).is_integer() and isinstance(original, int) else value


try:
    changed = p.with_changes(rounding_increment_minutes=int(increment), session_billing=session,
                             late_cancellation_minutes=_num(late, p.late_cancellation_minutes),
                             no_show_minutes=_num(no_show, p.no_show_minutes),
                             cancellation_notice_hours=_num(notice, p.cancellation_notice_hours),
                             hours_valid_days=int(valid))
except HourbankError as exc:
    st.error(str(exc))
    st.stop()

if changed.fingerprint() == p.fingerprint():
    st.info("Change a setting above to compare the period's figures under it with the active policy.")
    st.stop()
with st.spinner("Computing the period under the changed settings..."):
    active_books = c.books()
    changed_books = c.books(changed)
comparison = pol.what_if(active_books, changed_books, f)
st.caption(f"Period {f.start} – {f.end}, as of {f.as_of}; the database is unchanged.")
ui.table(comparison, {"active": "active policy", "what_if": "changed settings", "difference": "difference"})
st.subheader("By customer (billable)")
ui.table(pol.what_if_by_customer(active_books, changed_books, f),
         {"customer_id": "customer", "active": "active policy", "what_if": "changed settings"})
