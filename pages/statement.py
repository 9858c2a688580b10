"""Customer statement: one customer and period, every billed minute explained, as PDF/XLSX/CSV."""
import streamlit as st

from billing import appdata, closing
from billing import statement as stm
from billing.calendar import today_in
from billing.customers import customer_label
from billing.display import date_text, duration_text, exact_minutes_text, notice_text
from billing.exports import FORMATS, issued_files
from billing.exports.cells import LEAVING, summary_figures, uncovered_label
from billing.pages import adjustments as adjust
from billing.pages import statement as stm_page
from billing.pages.common import ids_param, range_param, range_text
from billing.policy import PolicyError
from pages import _share
from pages import _ui as ui


def current_user() -> str | None:
    """The signed-in manager's e-mail, when sign-in is configured."""
    try:
        return st.user.get("email") if st.user.get("is_logged_in") else None
    except Exception:  # noqa: BLE001 - no auth configured: nobody in particular
        return None


c = ui.page_context("Customer statement", "What a customer asks for: each billed minute of a period, how it was "
                                          "rounded and which prepaid block paid for it.")
f = c.filters
ids = sorted(c.names) if c.names else []
if not ids:
    st.info("No customers yet: import an export first (Import page or `python -m billing import`).")
    st.stop()

# Which statement: a link's ?customer=C1014 (an id: it survives a rename) and statement_period,
# else the sidebar's first chosen customer and its period. Everything below, the figures and
# every download, is of the statement last shown with the button: a date typed but not yet
# applied never reaches a download (a download button's file is made when the page is drawn,
# so one clicked right after typing carried the previous period).
sidebar = (f.start, f.end)
first_id = lambda values: (ids_param(values, ids)[0] or [None])[0]   # noqa: E731
ui.from_link("stmt_customer", "customer", first_id, f.customers[0] if f.customers else ids[0])
ui.from_link("stmt_period", "statement_period", range_param, sidebar)
st.session_state["stmt_period"] = stm_page.follow(st.session_state.get("stmt_period"),
                                                   st.session_state.get("stmt_sidebar_seen"), sidebar)
st.session_state["stmt_sidebar_seen"] = sidebar
chosen = st.session_state.get("stmt_customers_seen")
if chosen is not None and chosen != f.customers and f.customers and st.session_state["stmt_customer"] not in f.customers:
    st.session_state["stmt_customer"] = f.customers[0]   # the sidebar's choice changed: follow it
st.session_state["stmt_customers_seen"] = f.customers

with st.form("statement_choice", border=False):
    left, mid = st.columns(2)
    left.selectbox("Customer", ids, key="stmt_customer", format_func=lambda cid: customer_label(cid, c.names))
    mid.date_input("Statement period", key="stmt_period")
    st.form_submit_button("Show statement", type="primary")
# Outside the form: the copy is not a choice of statement, and a switch that showed "Customer
# copy" while the downloads were still the internal copy (until the button was pressed) could
# send staff names and rule ids to a customer.
st.toggle("Customer copy", value=True, key="stmt_redact",
          help="On: the downloads are the copy to send, in the customer's words, without rule ids, "
               "staff names, notes or the policy. Off: the internal copy, which keeps them and is "
               "marked INTERNAL COPY on every page, with '-internal' in its file names.")
customer = st.session_state["stmt_customer"]
period = st.session_state["stmt_period"]
if not isinstance(period, (list, tuple)) or len(period) != 2:
    st.info("Pick the first and the last day of the statement period, then show the statement.")
    st.stop()
first, last = period
redact = st.session_state["stmt_redact"]
ui.to_link("customer", customer)
ui.to_link("statement_period", range_text(first, last) if (first, last) != sidebar else None)
note = stm_page.period_note((first, last), sidebar)
if note:
    st.info(note)
st.caption(f"As of {f.as_of} (sidebar). Work dated after it does not count yet.", help=ui.why("R1"))
ui.closed_banner(c)


def exact(us: int, help: str = "") -> str:
    return f"{help}{'; ' if help else ''}{exact_minutes_text(us)}."


def _posted_now(db, policy):
    """What the close just made posts on its first open day already (closing.posted_after_close)."""
    from billing.store import open_db

    with open_db(db, read_only=True) as con:
        return closing.posted_after_close(con, policy, today_in(policy.timezone))


