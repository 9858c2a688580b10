"""Cancellation fees: late cancellations and no-shows (R6), the notice given, staff cancellations apart."""
import plotly.graph_objects as go
import streamlit as st

from billing import appdata, rules, views
from pages import _ui as ui

c = ui.page_context("Cancellation fees", "Late cancellations by the customer and no-shows cost a fee (R6); "
                                         "cancellations by staff are free and shown apart.")
f = c.filters
p = c.policy
canc = ui.compute(lambda: appdata.memo(("cancellations",) + c.key, lambda: views.cancellations(c.books(), f)))
if canc.empty:
    st.info(f"No cancelled or no-show appointments in the period {f.start} – {f.end} for these filters.")
    st.stop()

charged = canc[canc["kind"].isin(rules.FEE_KINDS)]
cols = st.columns(4)
cols[0].metric("Fees billed", views.hours_text(int(charged["fee_us"].sum())))
cols[1].metric("Late cancellations", int((canc["kind"] == rules.LATE_CANCELLATION).sum()),
               help=f"Cancelled by the customer less than {p.cancellation_notice_hours:g} h before the start: "
                    f"{views.hours_text(p.late_fee_us)} each.")
cols[2].metric("No-shows", int((canc["kind"] == rules.NO_SHOW).sum()), help=f"{views.hours_text(p.no_show_fee_us)} each.")
cols[3].metric("Cancelled by staff (free)", int((canc["kind"] == rules.STAFF_CANCELLATION).sum()))

left, right = st.columns(2)
month = views.fees_by_month(canc)
fig = go.Figure()
for kind in rules.FEE_KINDS:
    m = month[month["kind"] == kind]
    fig.add_bar(x=m["month"], y=m["count"], name=kind, customdata=ui.hover_hours(m["fee_us"]),
                hovertemplate="%{x|%b %Y}: %{y} (fee %{customdata})<extra>" + kind + "</extra>")
fig.update_layout(barmode="stack")
with left:
    ui.chart(ui.style(fig, "Fees by month", "Month", "Appointments"), key="fees_month")
hist = views.notice_histogram(canc)
fig = go.Figure()
for who in ("by the customer", "by staff"):
    h = hist[hist["who"] == who]
    fig.add_bar(x=h["notice"], y=h["count"], name=f"cancelled {who}")
fig.update_layout(barmode="group")
with right:
    ui.chart(ui.style(fig, f"Notice given before the start (free from {p.cancellation_notice_hours:g} h)",
                      "Hours before the start", "Cancellations"), key="fees_notice")

st.subheader("Fees by customer")
ui.table(views.fees_by_customer(canc), {"customer_id": "customer", "late_cancellations": "late cancellations",
                                        "no_shows": "no-shows", "fee": "fees"})

st.subheader("Appointments")
rows = canc.assign(notice=[views.notice_text(v) for v in canc["notice_us"]]).drop(columns=["notice_us", "day"])
staff_rows = rows["kind"] == rules.STAFF_CANCELLATION
tab1, tab2 = st.tabs([f"By the customer and no-shows ({int((~staff_rows).sum())})",
                      f"By staff, free ({int(staff_rows.sum())})"])
rename = {"appointment_id": "appointment", "customer_id": "customer", "scheduled_start": "scheduled start",
          "cancelled_at": "cancelled at", "cancelled_by": "by", "fee": "fee"}
with tab1:
    ui.table(rows[~staff_rows], rename)
with tab2:
    ui.table(rows[staff_rows], rename)
