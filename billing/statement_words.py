"""What a customer statement says, in two copies: the customer's and the team's own.

The same facts (a day's entries, a fee, a draw, a forfeiture) are written twice:

- the **internal** copy names the rule each figure follows ("(R5, 30-min increments)"),
  so a manager can check it against docs/rules.md;
- the **customer** copy says the same in words, with no rule ids, codes or staff names:
  "rounded up to 1 h (daily total, in 30-min steps)".

Times are written by ``minutes_text`` (billing.display.duration_text: hours and whole
minutes) unless a caller passes another writer. The fee kinds' words are billing.rules'
(LATE_CANCELLATION, NO_SHOW); the policy's settings give the numbers in them.
"""
from __future__ import annotations

from typing import Callable, Iterable

from billing import rules
from billing.display import code_text, day_words, duration_text, split_minutes, whole_minutes
from billing.policy import US_PER_MINUTE

MinutesText = Callable[[int], str]

# Entry kinds (billing.statement.KIND_LABEL) as the customer reads them.
CUSTOMER_KIND = {"ad-hoc": "ad-hoc work", "session": "session", "general (free)": "General Support (free)",
                 "held": "not billed (its appointment is not completed)"}
INTERNAL_KIND = {"held": "held (R4: appointment not completed)"}


def _sum_text(terms: list[int], minutes_text: MinutesText) -> str:
    """"5 min + 30 min = 35 min"; when each term rounded to the minute does not add up to
    the rounded total (5 + 5 = 9 from 4.6 + 4.6), it says so instead of a wrong sum."""
    text = " + ".join(minutes_text(m) for m in terms)
    if len(terms) < 2:
        return text
    total = sum(terms)
    text += f" = {minutes_text(total)}"
    if minutes_text is duration_text and sum(whole_minutes(m) for m in terms) != whole_minutes(total):
        text += " (each time rounded to the minute)"
    return text


def fee_text(kind: str, policy: dict, internal: bool) -> str:
    """A fee's kind (rules.LATE_CANCELLATION or rules.NO_SHOW) in words: "late cancellation
    (less than 24 h notice)" or "no-show"; the internal copy adds "(R6)"."""
    if kind == rules.LATE_CANCELLATION:
        notice = _hours_text(policy.get("cancellation_notice_hours", 24))
        text = f"{rules.LATE_CANCELLATION} (less than {notice} notice)"
    else:
        text = str(kind) if kind else "fee"
    return f"{text} (R6)" if internal else text


def _hours_text(hours) -> str:
    from decimal import Decimal

    from billing.policy import US_PER_HOUR

    return duration_text(int(Decimal(str(hours)) * US_PER_HOUR))


