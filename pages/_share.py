"""Each customer's own view in the dashboard (billing/share.py): the customer page a link opens,
and the managers' side (making a link on the Statement page, the Customer links page).

Not a page (st.navigation lists only the page files). dashboard.py calls ``route()`` right
after st.set_page_config, before sign-in and before anything else: a URL with ``?share=`` is a
customer's, whatever its path and other parameters, and its run has one page only, the
customer page (pages/_auth.only_page: no page list, no sidebar, every page's address answers
with it), then stops. So the link works without signing in, opens nothing else, and a URL
without ``?share=`` goes through sign-in as before. A refused token (changed, expired,
revoked, another customer's, sharing off) shows billing.share.REFUSAL and nothing else.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date

import pandas as pd
import streamlit as st

from billing import appdata, share
from billing.calendar import today_in
from billing.display import block_text, dates_in_words, day_words, duration_text, people_table
from billing.errors import HourbankError
from billing.pages import customer_view as cv
from pages import _auth

PAGE_TITLE = "Your prepaid hours"
UNAVAILABLE = "Sorry, this page cannot be shown just now; please try again in a few minutes."
MADE_KEY = "share_made"


# --------------------------------------------------------------------------- settings
def _settings() -> Mapping | None:
    """The secrets file's tables (None without one); an unreadable file is ShareOff."""
    try:
        return _auth.secrets_or_none()
    except HourbankError as exc:
        raise share.ShareOff(f"Sharing is off: {exc}") from None


def dashboard_secret() -> str:
    """The signing secret (billing.share.share_secret); ShareOff says why there is none."""
    return share.share_secret(_settings())


# --------------------------------------------------------------------------- the customer page
def route() -> None:
    """A run whose URL has ``?share=`` shows the customer page and nothing else, then stops;
    any other run returns at once."""
    if share.QUERY_PARAM not in st.query_params:
        return
    _auth.only_page(customer_page, PAGE_TITLE)


def customer_page() -> None:
    token = st.query_params.get(share.QUERY_PARAM, "")
    db = appdata.db_path()
    try:
        access = share.open_link_in(db, dashboard_secret(), token)
    except (share.LinkRefused, share.ShareOff):
        st.warning(share.REFUSAL)
        return
    except HourbankError:   # the database is busy (an import) or cannot be read now
        st.info(UNAVAILABLE)
        return
    with _read_or_unavailable():
        policy = appdata.active_policy()
        version = appdata.current_version(db)
        as_of = today_in(policy.timezone)
        name = appdata.customer_names(db, version.number).get(access.customer_id, access.customer_id)
        view = _view(db, version.number, policy, as_of, access.customer_id, name)
    show_view(view, access, policy.timezone)
    statements(db, version.number, policy, view)


@contextmanager
def _read_or_unavailable() -> Iterator[None]:
    """Around the customer page's reads of the data: a database that changed while they ran (an
    import: SnapshotChanged) reruns the page, which reads the new version; one that cannot be
    read now (busy, damaged, a bad policy or [team]) shows UNAVAILABLE and ends the page there
    (the customer page is the run's only page: _auth.only_page stops after it anyway). The
    customer is never shown the reason, which is the managers' business."""
    try:
        yield
    except appdata.SnapshotChanged:
        appdata.clear_caches()
        st.rerun()
    except HourbankError:
        st.info(UNAVAILABLE)
        st.stop()


@appdata.cached
def _view(db, version: int, policy, as_of: date, customer_id: str, name: str) -> cv.CustomerView:
    return cv.customer_view(appdata.books(db, version, policy, as_of), customer_id, name)


def show_view(view: cv.CustomerView, access: share.Access, zone: str) -> None:
    st.title(view.customer_name)
    st.caption(f"Your prepaid support hours as of {day_words(view.as_of)}. This page is read-only; its link is "
               f"good until {share.local_words(access.expires_at, zone)}.")
    cols = st.columns(3)
    cols[0].metric("Prepaid time left", duration_text(view.remaining_us))
    cols[1].metric("Next last day of a block", day_words(view.next_expiry))
    cols[2].metric("Projected to be forfeited", duration_text(view.projected_lost_us),
                   help="Prepaid time a block still has after its last day is forfeited. At your pace, drawing "
                        "the block whose last day comes first, this much will not be used in time.")
    st.write(cv.pace_sentence(view))

    st.subheader("Prepaid blocks with time left")
    if view.blocks.empty:
        st.info("No prepaid block has time left.")
    else:
        # st.table: a static table the size of its rows (a customer has few), text a reader
        # (and a browser test) can select, unlike the canvas of st.dataframe.
        # Dates as the customer's statement writes them ("12 Oct 2026"), not ISO.
        # A block named as the customer's statement names it: "credit of 1 Nov 2026", not adj-1.
        blocks = view.blocks.assign(
            purchase_id=[dates_in_words(block_text(p, None, on, customer=True))
                         for p, on in zip(view.blocks["purchase_id"], view.blocks["purchased_on"])],
            **{c: [day_words(d) for d in view.blocks[c]] for c in ("purchased_on", "expires_on")})
        st.table(people_table(blocks, {
            "purchase_id": "block", "purchased_on": "bought on", "expires_on": "last day", "days_left": "days left",
            "purchased": "bought", "remaining": "left", "projected_lost": "projected to be forfeited"}),
            hide_index=True, border="horizontal")

    st.subheader("Month by month")
    usage = view.usage.assign(month=[cv.month_text(m) for m in view.usage["month"]])
    st.table(people_table(usage, {"purchased": "bought", "billable": "used", "covered": "paid from prepaid hours",
                                      "uncovered": "not covered (invoiced separately)", "forfeited": "forfeited"}),
             hide_index=True, border="horizontal")


