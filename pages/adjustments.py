"""Adjustments (R10): record a manager's correction, list them, void one; always with a reason.

The links other pages put beside a fee, a block or an entry (?kind=waive&target=C1,
billing.pages.adjustments.link) open this page with the kind and the target filled in.
"""
from datetime import timedelta

import streamlit as st

from billing import adjustments as adj
from billing import appdata
from billing.calendar import today_in
from billing.display import duration_text
from billing.errors import HourbankError
from billing.pages import adjustments as page
from pages import _ui as ui

c = ui.page_context("Adjustments", "Corrections recorded beside the imported data, never changing it: each "
                                   "has a date from which reports apply it, a reason, and who recorded it. Voiding "
                                   "one keeps both on record.", rules=("R10",))
f = c.filters
FLASH = "adjust_flash"
# Recording starts a new form: the widgets of the next one get new keys (a widget's value
# cannot be reset once the form that holds it has been sent).
FORM = "adj_form"
n = st.session_state.setdefault(FORM, 0)
if st.session_state.get(FLASH):
    st.success(st.session_state.pop(FLASH))


def signed_in_manager() -> str | None:
    """The signed-in manager's e-mail when sign-in is on (pages/_auth.py let only managers in)."""
    try:
        return st.user.get("email") if st.user.get("is_logged_in") else None
    except Exception:  # noqa: BLE001 - sign-in not configured: nobody in particular
        return None


def who(key: str) -> str:
    """Who records: the signed-in manager, else a required field."""
    manager = signed_in_manager()
    if manager:
        st.caption(f"Recorded by {manager} (signed in).")
        return manager
    return st.text_input("Recorded by (required)", key=key, placeholder="your name",
                         value=st.session_state.get("adj_by", ""))


def recorded(number: int) -> None:
    appdata.clear_caches()
    history = ui.compute(appdata.adjustment_history, c.db, appdata.current_version(c.db).number)
    st.session_state[FLASH] = page.recorded_text(number, history, c.names)
    st.session_state[FORM] = n + 1
    st.rerun()


def sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:]


def forget_target():
    st.session_state[f"adj_target_{n}"] = None


def prefill_from_the_link() -> None:
    """A link from another page (?kind=waive&target=C1) fills in the kind and the target once;
    the two go from the address then, so that it does not contradict the form afterwards."""
    link = {key: st.query_params.get(key) for key in ("kind", "target")}
    if not any(link.values()):
        return
    if link["kind"] in adj.APPLIED:
        st.session_state["adj_kind"] = link["kind"]
    if link["target"]:
        st.session_state[f"adj_target_{n}"] = link["target"]
    for key in ("kind", "target"):
        st.query_params.pop(key, None)


version = c.version.number
history = ui.compute(appdata.adjustment_history, c.db, version)
today = today_in(c.policy.timezone)

# --------------------------------------------------------------------------- record
st.subheader("Record an adjustment")
left, right = st.columns([1, 2])
prefill_from_the_link()
kind = left.selectbox("Kind", list(adj.APPLIED), format_func=adj.KIND_TEXT.get, key="adj_kind",
                      on_change=forget_target)
if kind in ("extend", "waive"):
    options = c.figure(page.block_options if kind == "extend" else page.fee_options, with_names=True)
elif kind == "exclude":
    entries = ui.compute(appdata.period_entries, c.db, version, c.policy, f.as_of, f.start, f.end, f.customers,
                         f.staff, page.ENTRY_OPTIONS)
    options = page.entry_options(entries, c.names)
else:
    options = page.customer_options(ui.compute(appdata.customers, c.db, version))
hint = {"extend": f"blocks as of {f.as_of}", "waive": f"fees dated up to {f.as_of}",
        "exclude": f"the newest {page.ENTRY_OPTIONS:,} entries of {f.start} – {min(f.end, f.as_of)} (sidebar)",
        "credit": "every customer", "charge": "every customer"}[kind]
target = right.selectbox(page.TARGET_LABELS[kind], list(options), index=None, key=f"adj_target_{n}",
                         format_func=lambda t: options.get(t, t), accept_new_options=True,
                         placeholder="choose, or type an id",
                         help=f"Listed: {hint}. Any other id can be typed.")
