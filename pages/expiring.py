"""Expiring hours: active blocks by last day, each customer's pace and projected forfeiture."""
import plotly.graph_objects as go
import streamlit as st

from billing.display import date_text
from billing.pages import adjustments as adjust
from billing.pages import expiring
from billing.pages.common import hours_float, hours_text
from pages import _ui as ui

MAX_TIMELINE_BLOCKS = 200

c = ui.page_context("Expiring hours", "Prepaid time left in active blocks, when it runs out at the current pace, "
                                      "and how much is likely to be forfeited (R9).")
f = c.filters
ui.closed_banner(c)
blocks = c.figure(expiring.active_blocks)
proj = c.figure(expiring.expiry_projection, with_names=True)
lost = c.figure(expiring.forfeited_by_month)

if blocks.empty:
    st.info(f"No active prepaid block with time left as of {f.as_of} for these customers.")
else:
    totals = expiring.expiring_totals(blocks, proj)
    cols = st.columns(3)
    cols[0].metric("Prepaid time left", hours_text(totals["remaining_us"]))
    cols[1].metric("Projected to be forfeited", hours_text(totals["projected_lost_us"]),
                   help=f"At each customer's pace over the last {expiring.PACE_WINDOW_DAYS} days, drawing the "
                        "earliest-expiring block first (R8); what a block still has after its last day is lost.")
    cols[2].metric("Customers at risk", f"{totals['at_risk']} of {totals['customers']}")

    shown = expiring.timeline(blocks, f.as_of, MAX_TIMELINE_BLOCKS)
    fig = go.Figure()
    fig.add_bar(base=shown["start"], x=(shown["end"] - shown["start"]).dt.total_seconds() * 1000,
                y=shown["label"], orientation="h",
                marker_color=["#b45309" if s else "#64748b" for s in shown["expiring_soon"]],
                customdata=list(zip(ui.hover_hours(shown["remaining_us"]), map(date_text, shown["expires_on"]))),
                hovertemplate="%{y}: %{customdata[0]} left, last day %{customdata[1]}<extra></extra>")
    fig.update_layout(xaxis_type="date", yaxis=dict(autorange="reversed"), showlegend=False,
                      height=max(300, 22 * len(shown) + 120))
    ui.date_axis(fig, "day")
    ui.style(fig, "Active blocks from today to their last day (amber: expiring soon)", "Date", "Customer · block")
    fig.update_layout(height=max(300, 22 * len(shown) + 120))
    ui.chart(fig, key="expiring_timeline")
    if len(blocks) > MAX_TIMELINE_BLOCKS:
        st.caption(f"The chart shows the {MAX_TIMELINE_BLOCKS} blocks that expire first of {len(blocks)}; "
                   "the table lists them all.")

    st.subheader("Customers: pace and projection")
    view = proj.assign(run_out=expiring.run_out_text(proj["run_out"]))
    ui.table(view[["customer_id", "customer_name", "remaining_us", "pace_per_day_us", "next_expiry", "run_out",
                   "projected_lost_us"]],
             {"customer_id": "customer", "customer_name": "name", "remaining": "left",
              "pace_per_day": "pace per day", "next_expiry": "next last day",
              "run_out": "runs out on", "projected_lost": "projected forfeited"})
    st.download_button("Download the at-risk customers (CSV, minutes)", expiring.at_risk_csv(proj),
                       file_name=f"at_risk_{f.as_of}.csv", mime="text/csv", disabled=totals["at_risk"] == 0)

    st.subheader("Active blocks")
    ui.linked_table(blocks.drop(columns=["expiring_soon", "purchase_id"]),
                    {"customer_id": "customer", "purchased_on": "bought",
                     "expires_on": "last day", "days_left": "days left", "purchased": "bought hours",
                     "remaining": "left"},
                    adjust.links("extend", blocks["purchase_id"]), adjust.LINK_TEXT["extend"])

st.subheader("Already forfeited, by month")
if lost.empty:
    st.success("No prepaid time has been forfeited for these customers.")
else:
    fig = go.Figure()
    fig.add_bar(x=lost["month"], y=hours_float(lost["forfeited_us"]),
                customdata=ui.hover_hours(lost["forfeited_us"]), hovertemplate="%{x|%b %Y}: %{customdata}")
    ui.date_axis(fig, "month", lost["month"])
    ui.chart(ui.style(fig, "Hours forfeited, by the month the block expired (R9)", "Month", "Hours"),
             key="expiring_forfeited")
