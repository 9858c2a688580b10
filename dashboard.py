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
from billing.pages.common import PERIODS, Filters, period_bounds
from billing.calendar import today_in
from billing.errors import HourbankError
from pages._auth import require_manager
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
    ("pages/data_quality.py", "Data quality", ":material/rule:"),
    ("pages/import.py", "Import", ":material/upload_file:"),
    ("pages/policy.py", "Policy", ":material/tune:"),
]

# The favicon is a file of the project: Streamlit inlines an SVG file as a data: URL, whereas a
# ":material/...:" page icon makes the browser fetch it from fonts.gstatic.com (issue 11;
# tests/browser/test_offline.py).
FAVICON = ROOT / "static" / "favicon.svg"

st.set_page_config(page_title="Hourbank", page_icon=str(FAVICON), layout="wide")
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


def sidebar_filters(c: Ctx) -> Filters:
    """The filters every page shares. Stable keys, rendered on every page (so they are kept
    across pages) and bound to the URL's query parameters (so a link reproduces the view)."""
    zone = c.policy.timezone if c.policy else "UTC"
    today = today_in(zone)
    side = st.sidebar
    side.header("Filters")
    as_of = side.date_input("As of (T)", value=today, key="asof", bind="query-params",
                            help="Everything is computed as of this day: later work does not count yet.")
    as_of = as_of or today
    preset = side.selectbox("Period", list(PERIODS), format_func=PERIODS.get, key="period",
                            bind="query-params")
    custom = None
    if preset == "custom":
        custom = side.date_input("From – to", value=(today - timedelta(days=29), today), key="range",
                                 bind="query-params")
        if isinstance(custom, (list, tuple)) and len(custom) == 1:
            custom = (custom[0], custom[0])
    start, end = period_bounds(preset, as_of, custom)
    ids, names = customer_options(c)
    customers = side.multiselect(
        "Customers", ids, key="customers", bind="query-params", placeholder="All customers",
        format_func=lambda cid: f"{cid} · {names[cid]}" if names.get(cid) else cid)
    staff = side.multiselect("Staff", staff_options(c), key="staff", bind="query-params", placeholder="All staff",
                             help="Applies to logged time by staff and activity and to appointments; billable "
                                  "time is a customer's (R5 rounds a customer's whole day).")
    side.caption(f"Period {start} – {end}" + (f" · data version {c.version.number}" if c.version else ""))
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
context.filters = sidebar_filters(context)
if context.problem:
    st.sidebar.warning(context.problem)
# The page reads this rerun's context; it is dropped afterwards, so a page that runs without
# this script before it notices (pages/_ui.py).
st.session_state[CTX_KEY] = context
try:
    navigation().run()
finally:
    st.session_state.pop(CTX_KEY, None)