# Cleared as soon as a rerun reaches it, before the new statement is computed: the previous
# statement's figures and downloads never linger on the page meanwhile (a download clicked then
# carried the previous period).
head = st.empty()
args = (c.db, c.version.number, c.policy, customer, first, last, f.as_of)
st_ = ui.compute(appdata.statement, *args, True)
with head.container():
    if st_.fully_closed:
        st.info(f"Every day of this statement is closed (through {date_text(st_.closed_through)}): it shows the books "
                "as they were closed, and will read the same whatever is imported or adjusted later.")
    # The balance as the PDF's summary box gives it (opening + purchased + credited − used −
    # forfeited = closing, each line that applies), then what was billed: three a row, so that a
    # long-lived customer's "2436 h 13 min" fits at 1,400 px.
    figures = summary_figures(st_)
    plain = ("Opening balance", "Closing balance")
    shown = [(label, ("" if label in plain else "− " if label in LEAVING else "+ ") + duration_text(us), exact(us))
             for label, us in figures]
    shown += [("Billable", duration_text(st_.totals["billable_us"]), exact(st_.totals["billable_us"])),
              (uncovered_label(st_), duration_text(st_.totals["uncovered_us"]), exact(st_.totals["uncovered_us"])),
              ("Next last day of a block", date_text(st_.next_expiry) if st_.next_expiry else "none", None)]
    for i in range(0, len(shown), 3):
        for col, (label, value, why) in zip(st.columns(3), shown[i:i + 3]):
            col.metric(label, value, help=why)

    try:
        team = appdata.active_team()   # the letterhead: [team] of the policy file
    except PolicyError as exc:
        st.error(f"{exc} The statement cannot be downloaded or issued until the policy file is fixed.")
        st.stop()
    files = ui.compute(appdata.statement_files, *args, team, not redact)
    st.caption(f"Downloads: {customer_label(customer, c.names)}, {first} – {last}, as of {f.as_of}, "
               + ("customer copy." if redact else "internal copy (marked INTERNAL COPY on every page)."))
    d1, d2, d3, d4 = st.columns(4)
    for column, ext, label in ((d1, "pdf", "Download PDF"), (d2, "xlsx", "Download XLSX"), (d3, "csv", "Download CSV")):
        name, data = files[ext]
        column.download_button(label, data, name, FORMATS[ext][0], key=f"dl_{ext}")

    # "Issuing a statement can close its period" (R12): offered when its last day is before today.
    through = st_.through
    can_close, why_not = stm_page.can_close(through, today_in(c.policy.timezone), st_.closed_through)
    close_too = False
    closer = None
    if can_close:
        close_too = st.checkbox(f"Close the books through {date_text(through)}", key="stmt_close",
                                help="Freezes every figure up to that day as it is now, for every customer (R12): a "
                                     "later import or adjustment of those days posts on the first open day, labelled "
                                     "as a late change, and this statement will always read the same.")
        if close_too:
            closer = current_user() or st.text_input("Closed by (required)", key="stmt_closed_by",
                                                     value=st.session_state.get("adj_by", ""), placeholder="your name")
    elif why_not:
        st.caption(why_not)
    if d4.button("Issue statement", key="issue", help="Record that this statement was sent: its figures and both "
                 "copies' files (the customer's, as sent, and the internal one that explains it) are kept, and a later "
                 "change of data that alters them is flagged below."
                 + (" With the box ticked, the books are closed through its last day first." if can_close else "")):
        flash = []
        if close_too:
            if not (closer or "").strip():
                st.error("Say who closes the books (Closed by), or untick the box.")
                st.stop()
            cid = ui.compute(closing.close, c.db, through, c.policy, closer.strip(),
                             f"closed on issuing the statement of {customer} for {first} – {last}")
            flash.append(f"Books closed through {date_text(through)} (closing {cid}).")
            appdata.clear_caches()
            posted = ui.compute(_posted_now, c.db, c.policy)
            lines = closing.posted_after_close_text(posted, through, c.names)
            if lines:
                flash.append(f"{lines[0]} {'; '.join(lines[1:])}.")
            version = appdata.current_version(c.db).number   # the close is a new version: the statement says closed
            st_ = ui.compute(appdata.statement, c.db, version, c.policy, customer, first, last, f.as_of, True)
        sid = ui.compute(stm.issue_statement, c.db, st_, issued_files(st_, team=team), issued_by=current_user() or closer)
        appdata.clear_caches()
        st.session_state["statement_flash"] = " ".join([f"Statement {sid} recorded as issued.", *flash])
        st.rerun()

