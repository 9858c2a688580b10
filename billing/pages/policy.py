"""Policy page: the settings in use, each rule in plain words with this policy's numbers,
and a what-if of the period under changed settings."""
from __future__ import annotations

import pandas as pd

from billing import rules
from billing.pages.common import Filters, of_customers, period_days
from billing.pages.usage import usage_totals
from billing.policy import US_PER_MINUTE, Policy
from billing.reports import Books
from billing.display import code_text, duration_text


def rule_explanations(policy: Policy) -> list[tuple[str, str]]:
    """Each rule in plain words, with this policy's numbers (RULES.md R1-R14, as of the top-level
    settings; the dated changes are listed by ``dated_changes``)."""
    inc = policy.rounding_increment_minutes
    notice = policy.cancellation_notice_hours
    session = ("a completed session bills exactly the time logged in it"
               if policy.session_billing == "logged"
               else "a completed session bills at least its booked length")
    return [
        ("R1", f"A business day is the calendar date in {policy.timezone}; work belongs to the day it started."),
        ("R2", "Only 1-on-1 work is billable; General Support (chat, calls, articles, tickets) is always free."),
        ("R3", "Every 1-on-1 staff member's time counts, also when several worked at once; "
               "extra people the customer asked for are billed and labelled."),
        ("R4", f"Work inside a pre-scheduled session is never rounded: {session}. "
               "Until its appointment is completed, such work is held and counts toward nothing."),
        ("R5", f"All other 1-on-1 work of a customer on one day is added up and rounded up once to the next "
               f"{inc} minutes (e.g. 5 + 30 min = 35 min, billed "
               f"{duration_text(int(rules.round_daily(35 * US_PER_MINUTE, policy.increment_us)))})."),
        ("R6", f"A customer who cancels less than {notice:g} hours before the start is billed "
               f"{duration_text(policy.late_fee_us)}; a no-show is billed {duration_text(policy.no_show_fee_us)}; "
               "a cancellation by staff is free."),
        ("R7", f"Each purchase is a block of prepaid hours usable from its purchase day for "
               f"{policy.hours_valid_days} days, the last day included; hours are non-refundable."),
        ("R8", "Each day's billable time is paid from the block that expires first; what no block covers is "
               "uncovered (overage) and invoiced separately."),
        ("R9", f"Time left in a block after its last day is forfeited; a block is 'expiring soon' within "
               f"{policy.expiring_window_days} days of its last day."),
        ("R10", "A manager's correction (extend a block, waive a fee, exclude an entry, credit or charge time) is "
                "recorded beside the data with a date and a reason, never changing the data; reports as of a day "
                "apply those dated by then. The reason is printed on the customer's statement."),
        ("R11", "A setting can change on a date (a [[change]] table in the policy file); each figure uses the "
                "setting in force on its own day." + (f" Dated changes: {len(policy.changes)} (below)."
                                                      if policy.changes else "")),
        ("R12", "Closing the books through a day freezes every figure up to it; a later change to those days "
                "posts on the first open day, labelled as a late change."),
        ("R13", (f"What a block has left at the end of its last day stays usable {policy.rollover_days} more days"
                 + (f" (at most {duration_text(policy.rollover_max_us)})" if policy.rollover_max_us is not None
                    else "") + " in a block carried from it; only the rest is forfeited.")
         if policy.rollover_days else "Nothing rolls over: what a block has left after its last day is forfeited."),
        ("R14", "Time no block covers is owed: the customer's next block pays it first, on its purchase day."
         if policy.overage == "carry" else "Time no block covers is reported as uncovered and invoiced separately."),
    ]


SETTING_LABELS = {
    "timezone": "Time zone of a business day",
    "rounding_increment_minutes": "Ad-hoc rounding increment (minutes)",
    "hours_valid_days": "Prepaid hours valid for (days)",
    "cancellation_notice_hours": "Free cancellation notice (hours)",
    "late_cancellation_minutes": "Late cancellation fee (minutes)",
    "no_show_minutes": "No-show fee (minutes)",
    "session_billing": "Session billing",
    "expiring_window_days": "'Expiring soon' window (days)",
    "rollover_days": "Rollover: extra days a block's leftover stays usable (R13)",
    "rollover_max_minutes": "Rollover: most minutes moved per block (R13)",
    "overage": "Uncovered time: reported, or carried to the next purchase (R14)",
}