def day_explanation(adhoc_terms: list[int], adhoc_raw: int, adhoc_billed: int,
                    sessions: Iterable[tuple[str, list[int]]], top_up: int,
                    fees: Iterable[tuple], policy: dict, internal: bool,
                    minutes_text: MinutesText = duration_text, *, charges: Iterable[tuple] = (),
                    excluded: Iterable[tuple] = ()) -> str:
    """How one day's billed time was reached, as one line of "; "-separated parts.

    ``adhoc_terms``: the ad-hoc entries' µs (R5 pools them); ``adhoc_raw``/``adhoc_billed``:
    their sum and its daily round-up; ``sessions``: (appointment id, its entries' µs) (R4);
    ``top_up``: µs added so sessions bill their booked length (R4); ``fees``: (fee kind,
    appointment id, µs) (R6), or with a waiver (fee kind, appointment id, 0, µs it would have
    billed, adjustment number, reason) (R10); ``charges``: (adjustment number, µs, reason)
    billed as they are (R10); ``excluded``: (entry id, µs, adjustment number, reason, when it
    started in words) — entries of the day that count toward nothing (R10). ``policy``: the
    settings in force on that day (R11)."""
    step = policy.get("rounding_increment_minutes", 30)
    parts = []
    if adhoc_terms:
        head = "ad-hoc " if internal else "ad-hoc work "
        text = head + (_sum_text(adhoc_terms, minutes_text) if len(adhoc_terms) > 1
                       else minutes_text(adhoc_terms[0]))
        if adhoc_billed != adhoc_raw:
            text += f" → rounded up to {minutes_text(adhoc_billed)}"
            text += (f" (R5, {step}-min increments)" if internal
                     else f" (daily total, in {step}-min steps)")
        else:
            text += f" → {minutes_text(adhoc_billed)}"
            text += " (R5, already a whole increment)" if internal else f" (already whole {step}-min steps)"
        parts.append(text)
    for appointment, terms in sessions:
        parts.append(f"session {appointment}: {_sum_text(terms, minutes_text)} as logged"
                     + (" (R4)" if internal else ""))
    if top_up:
        parts.append(f"booked-length top-up {minutes_text(top_up)} (R4, at least booked)" if internal
                     else f"{minutes_text(top_up)} added: a session is billed at least its booked length")
    for kind, appointment, fee, *waiver in fees:
        if waiver and waiver[0] is not None:
            parts.append(waived_fee_text(kind, appointment, waiver[0], waiver[1], waiver[2], policy, internal,
                                         minutes_text))
            continue
        parts.append(f"{kind} fee {minutes_text(fee)} for {appointment} (R6)" if internal
                     else f"{fee_text(kind, policy, internal=False)} of appointment {appointment}: "
                          f"{minutes_text(fee)}")
    for number, us, reason in charges:
        parts.append(f"charge {minutes_text(us)} (adjustment {number}, R10, never rounded): {reason}" if internal
                     else f"charge: {minutes_text(us)} — {reason}")
    for entry_id, us, number, reason, started in excluded:
        parts.append(f"entry {entry_id} ({minutes_text(us)}) excluded by adjustment {number} (R10): {reason}"
                     if internal else f"{minutes_text(us)} logged{' at ' + started if started else ''} "
                                      f"not counted — {reason}")
    return "; ".join(parts)


def _fee_head(kind: str, appointment: str, policy: dict) -> str:
    """"Late cancellation of C1 (less than 24 h notice)", "No-show of N1"."""
    what = fee_text(kind, policy, internal=False)
    if " (" in what:
        name, rest = what.split(" (", 1)
        return f"{name[:1].upper()}{name[1:]} of {appointment} ({rest}"
    return f"{what[:1].upper()}{what[1:]} of {appointment}"


def adjustment_line(description: str, reason: str | None) -> str:
    """An adjustment's line with its reason, as one text: "… — waived: goodwill", "Credit: 1 h —
    outage on Nov 20"."""
    if not reason:
        return description
    return f"{description}: {reason}" if description.endswith("waived") else f"{description} — {reason}"


def waived_fee_text(kind: str, appointment: str, would_bill: int, number, reason: str, policy: dict,
                    internal: bool, minutes_text: MinutesText = duration_text) -> str:
    """A waived fee (R6, R10) in words: "Late cancellation of C1 (less than 24 h notice): 30 min
    — waived: goodwill"; the internal copy names the adjustment and the rules."""
    head = _fee_head(kind, appointment, policy)
    if internal:
        return f"{head}: {minutes_text(would_bill)} (R6) — waived by adjustment {number} (R10): {reason}"
    return f"{head}: {minutes_text(would_bill)} — waived: {reason}"


