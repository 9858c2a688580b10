"""Streamlit helpers shared by the pages: the rerun's context, empty states, tables, charts.

Not a page itself (st.navigation lists only the page files). Every figure comes from
billing.pages (through ``Ctx.figure``, cached by billing.appdata); this module only renders.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import streamlit as st

from billing import appdata
from billing.display import people_table
from billing.pages.colours import FONT_FAMILY
from billing.pages.common import Filters, hours_text
from billing.pages.overview import Kpi
from billing.errors import HourbankError
from billing.policy import Policy

CTX_KEY = "_hourbank_ctx"


@dataclass
class Ctx:
    """What dashboard.py read for this rerun: one database version, one policy, the filters."""
    db: Path
    policy: Policy | None
    version: appdata.Version | None
    filters: Filters | None
    names: dict = field(default_factory=dict)
    problem: str | None = None   # why there is nothing to show (no database, bad policy, ...)
    grain_default: str = "week"

    def books(self, policy: Policy | None = None):
        """The books as of the filters' T under ``policy`` (default: the active one), cached."""
        return compute(appdata.books, self.db, self.version.number, policy or self.policy, self.filters.as_of)

    def figure(self, fn: Callable, *extra, with_names: bool = False, policy: Policy | None = None):
        """One page figure ``fn(books, filters, *extra)`` of billing.pages for this rerun,
        cached on (database, version, policy, filters, extra) by billing.appdata.figure."""
        return compute(appdata.figure(fn, with_names), self.db, self.version.number, policy or self.policy,
                       self.filters, *extra)


def ctx() -> Ctx:
    value = st.session_state.get(CTX_KEY)
    if value is None:
        _run_the_shell_first()
        return Ctx(db=appdata.db_path(), policy=None, version=None, filters=None,
                   problem="Start the dashboard with `streamlit run dashboard.py`.")
    return value


