"""What the three statement formats share: typed cell values, the two copies, file names,
and the statement as sections of typed rows (CSV and XLSX write these; the PDF lays out the
same values).

Two copies of every statement (README "Customer statements"):

- the **customer copy** (``internal=False``, the default everywhere) says nothing internal:
  no rule ids, no policy fingerprint or data version, no staff names (free text naming
  one says "Tech Support"), no notes, no entry ids, no timestamps as written, no codes;
  its texts are the customer's words (billing.statement_words);
- the **internal copy** keeps all of it, is marked ``INTERNAL_MARK`` on every page, sheet
  and at the top of the CSV, and has its own file name (``statement_filename``).

Times in texts are hours and whole minutes (billing.display); exact figures are the
numeric Minutes/Hours cells.

Text from the export (names, notes, activities) is data, never a spreadsheet formula:
``safe_cell`` neutralises it in CSV, and XLSX writes every text as a string cell. Minutes
are exact integer microseconds up to here; they are rounded to 2 decimals (half-up) only
as they are written (``minutes_number``, ``format_minutes``).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable

import pandas as pd

from billing import statement_words as words
from billing.display import closed_text, datetime_text, dates_in_words, day_words, duration_text, notice_text
from billing.errors import HourbankError
from billing.statement_model import Statement, hours_number, minutes_number

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
# The CJK fallback is shared with the dashboard, which serves it to browsers (static/, the
# theme's [[theme.fontFaces]] in .streamlit/config.toml): one copy of its 3.4 MB.
CJK_FONT = Path(__file__).resolve().parents[2] / "static" / "fonts" / "DroidSansFallback.ttf"
REDACTED_STAFF = "Tech Support"
PDF_TITLE = "Statement of prepaid hours"
INTERNAL_MARK = "INTERNAL COPY - not for the customer"


class ExportError(HourbankError):
    pass


# --- Cell values -------------------------------------------------------------------------

class Minutes(Decimal):
    """A minute figure already rounded to 2 decimals: written as a number with 2 decimals."""


class Hours(Decimal):
    """An hour figure already rounded to 2 decimals."""


def minutes_value(us) -> Minutes | None:
    """µs as a Minutes cell (2 decimals, half up), None when missing."""
    if is_missing(us):
        return None
    return Minutes(minutes_number(int(us)))


def hours_value(us) -> Hours | None:
    """µs as an Hours cell (2 decimals, half up), None when missing."""
    if is_missing(us):
        return None
    return Hours(hours_number(int(us)))


def is_missing(value) -> bool:
    """True for None, NaN, NaT and pandas NA (an empty cell)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def day_value(value) -> date | None:
    """A calendar date from a date, datetime, pandas Timestamp or ISO text."""
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ExportError(f"statement: {value!r} is not a date.") from None


def text_value(value) -> str | None:
    """A value as text, None when missing."""
    if is_missing(value):
        return None
    return str(value)


def flag_value(value) -> bool | None:
    """A value as a boolean cell, None when missing."""
    if is_missing(value):
        return None
    return bool(value)


def safe_cell(value):
    """Neutralise formula injection: text starting with = + - @ tab or CR gets a leading
    apostrophe, so a spreadsheet shows it as text and never runs it. Anything that is not
    text (numbers, dates, None) is returned as it is, so numbers stay numbers."""
    from billing.safe import safe_text  # the one neutraliser every download shares

    return safe_text(value)


# --- The two copies ---------------------------------------------------------------------------

def scrubber(st: Statement, internal: bool) -> Callable[[str | None], str | None]:
    """Text filter for free text (activities, explanations, block names): in the customer copy
    every staff name (whole words) becomes "Tech Support" and every ISO date a date as people
    read it ("12 Oct 2026": billing.display.dates_in_words). Names and ids are left alone; the
    date columns stay ISO (machine-readable)."""
    if internal:
        return lambda text: text
    names = sorted({str(s).strip() for s in st.entries["staff"] if not is_missing(s)} - {"", REDACTED_STAFF},
                   key=len, reverse=True)
    if not names:
        return dates_in_words
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)")
    return lambda text: text if text is None else dates_in_words(pattern.sub(REDACTED_STAFF, text))