def paid_by_text(draws: Iterable[tuple], uncovered: int, internal: bool,
                 minutes_text: MinutesText = duration_text, *, carry: bool = False,
                 later: Iterable[tuple] = ()) -> str:
    """Which blocks paid a day: "P1 15 min, P2 45 min", and what no block covered (R8).
    ``draws``: (block name, µs drawn) or (block name, µs, the day it was paid when later than
    the day: R14). ``carry``: uncovered minutes are owed, paid first by the next block (R14),
    not invoiced separately; ``later``: (block name, µs, day) that paid them after the period.
    With hours and whole minutes (the default), the parts and the uncovered minutes add up to
    the day's own whole minutes (display.split_minutes)."""
    draws = [tuple(d) for d in draws]
    if minutes_text is duration_text and draws:  # the parts add up to the day's own whole minutes
        whole = split_minutes([d[1] for d in draws] + [uncovered])
        draws = [(d[0], m * US_PER_MINUTE, *d[2:]) for d, m in zip(draws, whole)]
        uncovered = whole[-1] * US_PER_MINUTE
    parts = []
    for name, us, *paid in draws:
        when = paid[0] if paid else None
        parts.append(f"{name} {minutes_text(us)}" + (f" (owed, paid on {when}" + (", R14)" if internal else ")")
                                                       if when else ""))
    after = "; ".join(f"paid by {name} on {day}" for name, _, day in later)
    if internal:
        text = ", ".join(parts) if parts else "no prepaid block"
        if uncovered:
            text += (f"; {minutes_text(uncovered)} owed at the end of the period (R14: the next block pays it first"
                     + (f"; {after}" if after else "") + ")" if carry
                     else f"; {minutes_text(uncovered)} uncovered (invoiced separately, R8)")
        return text
    text = ", ".join(parts)
    if uncovered:
        text += ("; " if text else "") + (
            f"{minutes_text(uncovered)} owed at the end of the period (the next purchase pays it first"
            + (f"; {after}" if after else "") + ")" if carry
            else f"{minutes_text(uncovered)} not covered by prepaid hours (invoiced separately)")
    return text or "no prepaid hours"


def ledger_text(kind: str, internal: bool, minutes_text: MinutesText = duration_text, *, day=None,
                purchase_id: str | None = None, minutes: int = 0, expires_on=None, name: str | None = None,
                reason: str | None = None, number=None, source: str | None = None, late_for=None,
                closed_through=None, carry: bool = False, previous_last_day=None, why: str | None = None) -> str:
    """A ledger line's description (R7-R14): kind "purchase", "credit" (R10), "late_credit"
    (R12), "carried_in" (a rollover block, R13), "billed", "owed_paid" (owed minutes paid
    later, R14), "uncovered", "rolled_over" (R13), "forfeited", "extended" (R10), "opening"
    or "closing"; the keywords give its facts (µs in ``minutes``; ``name``: the block in words,
    billing.display.block_text; ``reason``: an adjustment's, shown to the customer too)."""
    r = (lambda rule: f" ({rule})") if internal else (lambda rule: "")
    name = name or purchase_id
    if name and str(name).startswith("carried from"):   # a rollover block (R13), as the object of "paid by"
        name = f"the time {name}"
    because = f" — {reason}" if reason else ""
    if kind == "purchase":
        return f"purchase {purchase_id}: {minutes_text(minutes)}, usable through {expires_on}" + r("R7")
    if kind == "credit":
        return (f"credit (adjustment {number}): {minutes_text(minutes)}, usable through {expires_on} (R10){because}"
                if internal else f"Credit: {minutes_text(minutes)}, usable through {expires_on}{because}")
    if kind == "late_credit":
        head = (f"credit for a late change to {late_for}, after the books were closed through {closed_through}: "
                f"{minutes_text(minutes)}, usable through {expires_on}")
        return (head + " (R12)" if internal else head[:1].upper() + head[1:]) + (f" — {why}" if why else "")
    if kind == "carried_in":
        return (f"{minutes_text(minutes)} carried from {source}, usable through {expires_on}" + r("R13"))
    if kind == "billed":
        return (f"billed on {day}, paid by {name}" + r("R8") if internal
                else f"work of {day} paid from {name}")
    if kind == "owed_paid":
        return f"{minutes_text(minutes)} owed since {day}, paid by {name}" + r("R14")
    if kind == "uncovered":
        if carry:
            return (f"{minutes_text(minutes)} billed on {day} with no prepaid minutes left: owed, the next block "
                    f"pays it first (R14)" if internal
                    else f"{minutes_text(minutes)} of {day} not covered by prepaid hours: owed, the next purchase "
                         f"pays it first")
        return (f"{minutes_text(minutes)} billed on {day} with no prepaid minutes left: invoiced separately (R8)"
                if internal else f"{minutes_text(minutes)} of {day} not covered by prepaid hours: invoiced separately")
    if kind == "rolled_over":
        return (f"{minutes_text(minutes)} left in {name} rolled over at the end of its last day {expires_on}, "
                f"usable through {day} (R13)" if internal
                else f"{minutes_text(minutes)} left in {name} at the end of its last day, {expires_on}, carried over "
                     f"(not forfeited): usable through {day}")
    if kind == "extended":
        return (f"{name} extended to {expires_on}, was {previous_last_day} (adjustment {number}, R10){because}"
                if internal else f"{name} extended to {expires_on}{because}")
    if kind == "forfeited":
        return (f"{minutes_text(minutes)} left in {name} forfeited at the end of its last day {expires_on}"
                + r("R9") if internal
                else f"{minutes_text(minutes)} left in {name} expired unused at the end of its last day, "
                     f"{expires_on}")
    if kind == "opening":
        return "prepaid time left at the start of the period"
    if kind == "closing":
        return "prepaid time left at the end of the period"
    raise ValueError(f"ledger line of unknown kind {kind!r}")