_share.link_maker(c.db, customer, c.policy.timezone, current_user())

st.subheader("Day by day")
if st_.days.empty:
    st.info(f"No billable time for {customer_label(customer, c.names)} between {first} and {min(last, f.as_of)}.")
else:
    # The copy chosen is the copy shown: the customer's words (no rule ids) with the switch on.
    days = st_.days[["day", "late_for", "customer_explanation" if redact else "explanation", "billable_us",
                     "customer_paid_by" if redact else "paid_by"]]
    days.columns = ["day", "late_for", "explanation", "billable_us", "paid_by"]
    if days["late_for"].isna().all():
        days = days.drop(columns=["late_for"])
    ui.table(days, {"explanation": "how it was reached", "billable": "billed", "paid_by": "paid by",
                    "late_for": "late change for"}, wrap={"how it was reached": 360, "paid by": 240})

if not st_.adjustments.empty:
    st.subheader("Corrections (adjustments)")
    st.caption("Each reason is printed on the customer's statement, in the customer's copy too.")
    ui.table(stm_page.adjustments_table(st_.adjustments, redact), wrap={"what": 300, "reason": 240})

st.subheader("Prepaid hours: purchases, credits, draws and forfeitures")
ui.table(stm_page.ledger_table(st_.ledger, redact), {"minutes": "time", "balance": "balance after"},
         wrap={"what": 360})

with st.expander(f"Time entries ({len(st_.entries)})"):
    # The kind says the tier (General Support is free), so the table leaves the tier out and
    # wraps its texts: all its columns fit 1,400 px.
    entries = stm_page.entries_table(st_.entries, redact).drop(columns=["tier"], errors="ignore")
    ui.linked_table(entries, {"customer_requested": "asked for"},
                    adjust.links("exclude", st_.entries["entry_id"], st_.entries["kind"] != "excluded"),
                    adjust.LINK_TEXT["exclude"],
                    wrap={"started": 80, "staff": 90, "activity": 90, "kind": 110, "notes": 110, "appointment": 85},
                    help={"asked for": "Asked for by the customer: an extra person the customer wanted, billed "
                                       "and labelled."})
if not st_.fees.empty:
    with st.expander(f"Cancellation and no-show fees ({len(st_.fees)})"):
        fees = stm_page.fees_table(st_.fees, st_.policy)
        # "what" says the kind (late cancellation, no-show): the status column would repeat it.
        fees = fees.assign(notice=[notice_text(v) for v in fees["notice_us"]]).drop(columns=["notice_us", "status"])
        # Not offered where a waiver applies already: a fee of a closed day stays as closed (R12),
        # its waiver posts on the first open day.
        waived = adjust.waived_as_of(ui.compute(appdata.adjustment_history, c.db, c.version.number), f.as_of)
        open_fee = st_.fees["waived_by"].isna() & ~st_.fees["appointment_id"].isin(list(waived))
        ui.linked_table(fees, None, adjust.links("waive", st_.fees["appointment_id"], open_fee),
                        adjust.LINK_TEXT["waive"],
                        wrap={"what": 185, "scheduled start": 90, "cancelled at": 90, "notice": 80})

st.subheader("Issued statements")
if st.session_state.get("statement_flash"):
    st.success(st.session_state.pop("statement_flash"))
issued = ui.compute(appdata.issued_statements, c.db, c.version.number, customer)
if issued.empty:
    st.caption(f"No statement issued to {customer_label(customer, c.names)} yet.")
else:
    ui.table(stm_page.issued_for_people(issued, c.policy.timezone))
    changed = issued[issued["status"] != "unchanged"]
    if len(changed):
        st.warning(f"{len(changed)} issued statement(s) no longer match today's data: see 'differences'.")
