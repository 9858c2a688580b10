"""Hourbank's dashboard: `streamlit run dashboard.py` (or `python3 tasks.py dashboard`).

This script runs on every rerun, before the chosen page: it finds the database
(HOURBANK_DB, default: the demo database under data/, built on first run) and the policy
(HOURBANK_POLICY, default: billing.toml), reads the data version once (one snapshot per
rerun, billing.appdata), draws the sidebar filters every page shares (bound to the URL so a
link shows exactly the same view) and runs the page. Pages live in pages/, one thin file each.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import streamlit as st

from billing import appdata
from billing.calendar import today_in
from billing.customers import customer_label
from billing.pages.common import (PERIODS, Filters, data_text, date_param, ids_param, period_bounds, period_param,
                                  range_param, range_text)
from billing.errors import HourbankError
from pages._auth import require_manager
from pages import _ui as ui
from pages._share import route as customer_link_route
from pages._ui import CTX_KEY, Ctx

ROOT = Path(__file__).resolve().parent

# (file, title, icon); a file that does not exist yet is left out of the navigation.
PAGES = [
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/usage.py", "Usage", ":material/bar_chart:"),
    ("pages/expiring.py", "Expiring hours", ":material/hourglass_bottom:"),
    ("pages/alerts.py", "Alerts", ":material/notifications:"),
    ("pages/cancellations.py", "Cancellation fees", ":material/event_busy:"),
    ("pages/adjustments.py", "Adjustments", ":material/edit_note:"),
    ("pages/statement.py", "Statement", ":material/receipt_long:"),
    ("pages/customer_links.py", "Customer links", ":material/link:"),
    ("pages/data_quality.py", "Data quality", ":material/rule:"),
    ("pages/import.py", "Import", ":material/upload_file:"),
    ("pages/policy.py", "Policy", ":material/tune:"),
]

# The favicon is a file of the project: Streamlit inlines an SVG file as a data: URL, whereas a
# ":material/...:" page icon makes the browser fetch it from fonts.gstatic.com (issue 11;
# tests/browser/test_offline.py).
FAVICON = ROOT / "static" / "favicon.svg"

st.set_page_config(page_title="Hourbank", page_icon=str(FAVICON), layout="wide")
# A customer's link (?share=TOKEN, at any page's address) opens that customer's read-only page
# and nothing else, without signing in; a URL without it goes on to sign-in (pages/_share.py).
customer_link_route()
# With sign-in configured (.streamlit/secrets.toml), nothing below runs for anyone but a
# manager on the allow-list (pages/_auth.py, README.md "Deploying").
require_manager()


def read_context() -> Ctx:
    """Database, policy and data version for this rerun; a problem becomes one sentence."""
    db = appdata.db_path()
    try:
        policy = appdata.active_policy()
    except HourbankError as exc:
        return Ctx(db=db, policy=None, version=None, filters=None,
                   problem=f"The policy cannot be used: {exc}")
    try:
        if appdata.ensure_demo_db(db):
            st.toast("Built the demo database on first run.")
        version = appdata.current_version(db)
    except HourbankError as exc:
        return Ctx(db=db, policy=policy, version=None, filters=None, problem=str(exc))
    return Ctx(db=db, policy=policy, version=version, filters=None)


def customer_options(c: Ctx) -> tuple[list[str], dict]:
    """Every customer id (sorted) and id → name ('' when the data names none: billing.customers)."""
    if c.version is None:
        return [], {}
    try:
        frame = appdata.customers(c.db, c.version.number)
    except appdata.SnapshotChanged:
        appdata.clear_caches()
        st.rerun()
    except HourbankError:
        return [], {}
    names = dict(zip(frame["customer_id"], frame["customer_name"]))
    return list(frame["customer_id"]), names


def staff_options(c: Ctx) -> list[str]:
    if c.version is None:
        return []
    try:
        return appdata.staff(c.db, c.version.number)
    except appdata.SnapshotChanged:
        appdata.clear_caches()
        st.rerun()
    except HourbankError:
        return []


def ids_from_link(key: str, param: str, known: list[str], what: str) -> None:
    """A multiselect's ids from the link (ids, or an older link's "id · name" labels); a
    value the data does not have is said, not dropped silently."""
    if key in st.session_state:
        # an undo can take a chosen id away: drop it rather than fail on a missing option
        if any(v not in known for v in st.session_state[key]):
            st.session_state[key] = [v for v in st.session_state[key] if v in known]
        return
    found, unknown = ids_param(st.query_params.get_all(param), known)
    st.session_state[key] = found
    if unknown:
        st.sidebar.warning(f"The link names {what} the data does not have: {', '.join(unknown)}.")


def sidebar_filters(c: Ctx, page_id: str) -> Filters:
    """The filters every page shares. Stable keys, rendered on every page (so they are kept
    across pages) and written into the URL by id (``pages/_ui.to_link``), the as-of date
    always, so a link reproduces the view on any later day and after a customer's rename."""
    zone = c.policy.timezone if c.policy else "UTC"
    today = today_in(zone)
    side = st.sidebar
    side.header("Filters")
    # Only the multiselects: a choice in one is applied at once (a rerun of this page), so a page
    # change never carries a new value of theirs; a date typed and then a page link clicked does.
    ui.keep_across_pages(page_id, ("customers", "staff"))
    ui.from_link("asof", "asof", date_param, today)
    as_of = side.date_input("As of", key="asof",
                            help="Everything is computed as of this day: later work does not count yet. "
                                 "A link to this page keeps it, so it shows the same figures on another day.")
    as_of = as_of or today
    ui.to_link("asof", as_of.isoformat())
    ui.from_link("period", "period", period_param, "last_30_days")
    preset = side.selectbox("Period", list(PERIODS), format_func=PERIODS.get, key="period")
    ui.to_link("period", preset)
    custom = None
    if preset == "custom":
        ui.from_link("range", "range", range_param, (as_of - timedelta(days=29), as_of))
        custom = side.date_input("From – to", value=st.session_state["range"], key="range")
        if isinstance(custom, (list, tuple)) and len(custom) == 1:
            custom = (custom[0], custom[0])
    start, end = period_bounds(preset, as_of, custom)
    ui.to_link("range", range_text(start, end) if preset == "custom" else None)
    ids, names = customer_options(c)
    ids_from_link("customers", "customers", ids, "customers")
    customers = side.multiselect("Customers", ids, key="customers", placeholder="All customers",
                                 format_func=lambda cid: customer_label(cid, names))
    ui.kept("customers", customers)
    ui.to_link("customers", sorted(customers))
    staff_known = staff_options(c)
    ids_from_link("staff", "staff", staff_known, "staff members")
    staff = side.multiselect("Staff", staff_known, key="staff", placeholder="All staff",
                             help="Applies to logged time by staff and activity and to appointments; billable "
                                  "time is a customer's (R5 rounds a customer's whole day).")
    ui.kept("staff", staff)
    ui.to_link("staff", sorted(staff))
    side.caption(f"Period {start} – {end}")
    if c.version is not None:   # which import (and change since) the figures come from, not a version number
        side.caption(data_text(appdata.data_origin(c.db, c.version.number), c.policy.timezone))
    c.names = names
    return Filters(as_of=as_of, start=start, end=end, customers=tuple(sorted(customers)),
                   staff=tuple(sorted(staff)))


def navigation():
    pages = []
    for file, title, icon in PAGES:
        if (ROOT / file).is_file():
            pages.append(st.Page(file, title=title, icon=icon, default=not pages))
    return st.navigation(pages)


context = read_context()
page = navigation()
context.filters = sidebar_filters(context, page.url_path)
if context.problem:
    st.sidebar.warning(context.problem)
# The page reads this rerun's context; it is dropped afterwards, so a page that runs without
# this script before it notices (pages/_ui.py).
st.session_state[CTX_KEY] = context
try:
    page.run()
finally:
    st.session_state.pop(CTX_KEY, None)