def statements(db, version: int, policy, view: cv.CustomerView) -> None:
    """Downloads of the customer copy of the statement for the months chosen."""
    st.subheader("Statements")
    if not view.months:
        st.info("No statement yet: nothing has been billed or bought.")
        return
    left, right = st.columns(2)
    first = left.selectbox("From", view.months, format_func=cv.month_text, key="share_from")
    last = right.selectbox("To", view.months, format_func=cv.month_text, key="share_to")
    start, end = cv.month_period(first, last)
    with _read_or_unavailable():
        files = customer_copy(db, version, policy, view.customer_id, start, end, view.as_of)
    st.caption(f"Your statement of {day_words(start)} to {day_words(min(end, view.as_of))}: every billed minute, "
               "how it was counted and which prepaid block paid for it.")
    cols = st.columns(3)
    for col, ext in zip(cols, ("pdf", "xlsx", "csv")):
        name, data, mime = files[ext]
        col.download_button(f"Download {ext.upper()}", data, name, mime, key=f"share_dl_{ext}")


def customer_copy(db, version: int, policy, customer_id: str, start: date, end: date,
                  as_of: date) -> dict[str, tuple[str, bytes, str]]:
    """The customer copy of the statement (billing.exports: no rule ids, staff, notes or
    policy), with the policy file's [team] as the sender: {"pdf", "xlsx", "csv"} → (file
    name, bytes, MIME type). Raises HourbankError (a bad [team], a busy database)."""
    from billing.exports import FORMATS

    files = appdata.statement_files(db, version, policy, customer_id, start, end, as_of, appdata.active_team(),
                                    internal=False)
    return {ext: (name, data, FORMATS[ext][0]) for ext, (name, data) in files.items()}


# --------------------------------------------------------------------------- the managers' side
def base_url() -> str:
    """The dashboard's address as customers reach it: [auth] redirect_uri without
    /oauth2callback when sign-in is configured, else this browser's address of the dashboard."""
    settings = _settings()
    found = share.default_base_url(settings)
    if found != share.DEFAULT_BASE_URL:
        return found
    url = (st.context.url or "").rstrip("/")
    page = url.rsplit("/", 1)[-1] if url.count("/") > 2 else ""
    if page in _auth.page_urls():
        url = url[: -len(page) - 1]
    try:
        return share.check_base_url(url)
    except HourbankError:
        return share.DEFAULT_BASE_URL


def link_maker(db, customer_id: str, zone: str, user: str | None) -> None:
    """On the Statement page: make a link to ``customer_id``'s own page and show it with its
    expiry; disabled, with the reason, while sharing is off."""
    with st.expander("Link to the customer's own page"):
        try:
            secret, off = dashboard_secret(), None
        except share.ShareOff as exc:
            secret, off = None, str(exc)
        left, right = st.columns([1, 2])
        days = left.number_input("Good for (days)", min_value=1, max_value=share.MAX_DAYS, value=share.DEFAULT_DAYS,
                                 step=1, key="share_days", disabled=off is not None)
        right.caption("The customer sees its prepaid blocks, projected forfeiture, use by month and statements "
                      "(customer copy) without signing in, and nothing else.")
        if off:
            st.caption(off)
        if st.button("Create link", key="share_create", disabled=off is not None, icon=":material/link:",
                     help=off or f"A link to {customer_id}'s own page, good for the days above."):
            try:
                link = share.create_link(db, secret, customer_id, int(days), base_url(), created_by=user or "dashboard")
            except HourbankError as exc:
                st.error(str(exc))
            else:
                st.session_state[MADE_KEY] = (customer_id, link.link_id, link.url, share.local_text(link.expires_at, zone))
        made = st.session_state.get(MADE_KEY)
        if made and made[0] == customer_id:
            st.success(f"Link {made[1]} to {customer_id}'s page, good until {made[3]}:")
            st.code(made[2], language=None, wrap_lines=True)
        st.page_link("pages/customer_links.py", label="All links, and revoking them", icon=":material/list:")


def links_table(db, zone: str) -> pd.DataFrame:
    """The recorded links with the customers' names, times in the policy's zone."""
    from billing.customers import customer_names
    from billing.store import open_db

    if not db.exists():
        return share.no_links().assign(customer_name=pd.Series(dtype="object"))
    with open_db(db, read_only=True) as con:
        frame, names = share.links(con), customer_names(con)
    frame["customer_name"] = [names.get(c, "") for c in frame["customer_id"]]
    for col in ("created_at", "expires_at", "revoked_at"):
        frame[col] = [share.local_text(v, zone) for v in frame[col]]
    return frame
