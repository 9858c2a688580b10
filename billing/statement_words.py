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
from billing.display import code_text, duration_text, split_minutes, whole_minutes
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
                    fees: Iterable[tuple[str, str, int]], policy: dict, internal: bool,
                    minutes_text: MinutesText = duration_text) -> str:
    """How one day's billed time was reached, as one line of "; "-separated parts.

    ``adhoc_terms``: the ad-hoc entries' µs (R5 pools them); ``adhoc_raw``/``adhoc_billed``:
    their sum and its daily round-up; ``sessions``: (appointment id, its entries' µs) (R4);
    ``top_up``: µs added so sessions bill their booked length (R4); ``fees``: (fee kind,
    appointment id, µs) (R6)."""
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
    for kind, appointment, fee in fees:
        parts.append(f"{kind} fee {minutes_text(fee)} for {appointment} (R6)" if internal
                     else f"{fee_text(kind, policy, internal=False)} of appointment {appointment}: "
                          f"{minutes_text(fee)}")
    return "; ".join(parts)


def paid_by_text(draws: Iterable[tuple[str, int]], uncovered: int, internal: bool,
                 minutes_text: MinutesText = duration_text) -> str:
    """Which blocks paid a day: "P1 15 min, P2 45 min", and what no block covered (R8).
    ``draws``: (purchase id, µs drawn). With hours and whole minutes (the default), the parts
    and the uncovered minutes add up to the day's own whole minutes (display.split_minutes)."""
    draws = list(draws)
    if minutes_text is duration_text and draws:
        whole = split_minutes([us for _, us in draws] + [uncovered])
        draws = [(pid, m * US_PER_MINUTE) for (pid, _), m in zip(draws, whole)]
        uncovered = whole[-1] * US_PER_MINUTE
    parts = [f"{pid} {minutes_text(us)}" for pid, us in draws]
    if internal:
        text = ", ".join(parts) if parts else "no prepaid block"
        if uncovered:
            text += f"; {minutes_text(uncovered)} uncovered (invoiced separately, R8)"
        return text
    text = ", ".join(parts)
    if uncovered:
        text += ("; " if text else "") + f"{minutes_text(uncovered)} not covered by prepaid hours (invoiced separately)"
    return text or "no prepaid hours"


def ledger_text(kind: str, internal: bool, minutes_text: MinutesText = duration_text, *, day=None,
                purchase_id: str | None = None, minutes: int = 0, expires_on=None) -> str:
    """A ledger line's description (R7-R9): kind "purchase", "billed", "uncovered",
    "forfeited", "opening" or "closing"; the keywords give its facts (µs in ``minutes``)."""
    r = (lambda rule: f" ({rule})") if internal else (lambda rule: "")
    if kind == "purchase":
        return f"purchase {purchase_id}: {minutes_text(minutes)}, usable through {expires_on}" + r("R7")
    if kind == "billed":
        return (f"billed on {day}, paid by {purchase_id}" + r("R8") if internal
                else f"work of {day} paid from {purchase_id}")
    if kind == "uncovered":
        return (f"{minutes_text(minutes)} billed on {day} with no prepaid minutes left: invoiced separately (R8)"
                if internal else f"{minutes_text(minutes)} of {day} not covered by prepaid hours: invoiced separately")
    if kind == "forfeited":
        return (f"{minutes_text(minutes)} left in {purchase_id} forfeited at the end of its last day {expires_on}"
                + r("R9") if internal
                else f"{minutes_text(minutes)} left in {purchase_id} expired unused at the end of its last day, "
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


def how_we_bill(policy: dict, internal: bool) -> list[str]:
    """The policy in a few sentences, for the end of a statement (the numbers are the policy's)."""
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
        f"Time not covered by prepaid hours is invoiced separately{r('R8')}. General Support is free{r('R2')}.",
    ]
    return lines


def _minutes_setting(minutes) -> str:
    from decimal import Decimal

    from billing.policy import US_PER_MINUTE

    return duration_text(int(Decimal(str(minutes)) * US_PER_MINUTE))


__all__ = ["day_explanation", "paid_by_text", "ledger_text", "fee_text", "kind_text", "status_text",
           "how_we_bill", "CUSTOMER_KIND"]
