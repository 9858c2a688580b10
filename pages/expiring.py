"""Expiring hours: what expires within the window and by when, per customer; active blocks by
last day, each customer's pace and projected forfeiture."""
import plotly.graph_objects as go
import streamlit as st

from billing.customers import customer_labels
from billing.display import date_text
from billing.pages import adjustments as adjust
from billing.pages import expiring
from billing.pages.colours import series
from billing.pages.common import hours_float, hours_text
from pages import _ui as ui

MAX_TIMELINE_BLOCKS = 200

c = ui.page_context("Expiring hours", "Prepaid time that expires soon and by when, when each customer runs out at "
                                      "the current pace, and how much is likely to be forfeited.",
                    rules=("R8", "R9"))
f = c.filters
ui.closed_banner(c)
window = c.policy.expiring_window_days
blocks = c.figure(expiring.active_blocks)
proj = c.figure(expiring.expiry_projection, with_names=True)
lost = c.figure(expiring.forfeited_by_month)

if blocks.empty:
    st.info(f"No active prepaid block with time left as of {f.as_of} for these customers.")
else:
    soon = expiring.expiring_by_customer(blocks, c.names)
    head = expiring.expiring_figures(soon)
    totals = expiring.expiring_totals(blocks, proj)
    cols = st.columns(3)
    cols[0].metric(f"Expiring within {window} days", hours_text(head["expiring_us"]),
                   help=f"Prepaid time left in active blocks whose last day is within {window} days of {f.as_of} "
                        "(R9, expiring_window_days): used by then, or forfeited.")
    cols[1].metric("Customers with time expiring", f"{head['customers']} of {totals['customers']}")
    cols[2].metric("Soonest last day", date_text(head["first_day"]) if head["first_day"] else "none",
                   help="The soonest day after which prepaid time is forfeited (R7: the block is usable all of it).")
    cols = st.columns(3)
    cols[0].metric("Prepaid time left", hours_text(totals["remaining_us"]),
                   help="In every active block, whatever its last day.")
    cols[1].metric("Projected to be forfeited", hours_text(totals["projected_lost_us"]),
                   help=f"At each customer's pace over the last {expiring.PACE_WINDOW_DAYS} days, drawing the "
                        "earliest-expiring block first (R8); what a block still has after its last day is lost.")
    cols[2].metric("Customers at risk", f"{totals['at_risk']} of {totals['customers']}",
                   help="Customers projected to forfeit time at their current pace.")

    st.subheader(f"Expiring within {window} days, by customer")
    if soon.empty:
        st.success(f"No prepaid time expires within {window} days of {f.as_of}.")
    else:
        fig = go.Figure()
        labels = customer_labels(soon["customer_id"], c.names)
        fig.add_bar(y=labels, x=hours_float(soon["expiring_us"]), orientation="h", name="Expiring soon",
                    customdata=list(zip(ui.hover_hours(soon["expiring_us"]), map(date_text, soon["expires_on"]))),
                    hovertemplate="%{y}: %{customdata[0]} expire after %{customdata[1]}<extra></extra>",
                    marker_line_width=1, marker_line_color="white", **series("expiring_soon"))
        fig.update_layout(barmode="stack", yaxis=dict(autorange="reversed"), showlegend=False)
        ui.style(fig, "Hours that expire soon, by customer (soonest first)", "Hours", "Customer")
        fig.update_layout(height=max(300, 26 * soon["customer_id"].nunique() + 120))
        ui.chart(fig, key="expiring_soon")
        ui.table(soon, {"expires_on": "last day", "expiring": "expiring", "blocks": "blocks"})

    shown = expiring.timeline(blocks, f.as_of, MAX_TIMELINE_BLOCKS, c.names)
    fig = go.Figure()
    for is_soon, name, meaning in [(True, f"Expires within {window} days", "expiring_soon"),
                                   (False, "Expires later", "remaining")]:
        part = shown[shown["expiring_soon"].astype(bool) == is_soon]
        fig.add_bar(base=part["start"], x=(part["end"] - part["start"]).dt.total_seconds() * 1000,
                    y=part["label"], orientation="h", name=name, **series(meaning),
                    customdata=list(zip(ui.hover_hours(part["remaining_us"]), map(date_text, part["expires_on"]))),
                    hovertemplate="%{y}: %{customdata[0]} left, last day %{customdata[1]}<extra></extra>")
    fig.update_layout(xaxis_type="date", yaxis=dict(autorange="reversed", categoryorder="array",
                                                    categoryarray=list(shown["label"])))
    ui.date_axis(fig, "day")
    ui.style(fig, "Active blocks from today to their last day", "Date", "Customer · block")
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
    st.download_button("Download the at-risk customers (CSV)", expiring.at_risk_csv(proj),
                       file_name=f"at_risk_{f.as_of}.csv", mime="text/csv", disabled=totals["at_risk"] == 0,
                       help="Hours and minutes beside the exact minutes; opens in Excel with accents intact.")

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
    fig.add_bar(x=lost["month"], y=hours_float(lost["forfeited_us"]), name="Forfeited", **series("forfeited"),
                customdata=ui.hover_hours(lost["forfeited_us"]), hovertemplate="%{x|%b %Y}: %{customdata}")
    ui.date_axis(fig, "month", lost["month"])
    ui.chart(ui.style(fig, "Hours forfeited, by the month the block expired", "Month", "Hours"),
             key="expiring_forfeited")
