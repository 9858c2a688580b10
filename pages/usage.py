"""Usage: billable vs free time over time, by customer, staff and activity; the cost of rounding."""
import plotly.graph_objects as go
import streamlit as st

from billing import appdata
from billing.display import activity_text
from billing.pages import usage
from billing.pages.colours import series
from billing.pages.common import GRAINS, choice_param, csv_bytes, hours_float, hours_text
from pages import _ui as ui

c = ui.page_context("Usage", "Billable and free (General Support) time in the period, and what the daily "
                             "rounding of ad-hoc work adds.", rules=("R5",))
f = c.filters
ui.closed_banner(c)
ui.from_link("usage_grain", "usage_grain", lambda v: choice_param(v, GRAINS), "week")
grain = st.segmented_control("Group by", list(GRAINS), format_func=GRAINS.get, key="usage_grain") or "week"
ui.to_link("usage_grain", grain)
top_n = st.slider("Top customers", 3, 30, 10, key="usage_top", bind="query-params")

over = c.figure(usage.usage_over_time, grain)
totals = c.figure(usage.usage_totals)
if over.empty:
    st.info(f"No work in the period {f.start} – {f.end} for these customers. Widen the period or the filters.")
    st.stop()

# Two rows of three: a figure of a busy year ("2436 h 13 min") fits its column at 1,400 px.
cols = st.columns(3)
cols[0].metric("Billable", hours_text(totals["billable_us"]), help="Sessions + rounded ad-hoc + fees.")
cols[1].metric("Sessions and fees", hours_text(totals["session_us"] + totals["fee_us"]),
               help="Session work as logged (R4) and cancellation fees (R6): never rounded.")
cols[2].metric("General support (free)", hours_text(totals["general_us"]), help="Never billable (R2).")
cols = st.columns(3)
cols[0].metric("Ad-hoc logged", hours_text(totals["adhoc_raw_us"]), help="1-on-1 work outside sessions, as logged.")
cols[1].metric("Ad-hoc billed", hours_text(totals["adhoc_billed_us"]), help="R5: each customer-day rounded up once.")
cols[2].metric("Rounding adds", hours_text(totals["rounding_us"]),
               help="Billed minus logged ad-hoc time: the cost of the daily rounding.")

x = over["bucket"]
fig = go.Figure()
for col, name, meaning in [("session_us", "Sessions", "sessions"),
                           ("adhoc_billed_us", "Ad-hoc (billed, rounded)", "adhoc"),
                           ("fee_us", "Fees", "fees"), ("general_us", "General support (free)", "general")]:
    fig.add_bar(x=x, y=hours_float(over[col]), name=name, customdata=ui.hover_hours(over[col]), **series(meaning),
                hovertemplate=name + " %{x|%-d %b %Y}: %{customdata}<extra></extra>")
fig.update_layout(barmode="stack")
ui.date_axis(fig, grain, x)
ui.chart(ui.style(fig, f"Billable vs free time per {grain}", GRAINS[grain], "Hours"), key="usage_time")

fig = go.Figure()
fig.add_scatter(x=x, y=hours_float(over["adhoc_raw_us"]), name="Ad-hoc (as logged)", mode="lines+markers",
                **series("adhoc_logged", line=True),
                customdata=ui.hover_hours(over["adhoc_raw_us"]), hovertemplate="%{customdata}")
fig.add_scatter(x=x, y=hours_float(over["adhoc_billed_us"]), name="Ad-hoc (billed, rounded)",
                mode="lines+markers", **series("adhoc", line=True), customdata=ui.hover_hours(over["adhoc_billed_us"]),
                hovertemplate="%{customdata}")
ui.date_axis(fig, grain, x)
ui.chart(ui.style(fig, f"Ad-hoc work: time logged vs billed (rounded up daily) per {grain}", GRAINS[grain], "Hours"),
         key="usage_rounding")

by_cust = c.figure(usage.usage_by_customer, top_n, with_names=True)
# The rest of the customers as one bar would set the scale and squash the top ones: it is named
# in the title instead.
others = by_cust[by_cust["customer_id"].str.endswith((" other customer", " other customers"))]
by_cust = by_cust.drop(index=others.index)
rest = (f" ({others['customer_id'].iloc[0]}: {hours_text(int(others['billable_us'].iloc[0]))} billable)"
        if len(others) else "")
fig = go.Figure()
for col, name, meaning in [("billable_us", "Billable", "billable"),
                           ("general_us", "General support (free)", "general")]:
    fig.add_bar(y=by_cust["customer"], x=hours_float(by_cust[col]), name=name, orientation="h", **series(meaning),
                customdata=ui.hover_hours(by_cust[col]), hovertemplate="%{y}: %{customdata}<extra></extra>")
fig.update_layout(barmode="group", yaxis=dict(autorange="reversed"))
ui.chart(ui.style(fig, f"Top {top_n} customers by billable time{rest}", "Hours", "Customer"),
         key="usage_customers")

entries = ui.compute(appdata.entry_usage, c.db, c.version.number, c.policy, f.as_of, f.start, f.end,
                     f.customers, f.staff)
st.caption("By staff and activity: time as logged, everyone's time counting; rounding applies to a "
           "customer's day, not to a person's work, so these are not rounded." +
           (f" Staff filter: {', '.join(f.staff)}." if f.staff else ""), help=ui.why("R3", "R5"))
left, right = st.columns(2)
for where, by, title in [(left, "staff", "Logged time by staff"), (right, "activity", "Logged time by activity")]:
    frame = usage.usage_by(entries, by)
    fig = go.Figure()
    labels = [activity_text(a) for a in frame[by]] if by == "activity" else frame[by]
    for col, name, meaning in [("adhoc_us", "Ad-hoc (as logged)", "adhoc_logged"),
                               ("session_us", "Sessions", "sessions"),
                               ("general_us", "General support (free)", "general")]:
        fig.add_bar(y=labels, x=hours_float(frame[col]), name=name, orientation="h", **series(meaning),
                    customdata=ui.hover_hours(frame[col]), hovertemplate="%{y}: %{customdata}<extra></extra>")
    fig.update_layout(barmode="stack", yaxis=dict(autorange="reversed"))
    with where:
        ui.chart(ui.style(fig, title, "Hours", by.capitalize()), key=f"usage_{by}")

ui.late_changes_table(c, "Late changes to closed days, posted in the period")

st.subheader("Figures")
figures = usage.usage_table(over)
ui.table(over, {"bucket": f"{grain} from", "billable": "billable", "general": "general support (free)",
                "adhoc_raw": "ad-hoc logged", "adhoc_billed": "ad-hoc billed", "session": "sessions",
                "fee": "fees", "rounding": "rounding adds"})
st.download_button("Download CSV", csv_bytes(figures),
                   file_name=f"usage_{grain}_{f.start}_{f.end}.csv", mime="text/csv")