def _run_the_shell_first() -> None:
    """A page ran without dashboard.py before it in the same run.

    Streamlit's old multipage mode (a folder named pages/ beside the main script) is on until
    the first st.navigation call switches it off; so the very first request of a fresh server
    for a page's URL (a shared link) runs the page file alone. Switch the old mode off and
    rerun: dashboard.py then runs first and st.navigation picks the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


RULES = {   # docs/rules.md, for the "?" beside a caption: the words first, the rule's id after
    "R1": "a day is the calendar date in the policy's time zone; work after the as-of date does not count yet",
    "R3": "every 1-on-1 staff member's time is billable",
    "R5": "a customer's ad-hoc work is added up per day and rounded up once",
    "R6": "a customer's late cancellation or no-show costs a fee; staff cancellations are free",
    "R7": "a purchase is a block usable through its last day",
    "R8": "billable time is paid from the block that expires first; what no block covers is invoiced separately",
    "R9": "what a block still has after its last day is forfeited",
    "R10": "a correction is recorded beside the imported data, with its date, reason and author",
    "R11": "a setting may change from a date; each day uses the settings in force on it",
    "R12": "closed days keep their figures; later changes to them post on the first open day",
}


def why(*rules: str) -> str:
    """The help text ("?") that says which billing rules a caption follows, in words and then
    by id (docs/rules.md): the caption itself says it for people, without ids."""
    return " ".join(f"{RULES[r][0].upper()}{RULES[r][1:]} ({r})." for r in rules) + " See docs/rules.md."


def page_context(title: str, caption: str, rules: tuple[str, ...] = ()) -> Ctx:
    """Title, caption (its rules' ids in its help: ``why``), and the rerun's context; stops
    the page with a clear note when the data cannot be read (the sidebar says why)."""
    st.title(title)
    st.caption(caption, help=why(*rules) if rules else None)
    c = ctx()
    if c.problem:
        st.info(c.problem)
        st.stop()
    if c.version is not None and c.version.stale:
        st.warning("An import is running: the figures are those from before it until it has finished.")
    return c


def compute(fn: Callable, *args, **kwargs):
    """Run a billing read; a changed database reruns the script (one snapshot per rerun), a
    user-facing problem is shown as one sentence and stops the page (never a traceback)."""
    try:
        return fn(*args, **kwargs)
    except appdata.SnapshotChanged:
        appdata.clear_caches()
        st.rerun()
    except HourbankError as exc:
        st.error(str(exc))
        st.stop()


# --------------------------------------------------------------------------- links
# Widgets are bound to the URL here rather than with ``bind="query-params"``, which writes a
# widget's shown label ("C1014 · Acme", "This year") into the link and leaves out a value
# equal to the default (today's date): such a link breaks when a customer is renamed and shows
# other figures the next day. A link is read once, when the session first draws the widget
# (later the widget is the truth: Streamlit drops page-less parameters on a page change, and
# ``to_link`` writes them back on every rerun).
def from_link(key: str, param: str, parse: Callable[[list[str]], object], default) -> None:
    """Before drawing the widget ``key``: on its first drawing in this session, its value
    from the link's ``param`` (``parse`` of the parameter's values, None = not usable),
    else ``default``. Draw the widget with ``key`` and without a default of its own."""
    if key not in st.session_state:
        value = parse(st.query_params.get_all(param))
        st.session_state[key] = default if value is None else value


KEPT = "_kept_"


def keep_across_pages(page_id: str, keys: tuple[str, ...]) -> None:
    """Before the shell's multiselects are drawn: on a page change, give them back the values
    they had (``kept``). A multiselect whose value came from a link, not from a click, comes back
    empty from the browser when another page is opened (seen in Chromium with Streamlit 1.67:
    the browser sends its own empty value, which wins over the session's). Not for a date
    field: a date typed and then a page link clicked arrives with that page change."""
    changed = st.session_state.get("_page") not in (None, page_id)
    st.session_state["_page"] = page_id
    if changed:
        for key in keys:
            if KEPT + key in st.session_state:
                st.session_state[key] = st.session_state[KEPT + key]


def kept(key: str, value):
    """After drawing the widget ``key``: remember its value for ``keep_across_pages``; returns it."""
    st.session_state[KEPT + key] = value
    return value


def to_link(param: str, values) -> None:
    """Write ``param`` into the link: one value, a list (a repeated parameter) or None/[] (removed).
    The URL changes only when the value does (no message to the browser otherwise)."""
    wanted = [] if values is None else [values] if isinstance(values, str) else [str(v) for v in values]
    if st.query_params.get_all(param) == wanted:
        return
    if wanted:
        st.query_params[param] = wanted if len(wanted) > 1 else wanted[0]
    elif param in st.query_params:
        del st.query_params[param]


def metric(column, kpi: Kpi, inverse: bool = False) -> None:
    column.metric(kpi.label, kpi.text, kpi.delta_text, help=kpi.help_text,
                  delta_color="inverse" if inverse else "normal")


def hours_table(frame: pd.DataFrame, rename: dict | None = None) -> pd.DataFrame:
    """A frame for people (billing.display.people_table): *_us columns as hours and whole
    minutes, dates as dates, codes and column names in words, a dash where nothing is, and
    every customer's name beside its id (billing.customers, read once per rerun)."""
    return people_table(frame, rename, names=ctx().names)


# A row tall enough for three lines: Streamlit wraps a cell's text only in rows taller than
# 4rem (64 px), and only then does a long explanation fit its column instead of widening the
# table past the page (1,400 px wide with the sidebar open leaves ~940 px for a table).
WRAP_ROW_HEIGHT = 70


def wrapping(wrap: dict | None, help: dict | None, config: dict | None = None, widths: dict | None = None) -> dict:
    """st.dataframe arguments: ``wrap`` (column → width in px, or "small"/"medium"/"large"):
    those columns that wide, their text wrapped in taller rows (for a long explanation);
    ``widths``: columns that wide in rows of one line, a longer text cut with "…" (the whole
    text on hovering the cell; for names); ``help``: column → tooltip."""
    config = dict(config or {})
    for name, width in (widths or {}).items() | (wrap or {}).items():
        config[name] = st.column_config.Column(name, width=width, help=(help or {}).get(name))
    for name, text in (help or {}).items():
        config.setdefault(name, st.column_config.Column(name, help=text))
    out = {"column_config": config} if config else {}
    return out | ({"row_height": WRAP_ROW_HEIGHT} if wrap else {})


def table(frame: pd.DataFrame, rename: dict | None = None, wrap: dict | None = None, help: dict | None = None,
          widths: dict | None = None, **kwargs) -> None:
    """``hours_table`` of ``frame`` as a dataframe; ``wrap``, ``widths`` (columns named as shown)
    and ``help``: ``wrapping``."""
    st.dataframe(hours_table(frame, rename), hide_index=True, **wrapping(wrap, help, None, widths), **kwargs)


def linked_table(frame: pd.DataFrame, rename: dict | None, links: list[str], text: str, wrap: dict | None = None,
                 help: dict | None = None, widths: dict | None = None, **kwargs) -> None:
    """``table`` with a last column of links to the Adjustments page (billing.pages.adjustments.links),
    each shown as ``text`` ("Waive this fee"); an empty link shows nothing."""
    shown = hours_table(frame, rename)
    shown["adjust"] = links
    link = st.column_config.LinkColumn("adjust", display_text=text,
                                       help="Opens the Adjustments page with this filled in.")
    st.dataframe(shown, hide_index=True, **wrapping(wrap, help, {"adjust": link}, widths), **kwargs)


def hover_hours(us) -> list[str]:
    return hours_text(us)


def style(fig, title: str, x: str, y: str):
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, legend_title_text="",
                      margin=dict(l=10, r=10, t=50, b=10), height=360)
    return fig