found = None
if target:
    try:
        found = appdata.adjustment_target(c.db, version, kind, target, c.policy, today)
    except HourbankError as exc:
        st.warning(sentence(exc))
    else:
        st.caption(page.target_text(found, c.names))

with st.form("record"):
    a, b = st.columns(2)
    to_day = minutes = None
    if kind == "extend":
        last = found.last_day if found else today
        to_day = a.date_input("New last day", value=last + timedelta(days=30), key=f"adj_to_{n}",
                              help="Later than the block's last day; it can then pay for work up to this day (R7).")
    elif kind in ("credit", "charge"):
        minutes = a.text_input("Minutes", key=f"adj_minutes_{n}", placeholder="e.g. 60 or 12.5",
                               help="Exact, in minutes: 90 is 1 h 30 min. "
                                    + ("A block of this time, bought on the adjustment's date." if kind == "credit"
                                       else "Billed on the adjustment's date, never rounded, drawn like a fee."))
    beside = b if kind in ("extend", "credit", "charge") else a
    on = beside.date_input("Dated", value=today, key=f"adj_on_{n}",
                           help="Reports as of this day or later apply it; earlier ones stay as they were (R10).")
    reason = st.text_area("Reason (required)", key=f"adj_reason_{n}", height=68,
                          placeholder="why: kept with the adjustment and shown on statements",
                          help=page.REASON_SHOWN)
    st.warning(page.REASON_SHOWN, icon="✍️")
    by = who("adj_by")   # kept from one form to the next
    if st.form_submit_button("Record adjustment", type="primary"):
        try:
            number = adj.record(c.db, kind, target, on=on, by=by, reason=reason, to_day=to_day,
                                minutes=minutes if kind in ("credit", "charge") else None, policy=c.policy)
        except HourbankError as exc:
            st.error(sentence(exc))
        else:
            recorded(number)

# --------------------------------------------------------------------------- list
st.subheader("On record")
if history.empty:
    st.info("No adjustments yet.")
else:
    t = page.totals(history, f.as_of)
    cols = st.columns(3)
    cols[0].metric(f"Applying as of {f.as_of}", t["applying"],
                   help=f"Dated on or before T and not voided by then; {t['later']} more are dated later.")
    cols[1].metric("Credited (applying)", duration_text(t["credit_us"]))
    cols[2].metric("Charged (applying)", duration_text(t["charge_us"]))
    a, b = st.columns([2, 1])
    kinds = a.multiselect("Kinds", list(adj.KINDS), key="adj_kinds", placeholder="All kinds")
    hide = b.toggle("Hide voided ones and voids", key="adj_hide")
    shown = page.listing(history, f.as_of, c.names, tuple(kinds), f.customers, hide)
    if shown.empty:
        st.info("No adjustments for these filters (sidebar customers, kinds).")
    else:
        st.dataframe(shown, hide_index=True, **ui.wrapping({"what": 135, "customer": 125, "reason": 150, "by": 100,
                                                     f"as of {f.as_of.isoformat()}": 105, "recorded (UTC)": 110}, None))
    st.download_button("Download all (CSV, exact minutes)", page.listing_csv(history),
                       file_name=f"adjustments_{today}.csv", mime="text/csv")

# --------------------------------------------------------------------------- void
st.subheader("Void an adjustment")
voidable = page.void_options(history, c.names)
if not voidable:
    st.caption("Nothing to void.")
else:
    with st.form("void"):
        a, b = st.columns([3, 1])
        number = a.selectbox("Adjustment", list(voidable), index=None, key=f"void_{n}", format_func=voidable.get,
                             placeholder="choose the one to void")
        void_on = b.date_input("From", value=today, key=f"void_on_{n}",
                               help="It stops applying from this day; reports as of earlier days keep it.")
        void_reason = st.text_area("Reason (required)", key=f"void_reason_{n}", height=68, help=page.REASON_SHOWN)
        void_by = who("void_by")
        if st.form_submit_button("Void adjustment"):
            if number is None:
                st.error("Choose the adjustment to void.")
            else:
                try:
                    done = adj.void(c.db, number, on=void_on, by=void_by, reason=void_reason, policy=c.policy)
                except HourbankError as exc:
                    st.error(sentence(exc))
                else:
                    recorded(done)