def setting_value_text(key: str, value) -> str:
    """A setting's value in words ("at least the booked length", "no cap", "15")."""
    if value is None:
        return "no cap" if key == "rollover_max_minutes" else "none"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return code_text(value) if isinstance(value, str) and key != "timezone" else str(value)


def dated_changes(policy: Policy) -> pd.DataFrame:
    """The policy's dated changes (R11) for people, one row per setting changed, in date order:
    from (date), meaning (the setting in words), before (its value the day before), from then
    on (its value from that day), in words (what it means for billing), setting (the key)."""
    from datetime import timedelta

    from billing.statement_words import SETTING_WORDS

    rows = []
    for start, settings in policy.changes:
        before = policy.on(start - timedelta(days=1))
        for key, value in settings:
            rows.append({"from": start, "meaning": SETTING_LABELS.get(key, key),
                         "before": setting_value_text(key, getattr(before, key)),
                         "from then on": setting_value_text(key, value),
                         "in words": (SETTING_WORDS[key](value) if key in SETTING_WORDS else "") or "",
                         "setting": key})
    return pd.DataFrame(rows, columns=["from", "meaning", "before", "from then on", "in words", "setting"])


# What the what-if's dated change can change, with its kind of value (R11: not the time zone).
DATED_SETTINGS = {
    "rounding_increment_minutes": ("int", 1), "hours_valid_days": ("int", 1), "cancellation_notice_hours": ("number", 0),
    "late_cancellation_minutes": ("number", 0), "no_show_minutes": ("number", 0),
    "session_billing": ("choice", ("logged", "at_least_booked")), "expiring_window_days": ("int", 0),
    "rollover_days": ("int", 0), "rollover_max_minutes": ("number", 0), "overage": ("choice", ("report", "carry")),
}


def policy_settings(policy: Policy) -> pd.DataFrame:
    """The policy's settings for display: meaning, value, setting (the key in the policy file)
    (in words: "at least the booked length", "no cap" for a missing maximum); the meaning and
    value first, so the narrow column shows them."""
    return pd.DataFrame([{"meaning": SETTING_LABELS.get(k, k), "value": setting_value_text(k, v), "setting": k}
                         for k, v in policy.as_dict().items() if k != "change"])


WHAT_IF_FIGURES = [("billable_us", "Billable"), ("adhoc_billed_us", "Ad-hoc, rounded"),
                   ("session_us", "Sessions"), ("fee_us", "Cancellation fees"),
                   ("covered_us", "Covered by prepaid blocks"), ("uncovered_us", "Uncovered (overage)")]


def what_if(active: Books, changed: Books, f: Filters) -> pd.DataFrame:
    """The period's figures under the active policy beside the same under changed settings."""
    a, c = usage_totals(active, f), usage_totals(changed, f)
    rows = [{"figure": label, "active_us": a[k], "what_if_us": c[k], "difference_us": c[k] - a[k]}
            for k, label in WHAT_IF_FIGURES]
    fa = int(of_customers(active.blocks, f.customers)["forfeited_us"].sum())
    fc = int(of_customers(changed.blocks, f.customers)["forfeited_us"].sum())
    rows.append({"figure": f"Forfeited up to {f.as_of}", "active_us": fa, "what_if_us": fc,
                 "difference_us": fc - fa})
    return pd.DataFrame(rows)


def what_if_by_customer(active: Books, changed: Books, f: Filters) -> pd.DataFrame:
    """Billable µs per customer in the period under both policies: customer_id, active_us,
    what_if_us, difference_us; biggest increase first."""
    a = period_days(active, f).groupby("customer_id")["billable_us"].sum()
    c = period_days(changed, f).groupby("customer_id")["billable_us"].sum()
    idx = a.index.union(c.index)
    out = pd.DataFrame({"customer_id": idx.astype(str),
                        "active_us": a.reindex(idx, fill_value=0).astype("int64").to_numpy(),
                        "what_if_us": c.reindex(idx, fill_value=0).astype("int64").to_numpy()})
    out["difference_us"] = out["what_if_us"] - out["active_us"]
    return out.sort_values(["difference_us", "customer_id"], ascending=[False, True], kind="stable") \
        .reset_index(drop=True)