def kind_text(kind: str | None, internal: bool) -> str | None:
    """An entry's kind (ad-hoc, session, general (free), held) as the copy says it."""
    if kind is None:
        return None
    return INTERNAL_KIND.get(kind, kind) if internal else CUSTOMER_KIND.get(kind, kind)


def status_text(status: str | None) -> str | None:
    """A block's status at the end of the period in words: "used up", "forfeited", "active"."""
    return None if status is None else code_text(status)


def _signed(us: int, minutes_text: MinutesText) -> str:
    """A difference: "+30 min", "−1 h" (a true minus sign), "0 min"."""
    if us == 0:
        return minutes_text(0)
    return ("+" if us > 0 else "−") + minutes_text(abs(int(us)))


def _cause(row: dict, internal: bool, minutes_text: MinutesText, removed: bool = False) -> str:
    """An adjustment (a history row) that changed a closed day, or whose void did."""
    kind, n, target = row["kind"], int(row["adjustment_id"]), row["target"]
    if internal:
        what = {"waive": f"waived the fee of {target}", "exclude": f"excluded entry {target}",
                "charge": f"charged {minutes_text(int(row['minutes_us'] or 0))}"}.get(kind, kind)
        if removed:
            void = row.get("void_by")
            return (f"adjustment {n} ({what}) voided" + (f" by adjustment {int(void)}" if void is not None
                                                         and not _na(void) else "")
                    + (f": {row.get('void_reason')}" if row.get("void_reason") else ""))
        return f"adjustment {n} {what}: {row['reason']}"
    what = {"waive": f"the fee of appointment {target} waived", "exclude": "an entry not counted",
            "charge": f"a charge of {minutes_text(int(row['minutes_us'] or 0))}"}.get(kind, kind)
    if removed:
        undone = {"waive": f"the waiver of the fee of appointment {target} withdrawn",
                  "exclude": "an entry not counted before now counted",
                  "charge": f"a charge of {minutes_text(int(row['minutes_us'] or 0))} withdrawn"}.get(kind, kind)
        return undone + (f": {row.get('void_reason')}" if row.get("void_reason") else "")
    return f"{what}: {row['reason']}"


def _na(value) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def late_change_parts(diff: dict, added: Iterable[dict], removed: Iterable[dict], internal: bool,
                      minutes_text: MinutesText = duration_text) -> list[str]:
    """What a late change (R12) consists of: each figure's difference ("ad-hoc work +10 min
    logged, +30 min billed") and the adjustments recorded or voided since the close, with
    their reasons."""
    s = lambda us: _signed(us, minutes_text)  # noqa: E731
    parts = []
    raw, billed = diff.get("adhoc_raw_us", 0), diff.get("adhoc_billed_us", 0)
    if raw or billed:
        parts.append(f"ad-hoc logged {s(raw)}, billed {s(billed)} (R5)" if internal
                     else f"ad-hoc work {s(raw)} logged, {s(billed)} billed")
    for key, inside, outside in (("session_us", "sessions {} (R4)", "sessions {}"),
                                 ("fee_us", "fees {} (R6)", "cancellation and no-show fees {}"),
                                 ("charged_us", "charges {} (R10)", "charges {}")):
        if diff.get(key):
            parts.append((inside if internal else outside).format(s(diff[key])))
    parts += [_cause(r, internal, minutes_text) for r in added]
    parts += [_cause(r, internal, minutes_text, removed=True) for r in removed]
    return parts