DATE_TICKS = {"day": "%-d %b %Y", "week": "%-d %b %Y", "month": "%b %Y"}


def date_axis(fig, grain: str, buckets=None, axis: str = "xaxis"):
    """A date axis labelled as dates ("3 Nov 2026") or months ("Nov 2026"), never with a time of
    day; a month axis gets one tick per month (when there are few enough to read)."""
    settings = dict(type="date", tickformat=DATE_TICKS[grain])
    if grain == "month" and (buckets is None or len(pd.unique(pd.Series(buckets))) <= 18):
        settings["dtick"] = "M1"
    fig.update_layout({axis: settings})
    return fig


def chart(fig, key: str) -> None:
    fig.update_layout(font_family=FONT_FAMILY, hoverlabel_font_family=FONT_FAMILY)   # CJK names too
    st.plotly_chart(fig, key=key, width="stretch")


# --------------------------------------------------------------------------- over time (R12)
def closed_banner(c: Ctx) -> str | None:
    """A line saying through which day the books are closed (R12), when they are; shown as a
    caption and returned (None while the books are open)."""
    from billing.pages.over_time import closed_banner as banner

    text = banner(compute(appdata.closings, c.db, c.version.number), c.policy.timezone)
    if text:
        st.caption(f"🔒 {text}. Later changes to those days post on the first open day, labelled as late changes.",
                   help=why("R12"))
    return text


def late_changes_table(c: Ctx, title: str = "Late changes to closed days") -> None:
    """The late changes posted in the period (R12), when there are any: each closed day's
    difference, billed on the first open day or credited as a block."""
    from billing.display import signed_duration_text
    from billing.pages.over_time import late_changes

    late = c.figure(late_changes)
    if late.empty:
        return
    st.subheader(title)
    st.caption("Changes to days of a closed period (a late entry, a deletion, an adjustment) post on the first "
               "open day: more time is billed that day, less is credited as a block.", help=why("R12"))
    shown = late.assign(change=[signed_duration_text(v) for v in late["change_us"]]).drop(columns=["change_us"])
    table(shown[["posted_on", "customer_id", "late_for", "change", "how", "covered_us", "uncovered_us"]],
          {"posted_on": "posted on", "customer_id": "customer", "late_for": "for closed day",
           "covered": "paid from prepaid hours", "uncovered": "not covered"})
