"""Policy: the active settings, each rule in plain words, and a what-if under changed settings."""
import streamlit as st

from billing import appdata
from billing.pages import over_time
from billing.pages import policy as pol
from billing.display import code_text
from billing.errors import HourbankError
from pages import _ui as ui

c = ui.page_context("Policy", "The billing settings in use, what each rule means, and what the period would "
                              "bill under other settings.")
f, p = c.filters, c.policy

# Full width: beside the rules, the settings' long meanings pushed their values out of sight.
st.subheader("Active settings")
st.caption(f"From {appdata.policy_path()}.", help=f"Its fingerprint, {p.fingerprint()}, is recorded with every "
                                                  "statement issued, to tell later which settings it was made under.")
ui.table(pol.policy_settings(p), {"setting": "key in the policy file"})
st.subheader("The rules")
for rule, text in pol.rule_explanations(p):
    st.markdown(text, help=f"Billing rule {rule} (docs/rules.md; the code and tests cite it by this id).")

st.subheader("Dated changes")
changes = pol.dated_changes(p)
if changes.empty:
    st.caption("No dated change: every setting above applies to every day. A [[change]] table in the policy "
               "file changes settings from a date.", help=ui.why("R11"))
else:
    st.caption("Each figure uses the settings in force on its own day: rounding and session billing the day "
               "of the work, fees the appointment's day, validity the purchase day, rollover a block's last day.",
               help=ui.why("R11"))
    ui.table(changes, {"from": "from", "setting": "key"}, help={"key": "The setting's key in the policy file."},
             wrap={"in words": 260})

st.subheader("Closings")
closings = ui.compute(appdata.closings, c.db, c.version.number)
banner = ui.closed_banner(c)
if closings.empty:
    st.caption("The books have never been closed. Close them through a day with `python -m billing close --through "
               "YYYY-MM-DD`, or when issuing a statement (Customer statement page).")
else:
    if not banner:
        st.caption("The books are open: every close below was undone by a reopen.")
    ui.table(over_time.closings_table(closings))

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


dated = st.toggle("Add a dated change", key="wi_dated",
                  help="A setting that changes from a day on (R11), as a [[change]] table would: figures of "
                       "earlier days keep the settings above.")
change = None
if dated:
    cols = st.columns([1, 2, 1])
    start = cols[0].date_input("From", value=f.start, key="wi_from")
    key = cols[1].selectbox("Setting", list(pol.DATED_SETTINGS), format_func=lambda k: pol.SETTING_LABELS.get(k, k),
                            key="wi_setting")
    kind, spec = pol.DATED_SETTINGS[key]
    current = getattr(p.on(start), key)
    if kind == "choice":
        value = cols[2].selectbox("Becomes", list(spec), index=list(spec).index(current) if current in spec else 0,
                                  format_func=code_text, key=f"wi_value_{key}")
    elif kind == "int":
        value = int(cols[2].number_input("Becomes", spec, 100_000, int(current), key=f"wi_value_{key}"))
    else:
        value = cols[2].number_input("Becomes", float(spec), 100_000.0, float(current if current is not None else 0),
                                     step=5.0, key=f"wi_value_{key}")
        value = _num(value, current if current is not None else 0)
    change = (start, key, value)

try:
    base = p.with_changes(rounding_increment_minutes=int(increment), session_billing=session,
                          late_cancellation_minutes=_num(late, p.late_cancellation_minutes),
                          no_show_minutes=_num(no_show, p.no_show_minutes),
                          cancellation_notice_hours=_num(notice, p.cancellation_notice_hours),
                          hours_valid_days=int(valid))
    changed = base if change is None else base.with_dated_change(change[0], **{change[1]: change[2]})
except HourbankError as exc:
    st.error(str(exc))
    st.stop()

if changed.fingerprint() == p.fingerprint():
    st.info("Change a setting above, or add a dated change, to compare the period's figures under it with the "
            "active policy.")
    st.stop()
if change is not None:
    st.caption(f"What if: {pol.SETTING_LABELS.get(change[1], change[1]).lower()} becomes "
               f"{pol.setting_value_text(change[1], change[2])} from {change[0]}"
               + (", on top of the changed settings above." if base.fingerprint() != p.fingerprint() else "."))
with st.spinner("Computing the period under the changed settings..."):
    active_books = c.books()
    changed_books = c.books(changed)
comparison = pol.what_if(active_books, changed_books, f)
st.caption(f"Period {f.start} – {f.end}, as of {f.as_of}; the database is unchanged."
           + (" Closed days keep their figures: what a change would alter in them shows as late changes "
              "on the first open day." if banner else ""), help=ui.why("R11", "R12") if banner else None)
ui.table(comparison, {"active": "active policy", "what_if": "changed settings", "difference": "difference"})
st.subheader("By customer (billable)")
ui.table(pol.what_if_by_customer(active_books, changed_books, f),
         {"customer_id": "customer", "active": "active policy", "what_if": "changed settings"})
