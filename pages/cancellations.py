"""Cancellation fees: late cancellations and no-shows (R6), the notice given, staff cancellations apart."""
import plotly.graph_objects as go
import streamlit as st

from billing import appdata, rules
from billing.pages import adjustments as adjust
from billing.pages import cancellations as fees
from billing.pages.colours import series
from billing.pages.common import hours_text
from pages import _ui as ui

c = ui.page_context("Cancellation fees", "Late cancellations by the customer and no-shows cost a fee; "
                                         "cancellations by staff are free and shown apart.", rules=("R6",))
f = c.filters
p = c.policy
canc = c.figure(fees.cancellations)
if canc.empty:
    st.info(f"No cancelled or no-show appointments in the period {f.start} – {f.end} for these filters.")
    st.stop()

ui.closed_banner(c)
counts = fees.cancellation_counts(canc)
cols = st.columns(5)
cols[0].metric("Fees billed", hours_text(counts["fee_us"]))
cols[1].metric("Late cancellations", counts["late_cancellations"],
               help=f"Cancelled by the customer less than {p.cancellation_notice_hours:g} h before the start: "
                    f"{hours_text(p.late_fee_us)} each.")
cols[2].metric("No-shows", counts["no_shows"], help=f"{hours_text(p.no_show_fee_us)} each.")
cols[3].metric("Cancelled by staff (free)", counts["staff_cancellations"])
cols[4].metric("Fees waived", counts["waived"], help="Waived by an adjustment (R10): listed with the reason, billing "
                                                     "nothing. The reason is printed on the customer's statement.")

left, right = st.columns(2)
month = fees.fees_by_month(canc)
fig = go.Figure()
for kind in rules.FEE_KINDS:
    m = month[month["kind"] == kind]
    meaning = "no_show" if kind == rules.NO_SHOW else "late_cancellation"
    fig.add_bar(x=m["month"], y=m["count"], name=kind, customdata=ui.hover_hours(m["fee_us"]), **series(meaning),
                hovertemplate="%{x|%b %Y}: %{y} (fee %{customdata})<extra>" + kind + "</extra>")
fig.update_layout(barmode="stack")
ui.date_axis(fig, "month", month["month"])
with left:
    ui.chart(ui.style(fig, "Fees by month", "Month", "Appointments"), key="fees_month")
hist = fees.notice_histogram(canc)
fig = go.Figure()
for who in ("by the customer", "by staff"):
    h = hist[hist["who"] == who]
    fig.add_bar(x=h["notice"], y=h["count"], name=f"cancelled {who}",
                **series("staff_cancellation" if who == "by staff" else "customer_cancellation"))
fig.update_layout(barmode="group")
fig.update_yaxes(tickformat="d", dtick=1 if hist["count"].max() <= 10 else None, rangemode="tozero")  # whole counts
with right:
    ui.chart(ui.style(fig, f"Notice given before the start (free from {p.cancellation_notice_hours:g} h)",
                      "Hours before the start", "Cancellations"), key="fees_notice")

st.subheader("Fees by customer")
ui.table(fees.fees_by_customer(canc), {"customer_id": "customer", "late_cancellations": "late cancellations",
                                       "no_shows": "no-shows", "fee": "fees"})

st.subheader("Appointments")
history = ui.compute(appdata.adjustment_history, c.db, c.version.number)
reasons = {int(n): " ".join(str(r).split()) for n, r in zip(history["adjustment_id"], history["reason"])}
books = c.books()
canc = canc.assign(waived=fees.waiver_text(canc, reasons, books.closed_through))
customer_rows, staff_rows = fees.appointment_rows(canc)
tab1, tab2 = st.tabs([f"By the customer and no-shows ({len(customer_rows)})", f"By staff, free ({len(staff_rows)})"])
rename = {"appointment_id": "appointment", "customer_id": "customer", "scheduled_start": "scheduled",
          "cancelled_at": "cancelled at", "cancelled_by": "by", "fee": "fee"}
# What decides the fee first (kind, notice, fee), who and when after: with the customer's name
# beside its id the last columns would need a sideways scroll at 1,400 px.
# Each tab fits 1,400 px with the sidebar open, its waive link included: names, kinds, notices
# and waivers wrap in their columns; the customer's tab leaves out who cancelled (the tab
# says it) and the staff member, the staff tab the fee and the waiver (they are free).
WRAP = {"name": 120, "kind": 100, "notice": 75, "waived": 115, "scheduled": 90, "cancelled at": 90}
order = ["appointment_id", "customer_id", "scheduled_start", "kind", "notice", "fee_us", "waived", "cancelled_at"]
staff_order = ["appointment_id", "customer_id", "scheduled_start", "kind", "notice", "cancelled_at", "staff"]
with tab1:
    ui.linked_table(customer_rows[order], rename, adjust.links("waive", customer_rows["appointment_id"],
                                                               (customer_rows["fee_us"] > 0)
                                                               & (customer_rows["waived"] == "")),
                    adjust.LINK_TEXT["waive"], wrap=WRAP)
with tab2:
    ui.table(staff_rows[staff_order], rename, wrap=WRAP | {"name": 150})
