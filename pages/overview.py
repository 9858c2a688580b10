"""Overview: the period's billable and uncovered hours, forfeitures, what expires soon, fees."""
import plotly.graph_objects as go
import streamlit as st

from billing.pages import adjustments as adjust
from billing.pages.colours import series
from billing.pages.common import hours_float
from billing.pages.overview import overview
from pages import _ui as ui

c = ui.page_context("Overview", "Prepaid 1-on-1 hours at a glance, for the period and customers in the sidebar.")
f = c.filters
ov = c.figure(overview)

if ov.empty:
    st.info("No time entries, appointments or purchases dated on or before "
            f"{f.as_of}. Import an export (Import page or `python -m billing import`).")
    st.stop()

cols = st.columns(3)
ui.metric(cols[0], ov.billable)
ui.metric(cols[1], ov.uncovered, inverse=True)
ui.metric(cols[2], ov.fees)
cols = st.columns(3)
ui.metric(cols[0], ov.forfeited_90d)
ui.metric(cols[1], ov.expiring)
ui.metric(cols[2], ov.general)
st.caption(f"Period {f.start} – {f.end}, compared with {f.previous().start} – {f.previous().end}. "
           + (f"{ov.fee_count} appointment{'' if ov.fee_count == 1 else 's'} in the period cost a cancellation or "
              "no-show fee." if ov.fee_count else "No appointment in the period cost a cancellation or no-show fee."))
ui.closed_banner(c)

trend = ov.trend
grain = trend.attrs.get("grain", "day")
fig = go.Figure()
fig.add_bar(x=trend["bucket"], y=hours_float(trend["billable_us"]), name="This period", **series("billable"),
            customdata=ui.hover_hours(trend["billable_us"]),
            hovertemplate="%{x|%-d %b %Y}: %{customdata}<extra></extra>")
fig.add_scatter(x=trend["bucket"], y=hours_float(trend["previous_us"]), name="Previous period",
                mode="lines+markers", **series("previous", line=True), customdata=ui.hover_hours(trend["previous_us"]),
                hovertemplate="a period before %{x|%-d %b %Y}: %{customdata}<extra></extra>")
ui.date_axis(fig, grain, trend["bucket"])
ui.chart(ui.style(fig, f"Billable hours per {grain}, against the previous period", grain.capitalize(), "Hours"),
         key="overview_trend")

# One under the other, full width: with each customer's name beside its id, half a page at
# 1,400 px cut off the last column ("left", "action") of each.
st.subheader("Uncovered time by customer")
if ov.uncovered_customers.empty:
    st.success("No uncovered (overage) time in the period: every billable minute was prepaid.")
else:
    st.caption("Billable time no prepaid block covered; those with nothing left need a new block.",
               help=ui.why("R8"))
    ui.table(ov.uncovered_customers, {"customer_id": "customer", "uncovered": "uncovered",
                                      "remaining": "prepaid left", "needs": "action"})
st.subheader("Most urgent expiring blocks")
if ov.urgent_blocks.empty:
    st.info("No active block with time left.")
else:
    st.caption("Active blocks with time left, soonest last day first.", help=ui.why("R9"))
    ui.linked_table(ov.urgent_blocks, {"purchase_id": "block", "customer_id": "customer", "expires_on": "last day",
                                       "days_left": "days left", "remaining": "left"},
                    adjust.links("extend", ov.urgent_blocks["purchase_id"]), adjust.LINK_TEXT["extend"])

ui.late_changes_table(c)
