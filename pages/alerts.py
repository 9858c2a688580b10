"""Alerts: what is due as of T and to whom, what the next run sends, what was sent, a test message."""
import streamlit as st

from billing import appdata
from billing.alerts import run
from billing.errors import HourbankError
from billing.pages import alerts as al
from pages import _ui as ui

c = ui.page_context("Alerts", "Expiring hours, low balances and overage, told to managers and customers by "
                              "`python -m billing alerts --send` (daily, from cron or a systemd timer).")
f = c.filters
try:
    settings = al.settings(appdata.policy_path())
except HourbankError as exc:  # a bad [alerts] table: one sentence naming the key
    st.error(f"The alerts' settings cannot be used: {exc}")
    st.stop()

state = ui.compute(al.read_journal, c.db)
alerts = al.alerts_due(c.books(), f, settings, c.names)
due = al.due_table(alerts, settings, state, f.as_of)
upcoming = al.next_run(alerts, settings, state, f.as_of)

cols = st.columns(3)
cols[0].metric("Alerts due", len(due), help=f"As of {f.as_of} (sidebar), for the customers chosen there.")
cols[1].metric("Messages the next run sends", len(upcoming))
cols[2].metric("Failed, not delivered yet", len(state.failures),
               help="Alerts whose every attempt to a recipient failed so far; the next run sends them again "
                    "while they are due.")
if not settings.channels:
    st.warning("No channel is set up: add [alerts.smtp] (with managers) or [alerts.webhook] to the policy file "
               f"({appdata.policy_path()}); the alerts below are not sent to anyone until then.")

st.subheader("Due now")
if due.empty:
    st.success(f"No alert is due as of {f.as_of}.")
else:
    ui.table(due.drop(columns=["message"]),
             {"customer_id": "customer", "customer_name": "name", "purchase_id": "block",
              "time": "time", "expires_on": "last day",
              "projected_forfeited": "to forfeit", "sent": "reached"},
             help={"time": "Time left in the block, or, for overage, the time no block covered.",
                   "to forfeit": "Projected to be forfeited at the customer's pace.",
                   "reached": "The recipients the alert has reached so far."},
             wrap={"kind": 90, "name": 115, "block": 95, "status": 80})
    with st.expander(f"What the next run sends ({len(upcoming)} message{'' if len(upcoming) == 1 else 's'})"):
        if not upcoming:
            st.caption("Nothing: every alert due has reached everyone (or waits for the next digest).")
        for title, text in al.preview(upcoming, settings):
            st.text(title)
            st.code(text, language=None, wrap_lines=True)

st.subheader("Sent")
history = al.history_table(state)
if history.empty:
    st.caption("Nothing sent yet.")
else:
    ui.table(history, {"message_id": "message", "attempted_at": "when (UTC)", "as_of": "as of",
                       "customer_id": "customer", "purchase_id": "block"})

st.subheader("Settings")
ui.table(al.settings_table(settings), width="stretch")
st.caption(f"The [alerts] table of {appdata.policy_path()} (README, \"Alerts\").")
can_test = bool(run.manager_recipients(settings))
if st.button("Send a test message", key="alerts_test", disabled=not can_test,
             help="A short message to each manager and the webhook, to check the settings; recorded above."
             if can_test else "No managers (with [alerts.smtp]) and no [alerts.webhook] to send it to."):
    with st.spinner("Sending..."):
        outcomes = ui.compute(run.send_check, c.db, settings, f.as_of)
    st.session_state["alerts_test_result"] = [(o.message.header(), o.error) for o in outcomes]
    st.rerun()
for header, error in st.session_state.pop("alerts_test_result", []):
    if error is None:
        st.success(f"Sent: {header}")
    else:
        st.error(f"Not sent: {header}: {error}")
