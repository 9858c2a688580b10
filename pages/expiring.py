"""Expiring hours: active blocks by last day, each customer's pace and projected forfeiture."""
from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from billing import appdata, views
from pages import _ui as ui

MAX_TIMELINE_BLOCKS = 200

c = ui.page_context("Expiring hours", "Prepaid time left in active blocks, when it runs out at the current pace, "
                                      "and how much is likely to be forfeited (R9).")
f = c.filters
blocks = ui.compute(lambda: appdata.memo(("active_blocks",) + c.key, lambda: views.active_blocks(c.books(), f)))
proj = ui.compute(lambda: appdata.memo(("projection",) + c.key,
                                       lambda: views.expiry_projection(c.books(), f, c.names)))
lost = ui.compute(lambda: appdata.memo(("forfeited_month",) + c.key,
                                       lambda: views.forfeited_by_month(c.books(), f)))

if blocks.empty:
    st.info(f"No active prepaid block with time left as of {f.as_of} for these customers.")
else:
    risk = views.at_risk(proj)
    cols = st.columns(3)
    cols[0].metric("Prepaid time left", views.hours_text(int(blocks["remaining_us"].sum())))
    cols[1].metric("Projected to be forfeited", views.hours_text(int(proj["projected_lost_us"].sum())),
                   help=f"At each customer's pace over the last {views.PACE_WINDOW_DAYS} days, drawing the "
                        "earliest-expiring block first (R8); what a block still has after its last day is lost.")
    cols[2].metric("Customers at risk", f"{len(risk)} of {len(proj)}")

    shown = blocks.head(MAX_TIMELINE_BLOCKS)
    fig = go.Figure()
    start = pd.Timestamp(f.as_of)
    ends = pd.to_datetime(shown["expires_on"]) + timedelta(days=1)
    fig.add_bar(base=[start] * len(shown), x=(ends - start).dt.total_seconds() * 1000,
                y=shown["customer_id"] + " · " + shown["purchase_id"], orientation="h",
                marker_color=["#b45309" if s else "#64748b" for s in shown["expiring_soon"]],
                customdata=list(zip(ui.hover_hours(shown["remaining_us"]), shown["expires_on"].astype(str))),
                hovertemplate="%{y}: %{customdata[0]} left, last day %{customdata[1]}<extra></extra>")
    fig.update_layout(xaxis_type="date", yaxis=dict(autorange="reversed"), showlegend=False,
                      height=max(300, 22 * len(shown) + 120))
    ui.style(fig, "Active blocks from today to their last day (amber: expiring soon)", "Date", "Customer · block")
    fig.update_layout(height=max(300, 22 * len(shown) + 120))
    ui.chart(fig, key="expiring_timeline")
    if len(blocks) > MAX_TIMELINE_BLOCKS:
        st.caption(f"The chart shows the {MAX_TIMELINE_BLOCKS} blocks that expire first of {len(blocks)}; "
                   "the table lists them all.")

    st.subheader("Customers: pace and projection")
    view = proj.assign(run_out=views.run_out_text(proj["run_out"]))
    ui.table(view[["customer_id", "customer_name", "remaining_us", "pace_per_day_us", "next_expiry", "run_out",
                   "projected_lost_us"]],
             {"customer_id": "customer", "customer_name": "name", "remaining": "left",
              "pace_per_day": "pace per day", "next_expiry": "next last day",
              "run_out": "runs out on", "projected_lost": "projected forfeited"})
    st.download_button("Download the at-risk customers (CSV, minutes)", views.at_risk_csv(proj),
                       file_name=f"at_risk_{f.as_of}.csv", mime="text/csv", disabled=risk.empty)

    st.subheader("Active blocks")
    ui.table(blocks.drop(columns=["expiring_soon"]),
             {"purchase_id": "block", "customer_id": "customer", "purchased_on": "bought",
              "expires_on": "last day", "days_left": "days left", "purchased": "bought hours", "remaining": "left"})

st.subheader("Already forfeited, by month")
if lost.empty:
    st.success("No prepaid time has been forfeited for these customers.")
else:
    fig = go.Figure()
    fig.add_bar(x=lost["month"], y=views.hours_float(lost["forfeited_us"]),
                customdata=ui.hover_hours(lost["forfeited_us"]), hovertemplate="%{x|%b %Y}: %{customdata}")
    ui.chart(ui.style(fig, "Hours forfeited, by the month the block expired (R9)", "Month", "Hours"),
             key="expiring_forfeited")