def statement_filename(st: Statement, ext: str, internal: bool = False) -> str:
    """The download's name: ``statement-C1014-2026-10.pdf`` for a calendar month,
    ``statement-C1014-2026.pdf`` for a calendar year, else ``statement-C1014-2026-10-01-to-
    2026-10-15.pdf``; the internal copy ends ``-internal`` (``statement-C1014-2026-10-
    internal.pdf``). A customer id's characters other than letters, digits, ``.``, ``_``
    and ``-`` become ``_``."""
    cid = re.sub(r"[^A-Za-z0-9._-]+", "_", st.customer_id).strip("._") or "customer"
    a, b = st.period_from, st.period_to
    if (a.day, b.month, b.day, a.year) == (1, 12, 31, b.year) and a.month == 1:
        period = f"{a.year}"
    elif a.day == 1 and (a.year, a.month) == (b.year, b.month) and b.day == calendar.monthrange(b.year, b.month)[1]:
        period = f"{a.year}-{a.month:02d}"
    else:
        period = f"{a.isoformat()}-to-{b.isoformat()}"
    return f"statement-{cid}-{period}{'-internal' if internal else ''}.{ext}"


def document_line(st: Statement, internal: bool) -> str:
    """One line naming the document: title, customer, period (the internal copy starts with
    INTERNAL_MARK): the first row of each sheet, and the PDF's running header."""
    text = f"{PDF_TITLE} · {st.customer_name} ({st.customer_id}) · {period_text(st, words=not internal)}"
    return f"{INTERNAL_MARK} · {text}" if internal else text


def period_text(st: Statement, words: bool = False) -> str:
    """"2026-10-01 to 2026-10-31", and "(figures through 2026-10-20)" when T is earlier;
    ``words`` (the customer copy): "1 Oct 2026 to 31 Oct 2026" (billing.display.day_words)."""
    day = day_words if words else date.isoformat
    text = f"{day(st.period_from)} to {day(st.period_to)}"
    return text if st.through == st.period_to else f"{text} (figures through {day(st.through)})"


def generated_text(st: Statement) -> str:
    """When the statement was made, to the minute, in UTC (internal copy only)."""
    g = st.generated_at
    return f"{datetime_text(g)} UTC" if isinstance(g, datetime) else str(g)


def started_text(day, written) -> str | None:
    """An entry's start for people: the clock time ("16:40", with its offset when it was
    written with one) when the written date is its day, else date and time."""
    text = text_value(written)
    if text is None:
        return None
    shown = datetime_text(text)
    d = day_value(day)
    if d is not None and shown.startswith(d.isoformat() + " "):
        return shown[11:]
    return shown


def instant_text(written) -> str | None:
    """A timestamp as written, for people: "2026-01-21 15:00" (offset kept), None when missing."""
    text = text_value(written)
    return None if text is None else datetime_text(text)


# --- The statement as sections of typed rows (shared by CSV and XLSX) -------------------

@dataclass(frozen=True)
class Section:
    name: str
    header: tuple[str, ...]
    rows: list[tuple]
    wrap: tuple[str, ...] = ()  # columns with long text


SUMMARY_HEADER = ("Item", "Value", "Minutes", "Hours", "As shown")


# The balance's lines that only some statements have (R10, R12, R13): shown when not zero.
CREDITED = "Credited (corrections and late changes)"
CARRIED_IN = "Carried over into new blocks"
ROLLED_OVER = "Carried over out of ended blocks"


def summary_figures(st: Statement) -> list[tuple[str, int]]:
    """The summary box's figures in µs, in order: they balance (opening + purchased + credited
    + carried in − used − forfeited − carried over = closing); the over-time lines (credits,
    minutes carried into and out of blocks, R10, R12, R13) only where not zero. Billed = used
    − owed minutes of earlier days paid now (R14) + not covered."""
    t = st.totals
    rows = [("Opening balance", st.opening_remaining_us), ("Purchased", t["purchased_us"])]
    rows += [(label, t[key]) for label, key in ((CREDITED, "credited_us"), (CARRIED_IN, "carried_in_us"))
             if t.get(key)]
    rows += [("Used (paid from prepaid hours)", t["covered_us"]), ("Forfeited (expired unused)", t["forfeited_us"])]
    if t.get("rolled_over_us"):
        rows.append((ROLLED_OVER, t["rolled_over_us"]))
    rows.append(("Closing balance", st.closing_remaining_us))
    return rows