def late_row_text(late_for, closed_through, diff: dict, added: Iterable[dict], removed: Iterable[dict],
                  internal: bool, minutes_text: MinutesText = duration_text) -> str:
    """A late row's explanation (R12): "Late change for 2026-10-12, posted after the books were
    closed through 2026-10-31: +30 min (ad-hoc work +10 min logged, +30 min billed)"."""
    head = (f"late change for {late_for}, posted after the books were closed through {closed_through} (R12)"
            if internal else f"Late change for {late_for}, posted after the books were closed through "
                             f"{closed_through}")
    parts = late_change_parts(diff, added, removed, internal, minutes_text)
    return f"{head}: {_signed(diff.get('billable_us', 0), minutes_text)}" + (f" — {'; '.join(parts)}" if parts else "")


def adjustment_text(kind: str, internal: bool, minutes_text: MinutesText = duration_text, *, number=None,
                    target=None, name=None, minutes=None, day=None, to_day=None, previous_last_day=None,
                    fee_kind=None, policy: dict | None = None, started=None, activity=None) -> str:
    """An adjustment (R10) as a statement's line, without its reason (a column of its own):
    the customer's copy names no adjustment number and no entry id; the internal one both, and
    the rules."""
    if kind == "waive":
        head = _fee_head(fee_kind, target, policy or {})
        return (f"adjustment {number}: {head} on {day}: {minutes_text(minutes or 0)} (R6) — waived (R10)" if internal
                else f"{head} on {day}: {minutes_text(minutes or 0)} — waived")
    if kind == "exclude":
        when = f"{day}" + (f" {started}" if started else "")
        return (f"adjustment {number}: entry {target} of {when} ({minutes_text(minutes or 0)}) excluded (R10)"
                if internal else f"Time logged on {when} ({minutes_text(minutes or 0)}"
                                 + (f", {activity}" if activity else "") + ") not counted")
    if kind == "charge":
        return (f"adjustment {number}: charge {minutes_text(minutes or 0)} on {day} (R10, never rounded)" if internal
                else f"Charge: {minutes_text(minutes or 0)} on {day}")
    if kind == "credit":
        return (f"adjustment {number}: credit {minutes_text(minutes or 0)} on {day}, usable through {to_day} (R10)"
                if internal else f"Credit: {minutes_text(minutes or 0)} on {day}, usable through {to_day}")
    if kind == "extend":
        return (f"adjustment {number}: {name} extended to {to_day}, was {previous_last_day} (R10)" if internal
                else f"{name} extended to {to_day} (its last day was {previous_last_day})")
    if kind == "void":   # ``name``: what the voided adjustment was, in the copy's words
        return (f"adjustment {number}: void of adjustment {target} ({name}) from {day} (R10)" if internal
                else f"Withdrawn from {day}: {name[:1].lower()}{name[1:]}")
    raise ValueError(f"adjustment of unknown kind {kind!r}")


SETTING_WORDS = {
    "rounding_increment_minutes": lambda v: f"ad-hoc work is added up per day and rounded up to whole {v}-minute steps",
    "hours_valid_days": lambda v: f"prepaid hours bought from then on can be used for {v} days",
    "cancellation_notice_hours": lambda v: f"a cancellation is free with at least {_hours_text(v)} notice",
    "late_cancellation_minutes": lambda v: f"a late cancellation costs {_minutes_setting(v)}",
    "no_show_minutes": lambda v: f"a missed appointment (no-show) costs {_minutes_setting(v)}",
    "session_billing": lambda v: ("a session is billed as logged, and at least its booked length"
                                  if v == "at_least_booked" else "a session is billed as logged"),
    "rollover_days": lambda v: (f"what is left in a block at the end of its last day stays usable {v} more days"
                                if v else "what is left in a block at the end of its last day expires"),
    "rollover_max_minutes": lambda v: f"at most {_minutes_setting(v)} of a block carries over",
    "overage": lambda v: ("time not covered by prepaid hours is owed: the next purchase pays it first"
                          if v == "carry" else "time not covered by prepaid hours is invoiced separately"),
}
_SETTING_RULE = {"rounding_increment_minutes": "R5", "hours_valid_days": "R7", "cancellation_notice_hours": "R6",
                 "late_cancellation_minutes": "R6", "no_show_minutes": "R6", "session_billing": "R4",
                 "rollover_days": "R13", "rollover_max_minutes": "R13", "overage": "R14"}


