"""One colour per meaning, for every chart of the dashboard (no Streamlit here).

A chart's trace says what it shows by its meaning (``series``): the colour comes from here
and nowhere else, and the trace carries the meaning as its legend group, so a test can check
every chart of every page (tests/test_chart_colours.py): the same thing is always the same
colour, and no colour stands for two things. Add a meaning here before charting a new one.
"""
from __future__ import annotations

# meaning → (colour, what it is); each colour once.
MEANINGS: dict[str, tuple[str, str]] = {
    "billable": ("#1e3a8a", "billable time: sessions, rounded ad-hoc work and fees (R4-R6)"),
    "previous": ("#a78bfa", "the same figure in the previous period"),
    "sessions": ("#2563eb", "work in pre-scheduled sessions (R4)"),
    "adhoc": ("#0d9488", "ad-hoc 1-on-1 work as billed, rounded up daily (R5)"),
    "adhoc_logged": ("#5eead4", "ad-hoc 1-on-1 work as logged, before rounding"),
    "fees": ("#f59e0b", "cancellation and no-show fees (R6)"),
    "late_cancellation": ("#b45309", "late cancellations by the customer (R6)"),
    "no_show": ("#9333ea", "no-shows (R6)"),
    "customer_cancellation": ("#0891b2", "cancellations by the customer, late or not"),
    "staff_cancellation": ("#94a3b8", "cancellations by staff (free)"),
    "general": ("#65a30d", "General Support: free, never billable (R2)"),
    "uncovered": ("#dc2626", "billable time no prepaid block covered (R8)"),
    "remaining": ("#475569", "prepaid time left in a block"),
    "expiring_soon": ("#ea580c", "prepaid time left in a block that expires soon (R9)"),
    "forfeited": ("#7f1d1d", "prepaid time forfeited after a block's last day (R9)"),
}


def colour(meaning: str) -> str:
    """The colour of ``meaning``; a KeyError names a meaning nobody defined."""
    try:
        return MEANINGS[meaning][0]
    except KeyError:
        raise KeyError(f"no colour for {meaning!r}: add it to billing.pages.colours.MEANINGS") from None


def series(meaning: str, line: bool = False) -> dict:
    """Keyword arguments for a plotly trace of ``meaning``: its colour (marker, and line for a
    line chart) and ``legendgroup=meaning`` (what the colour check reads)."""
    kwargs = {"marker_color": colour(meaning), "legendgroup": meaning}
    if line:
        kwargs["line_color"] = colour(meaning)
    return kwargs


# The font of every chart, defined once: Streamlit's own Source Sans, then the dashboard's CJK
# fallback (static/fonts/DroidSansFallback.ttf, "hourbank-cjk" in .streamlit/config.toml's
# [[theme.fontFaces]]), so a Chinese, Japanese or Korean customer name in an axis or a hover
# shows on a machine without a CJK font of its own, then whatever sans-serif the machine has.
FONT_FAMILY = '"Source Sans", "Source Sans Pro", hourbank-cjk, sans-serif'
