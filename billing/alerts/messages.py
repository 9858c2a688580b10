"""The words of the alerts: for managers (the customer's id, the block, the rule) and for a
customer (its name, its own figures, nothing internal: no staff, no notes, no rule ids, no
block or customer ids). Times are hours and whole minutes and dates are dates
(billing.display), as everywhere people read them.
"""
from __future__ import annotations

from datetime import date

from billing.alerts.due import Alert
from billing.display import date_text, duration_text

KIND_TITLES = {"expiring": "Expiring hours", "low_balance": "Low balance", "overage": "Overage"}
KIND_COUNTED = {"expiring": "expiring", "low_balance": "low balance", "overage": "overage"}  # "2 expiring"


def _days(n: int) -> str:
    return "today" if n == 0 else "tomorrow" if n == 1 else f"in {n} days"


def _pace_text(us: int) -> str:
    return f"{duration_text(us)} a day"


# --------------------------------------------------------------------------- for managers
def manager_line(a: Alert) -> str:
    """One alert in one paragraph for managers (a message of its own, or a digest's item)."""
    f = a.figures
    if a.kind == "expiring":
        text = (f"{a.who}: block {a.block} (bought {date_text(f['purchased_on'])}, "
                f"{duration_text(f['purchased_us'])}) has {duration_text(f['remaining_us'])} left; its last day "
                f"is {date_text(f['expires_on'])}, {_days(f['days_left'])} (alert at {a.threshold}). ")
        pace = f"At the customer's pace ({_pace_text(f['pace_per_day_us'])} over the last {f['pace_window_days']} days)"
        if f["pace_per_day_us"] == 0:
            text += (f"No billable time in the last {f['pace_window_days']} days: all "
                     f"{duration_text(f['projected_lost_us'])} are projected to be forfeited (R9).")
        elif f["projected_lost_us"] == 0:
            text += f"{pace} it will be used up before then: nothing is projected to be forfeited."
        else:
            text += f"{pace}, {duration_text(f['projected_lost_us'])} of it are projected to be forfeited (R9)."
        return text
    if a.kind == "low_balance":
        text = (f"{a.who}: {duration_text(f['remaining_us'])} of prepaid time left, below the alert threshold "
                f"of {a.threshold} (last purchase {a.block}: {duration_text(f['last_purchase_us'])} on "
                f"{date_text(f['last_purchase_on'])}).")
        if f["run_out"] is not None:
            text += f" At its pace ({_pace_text(f['pace_per_day_us'])}) it runs out on {date_text(f['run_out'])}."
        return text
    if a.kind == "overage":
        since = (f"since its last purchase ({a.block}, {date_text(f['last_purchase_on'])})" if a.block
                 else "(it has bought no block)")
        return (f"{a.who}: {duration_text(f['uncovered_us'])} of billable time {since} is not covered by any "
                f"block (R8), from {date_text(f['first_day'])} to {date_text(f['last_day'])}; it needs a new block.")
    raise ValueError(f"unknown alert kind {a.kind!r}")


def manager_subject(a: Alert) -> str:
    f = a.figures
    if a.kind == "expiring":
        return (f"Hourbank: {a.who}: {duration_text(f['remaining_us'])} of block {a.block} expire "
                f"{date_text(f['expires_on'])} ({_days(f['days_left'])})")
    if a.kind == "low_balance":
        return f"Hourbank: {a.who}: {duration_text(f['remaining_us'])} of prepaid time left"
    return f"Hourbank: {a.who}: {duration_text(f['uncovered_us'])} not covered by a block"


FOOTER = ("Sent by Hourbank (python -m billing alerts); each alert is sent once. "
          "The Alerts page of the dashboard lists what is due and what was sent.")


def manager_message(a: Alert) -> tuple[str, str]:
    """(subject, text) of one alert for managers."""
    return manager_subject(a), f"{manager_line(a)}\n\nFigures as of {date_text(a.as_of)}.\n\n{FOOTER}\n"


def digest_message(alerts: list[Alert], as_of: date, period: str) -> tuple[str, str]:
    """(subject, text) of a digest: the alerts grouped by kind, one paragraph each."""
    counts = [(k, sum(a.kind == k for a in alerts)) for k in KIND_TITLES]
    summary = ", ".join(f"{n} {KIND_COUNTED[k]}" for k, n in counts if n)
    subject = f"Hourbank alerts {period}: {summary}"
    parts = [f"{len(alerts)} new alert{'s' if len(alerts) != 1 else ''} as of {date_text(as_of)}."]
    for kind, n in counts:
        if n:
            parts.append(f"{KIND_TITLES[kind]} ({n})\n" + "\n".join(f"- {manager_line(a)}" for a in alerts
                                                                   if a.kind == kind))
    parts.append(FOOTER)
    return subject, "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------- for the customer
def customer_message(a: Alert) -> tuple[str, str]:
    """(subject, text) of one alert for the customer's contacts: its own figures in plain
    words; no ids, staff, notes or rule ids."""
    f = a.figures
    hello = f"Hello {a.customer_name}," if a.customer_name else "Hello,"
    if a.kind == "expiring":
        subject = (f"Your prepaid support hours: {duration_text(f['remaining_us'])} expire on "
                   f"{date_text(f['expires_on'])}")
        body = (f"of the {duration_text(f['purchased_us'])} of support you bought on "
                f"{date_text(f['purchased_on'])}, {duration_text(f['remaining_us'])} are still unused. They can "
                f"be used until {date_text(f['expires_on'])} ({_days(f['days_left'])}); what is unused after "
                f"that day expires.")
        if f["pace_per_day_us"] > 0 and f["projected_lost_us"] > 0:
            body += (f"\n\nAt your recent pace (about {_pace_text(f['pace_per_day_us'])} over the last "
                     f"{f['pace_window_days']} days), about {duration_text(f['projected_lost_us'])} of them "
                     f"would not be used by then.")
        elif f["pace_per_day_us"] > 0:
            body += (f"\n\nAt your recent pace (about {_pace_text(f['pace_per_day_us'])}) they will be used "
                     f"up before then.")
    elif a.kind == "low_balance":
        subject = f"Your prepaid support hours are running low: {duration_text(f['remaining_us'])} left"
        body = (f"your prepaid support time is running low: {duration_text(f['remaining_us'])} left as of "
                f"{date_text(a.as_of)} (you last bought {duration_text(f['last_purchase_us'])} on "
                f"{date_text(f['last_purchase_on'])}).")
        if f["run_out"] is not None:
            body += f" At your recent pace it lasts until about {date_text(f['run_out'])}."
        body += "\n\nTo keep your support prepaid, please arrange a new block of hours with us."
    elif a.kind == "overage":
        subject = f"Support time not covered by prepaid hours: {duration_text(f['uncovered_us'])}"
        body = (f"from {date_text(f['first_day'])} to {date_text(f['last_day'])}, "
                f"{duration_text(f['uncovered_us'])} of support were not covered by prepaid hours, as none "
                f"were left. This time is invoiced separately.\n\nTo keep your support prepaid, please "
                f"arrange a new block of hours with us.")
    else:
        raise ValueError(f"unknown alert kind {a.kind!r}")
    return subject, f"{hello}\n\n{body}\n\nFigures as of {date_text(a.as_of)}.\n"


def check_message(channels: list[str]) -> tuple[str, str]:
    """(subject, text) of the test message the Alerts page (and ``alerts --test``) sends."""
    return ("Hourbank: test message",
            "This is a test message from Hourbank's alerts: the settings in the policy file's [alerts] "
            f"table reach you ({' and '.join(channels)}). Nothing needs doing.\n")