LEAVING = ("Used (paid from prepaid hours)", "Forfeited (expired unused)", ROLLED_OVER)


def uncovered_label(st: Statement) -> str:
    """What the period's uncovered minutes are: invoiced separately (R8), or owed and paid first
    by the next purchase where overage is carried (R14) on the period's last day."""
    policy = st.policy
    overage = policy.get("overage", "report")
    for change in policy.get("change", []):
        if str(change["from"]) <= st.through.isoformat() and "overage" in change:
            overage = change["overage"]
    return "Owed at the end (the next purchase pays it first)" if overage == "carry" \
        else "Not covered (invoiced separately)"


def closed_lines(st: Statement, internal: bool) -> list[str]:
    """What the statement says about closed days (R12): nothing when it covers none."""
    if st.closed_through is None or st.period_from > st.closed_through:
        return []
    if internal:
        return [closed_text(st.closed_through, st.closing_id, st.closed_by, st.closed_at) + " (R12)"
                + ("; every figure of this statement is the close's" if st.fully_closed else "")]
    return [f"The figures through {day_words(st.closed_through)} are closed: a later correction to them "
            f"appears on a later statement as a late change."]


def _time_row(label: str, us) -> tuple:
    return (label, None, minutes_value(us), hours_value(us), None if is_missing(us) else duration_text(int(us)))


def _summary_rows(st: Statement, internal: bool, team) -> list[tuple]:
    t = st.totals
    rows: list[tuple] = []
    if internal:
        rows.append(("Copy", INTERNAL_MARK, None, None, None))
    if team is not None:
        rows.append(("From", team.name, None, None, None))
        for i, line in enumerate(team.address, start=1):
            rows.append((f"Address line {i}", line, None, None, None))
        if team.email:
            rows.append(("E-mail", team.email, None, None, None))
        if team.phone:
            rows.append(("Phone", team.phone, None, None, None))
    rows += [
        ("Customer", st.customer_name, None, None, None),
        ("Customer id", st.customer_id, None, None, None),
        ("First day", st.period_from, None, None, None),
        ("Last day", st.period_to, None, None, None),
        ("Figures through", st.through, None, None, None),
        ("Statement date", st.as_of, None, None, None),
    ]
    rows += [_time_row(label, us) for label, us in summary_figures(st)]
    rows.append(("Next expiry", st.next_expiry, None, None, None if st.next_expiry else "none"))
    rows.append(_time_row("Left in the blocks ending then", st.next_expiry_us))
    window = st.policy.get("expiring_window_days", 30)
    rows += [
        _time_row(f"Expiring within {window} days of the last day", st.expiring_us),
        _time_row("Billed in the period", t["billable_us"]),
        _time_row(uncovered_label(st), t["uncovered_us"]),
        _time_row("Ad-hoc work as logged", t["adhoc_raw_us"]),
        _time_row("Ad-hoc work billed (daily, rounded up)", t["adhoc_billed_us"]),
        _time_row("Sessions", t["session_us"]),
        _time_row("Cancellation and no-show fees", t["fee_us"]),
        _time_row("General Support (free, not billed)", t["nonbillable_us"]),
    ]
    if t.get("charged_us"):
        rows.append(_time_row("Charges (corrections)", t["charged_us"]))
    if t.get("earlier_owed_paid_us"):
        rows.append(_time_row("Owed from before the period, paid in it", t["earlier_owed_paid_us"]))
    for line in closed_lines(st, internal):
        rows.append(("Closed", line, None, None, None))
    if internal:
        rows += [("Generated", generated_text(st), None, None, None),
                 ("Policy fingerprint", st.policy_fingerprint, None, None, None),
                 ("Data version", int(st.data_version), None, None, None)]
        rows += [(f"Policy: {key}", _policy_value(st.policy[key]), None, None, None) for key in sorted(st.policy)]
    return rows


def _policy_value(value):
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, (int, float)):
        return value
    return str(value)