def _on(policy: dict, day) -> dict:
    """The top-level settings of ``policy`` (Policy.as_dict) with the dated changes up to ``day``."""
    out = {k: v for k, v in policy.items() if k != "change"}
    for change in policy.get("change", []):
        if day is not None and str(change["from"]) <= str(day):
            out.update({k: v for k, v in change.items() if k != "from"})
    return out


def how_we_bill(policy: dict, internal: bool, first=None, last=None) -> list[str]:
    """The policy in a few sentences, for the end of a statement (the numbers are the policy's):
    the settings in force on ``first`` (R11), and one sentence per dated change in the period
    ("From 2027-01-01: ad-hoc work is … rounded up to whole 15-minute steps")."""
    lines = _how_we_bill(_on(policy, first), internal)
    for change in policy.get("change", []):
        start = str(change["from"])
        if first is not None and str(first) < start and (last is None or start <= str(last)):
            said = [(SETTING_WORDS[k](v), _SETTING_RULE[k]) for k, v in change.items() if k in SETTING_WORDS]
            if said:
                text = "; ".join(w for w, _ in said)
                rules_of = ", ".join(sorted({r for _, r in said}))
                when = start if internal else day_words(start)   # the customer copy: "15 Nov 2026"
                lines.append(f"From {when}: {text}" + (f" ({rules_of}, R11)" if internal else "") + ".")
    return lines


def _how_we_bill(policy: dict, internal: bool) -> list[str]:
    step = policy.get("rounding_increment_minutes", 30)
    valid = policy.get("hours_valid_days", 90)
    notice = _hours_text(policy.get("cancellation_notice_hours", 24))
    late = _minutes_setting(policy.get("late_cancellation_minutes", 30))
    no_show = _minutes_setting(policy.get("no_show_minutes", 30))
    booked = policy.get("session_billing") == "at_least_booked"
    r = (lambda rule: f" ({rule})") if internal else (lambda rule: "")
    lines = [
        f"Ad-hoc work is added up per day and rounded up to whole {step}-minute steps{r('R5')}.",
        ("A session is billed as logged, and at least its booked length" if booked
         else "A session is billed as logged") + r("R4") + ".",
        f"Cancelling an appointment with less than {notice} notice costs {late}; a missed appointment "
        f"(no-show) costs {no_show}{r('R6')}.",
        f"Prepaid hours can be used for {valid} days after their purchase day, oldest first{r('R7, R8')}; "
        f"what is left after the last day expires{r('R9')}.",
        (f"Time not covered by prepaid hours is owed: the next purchase pays it first{r('R14')}. "
         if policy.get("overage") == "carry" else f"Time not covered by prepaid hours is invoiced separately{r('R8')}. ")
        + f"General Support is free{r('R2')}.",
    ]
    if policy.get("rollover_days"):
        cap = policy.get("rollover_max_minutes")
        lines.append(f"What is left in a block at the end of its last day stays usable {policy['rollover_days']} more "
                     f"days" + (f" (at most {_minutes_setting(cap)})" if cap is not None else "")
                     + f"; only the rest expires{r('R13')}.")
    return lines


def _minutes_setting(minutes) -> str:
    from decimal import Decimal

    from billing.policy import US_PER_MINUTE

    return duration_text(int(Decimal(str(minutes)) * US_PER_MINUTE))


__all__ = ["day_explanation", "paid_by_text", "ledger_text", "fee_text", "kind_text", "status_text",
           "how_we_bill", "CUSTOMER_KIND", "waived_fee_text", "late_row_text", "late_change_parts",
           "adjustment_text", "adjustment_line"]