def statement_sections(st: Statement, internal: bool = False, team=None) -> list[Section]:
    """The statement as typed sections: Summary, Ledger, Days, Entries, Fees, Blocks, Adjustments, in the
    customer copy's form (words, no internal columns) or, with ``internal``, the internal
    copy's (rule ids, staff, notes, entry ids, timestamps as written, policy). ``team``: a
    billing.team.Team or None (its name and contacts open the summary)."""
    scrub = scrubber(st, internal)
    sections = [Section("Summary", SUMMARY_HEADER, _summary_rows(st, internal, team))]

    describe = "description" if internal else "customer_description"
    ledger = [
        (day_value(r["date"]), ledger_kind_text(r["kind"]), scrub(text_value(r[describe])),
         text_value(r["purchase_id"]) if internal else scrub(text_value(r["customer_block"])) or text_value(r["purchase_id"]),
         minutes_value(r["minutes_us"]), minutes_value(r["balance_us"]), hours_value(r["balance_us"]))
        for r in records(st.ledger)
    ]
    sections.append(Section(
        "Ledger", ("Date", "Kind", "What", "Block", "Minutes", "Balance after (minutes)", "Balance after (hours)"),
        ledger, wrap=("What",)))

    explain, paid = ("explanation", "paid_by") if internal else ("customer_explanation", "customer_paid_by")
    days = [
        (day_value(r["day"]), minutes_value(r["adhoc_raw_us"]), minutes_value(r["adhoc_billed_us"]),
         minutes_value(r["session_us"]), minutes_value(r["fee_us"]), minutes_value(r["billable_us"]),
         hours_value(r["billable_us"]), minutes_value(r["covered_us"]), minutes_value(r["uncovered_us"]),
         scrub(text_value(r[explain])), scrub(text_value(r[paid])), day_value(r["late_for"]),
         minutes_value(r["charged_us"]))
        for r in records(st.days)
    ]
    sections.append(Section(
        "Days", ("Day", "Ad-hoc logged (minutes)", "Ad-hoc billed (minutes)", "Sessions (minutes)", "Fees (minutes)",
                 "Billed (minutes)", "Billed (hours)", "Paid from prepaid hours (minutes)",
                 "Not covered (minutes)", "How it was reached", "Paid by", "Late change for (closed day)",
                 "Charges (minutes)"),
        days, wrap=("How it was reached", "Paid by")))

    if internal:
        entry_header = ("Day", "Started (as written)", "Entry", "Staff", "Activity", "Tier", "Kind", "Minutes",
                        "Asked for by the customer", "Appointment", "Notes")
        entries = [(day_value(r["day"]), text_value(r["started_at"]), text_value(r["entry_id"]),
                    text_value(r["staff"]), text_value(r["activity"]), text_value(r["tier"]),
                    entry_kind_text(r, True), minutes_value(r["minutes_us"]),
                    flag_value(r["customer_requested"]), text_value(r["appointment_id"]), text_value(r["notes"]))
                   for r in records(st.entries)]
    else:
        entry_header = ("Day", "Started", "Activity", "Kind", "Minutes", "Asked for by the customer", "Appointment")
        entries = [(day_value(r["day"]), started_text(r["day"], r["started_at"]),
                    scrub(activity_text(r["activity"])), entry_kind_text(r, False),
                    minutes_value(r["minutes_us"]), flag_value(r["customer_requested"]),
                    text_value(r["appointment_id"]))
                   for r in records(st.entries)]
    sections.append(Section("Entries", entry_header, entries, wrap=("Notes",)))

    if internal:
        fee_header = ("Day", "Appointment", "What", "Status", "Cancelled by", "Scheduled start (as written)",
                      "Cancelled at (as written)", "Notice given (minutes)", "Fee (minutes)")
        fees = [(day_value(r["day"]), text_value(r["appointment_id"]), fee_what(r, st.policy, True),
                 text_value(r["status"]), text_value(r["cancelled_by"]), text_value(r["scheduled_start"]),
                 text_value(r["cancelled_at"]), minutes_value(r["notice_us"]), minutes_value(r["fee_us"]),
                 minutes_value(r["waived_us"]))
                for r in records(st.fees)]
        fee_header += ("Waived (minutes)",)
    else:
        fee_header = ("Day", "Appointment", "What", "Scheduled start", "Cancelled at", "Notice given (minutes)",
                      "Notice given", "Fee (minutes)", "Waived (minutes)")
        fees = [(day_value(r["day"]), text_value(r["appointment_id"]), scrub(fee_what(r, st.policy, False)),
                 instant_text(r["scheduled_start"]), instant_text(r["cancelled_at"]), minutes_value(r["notice_us"]),
                 None if is_missing(r["notice_us"]) else notice_text(r["notice_us"]), minutes_value(r["fee_us"]),
                 minutes_value(r["waived_us"]))
                for r in records(st.fees)]
    sections.append(Section("Fees", fee_header, fees, wrap=("What",)))

    about = "about" if internal else "customer_about"
    blocks = [
        (text_value(r["purchase_id"]) if internal else scrub(text_value(r["customer_block"])) or text_value(r["purchase_id"]),
         day_value(r["purchased_on"]), day_value(r["expires_on"]),
         minutes_value(r["purchased_us"]), minutes_value(r["left_at_start_us"]), minutes_value(r["used_us"]),
         minutes_value(r["forfeited_us"]), minutes_value(r["left_at_end_us"]), hours_value(r["left_at_end_us"]),
         words.status_text(text_value(r["status"])), minutes_value(r["rolled_over_us"]),
         scrub(text_value(r[about]) or None))
        for r in records(st.blocks)
    ]
    sections.append(Section(
        "Blocks", ("Block", "Bought on", "Last day", "Size (minutes)", "Left at start (minutes)",
                   "Used in the period (minutes)", "Forfeited in the period (minutes)", "Left at end (minutes)",
                   "Left at end (hours)", "Status at end", "Carried over in the period (minutes)", "What"),
        blocks, wrap=("What",)))

    # R10: the adjustments behind the figures, with their reasons (shown to the customer too).
    if internal:
        adjustments = [(day_value(r["date"]), int(r["adjustment_id"]), text_value(r["kind"]),
                        text_value(r["description"]), text_value(r["reason"]), minutes_value(r["minutes_us"]),
                        text_value(r["recorded_by"])) for r in records(st.adjustments)]
        header = ("Date", "Adjustment", "Kind", "What", "Reason", "Minutes", "Recorded by")
    else:
        adjustments = [(day_value(r["date"]), scrub(text_value(r["customer_description"])),
                        scrub(text_value(r["reason"])), minutes_value(r["minutes_us"])) for r in records(st.adjustments)]
        header = ("Date", "What", "Reason", "Minutes")
    sections.append(Section("Adjustments", header, adjustments, wrap=("What", "Reason")))
    return sections


LEDGER_KIND_WORDS = {"late_credit": "late credit", "carried_in": "carried in", "owed_paid": "owed, paid",
                     "rolled_over": "rolled over", "extended": "extended"}


def ledger_kind_text(kind) -> str | None:
    """A ledger line's kind in words ("purchase", "billed", "late credit", "owed, paid")."""
    text = text_value(kind)
    return None if text is None else LEDGER_KIND_WORDS.get(text, text.replace("_", " "))


def entry_kind_text(r: dict, internal: bool) -> str | None:
    """An entry's kind in the copy's words; an excluded one (R10) says why, and in the internal
    copy which adjustment: "excluded (adjustment 2, R10): logged twice" / "not counted — logged twice"."""
    kind = text_value(r.get("kind"))
    if kind != "excluded":
        return words.kind_text(kind, internal)
    reason = text_value(r.get("excluded_reason"))
    number = r.get("excluded_by")
    if internal:
        return (f"excluded (adjustment {int(number)}, R10)" if not is_missing(number) else "excluded (R10)") \
            + (f": {reason}" if reason else "")
    return "not counted" + (f" — {reason}" if reason else "")


def fee_what(r: dict, policy: dict, internal: bool) -> str:
    """A fee's "What": its kind in words (R6), and when waived (R10) why, and in the internal
    copy by which adjustment."""
    text = words.fee_text(text_value(r["fee_kind"]), policy, internal)
    number = r.get("waived_by")
    if is_missing(number):
        return text
    reason = text_value(r.get("waived_reason")) or ""
    return text + (f" — waived by adjustment {int(number)} (R10): {reason}" if internal else f" — waived: {reason}")


def activity_text(value) -> str | None:
    """An activity for people: a tracker's code in words ("status_call" → "status call"),
    its underscores as spaces and nothing else changed (it is free text)."""
    text = text_value(value)
    return None if text is None else text.replace("_", " ")


def records(frame: pd.DataFrame) -> list[dict]:
    """A table's rows as dicts (column → value)."""
    return frame.to_dict("records")
