"""billing.pages.customer_view: one customer's own figures (tests/share_fixture.py, by hand)."""
from __future__ import annotations

from datetime import date

import pytest

from billing.pages import customer_view as cv
from billing.policy import US_PER_MINUTE as MIN
from tests.share_fixture import build

T = date(2026, 4, 30)


@pytest.fixture(scope="module")
def led(tmp_path_factory):
    return build(tmp_path_factory.mktemp("customer_view"), T)


@pytest.mark.parametrize("whose", ["every customer's books", "its own books"])
def test_acmes_view_by_hand(led, whose):
    books = led.books(T, customer="acme" if whose == "its own books" else None)
    view = cv.customer_view(books, "acme", "Acme Ltd")
    assert (view.customer_id, view.customer_name, view.as_of) == ("acme", "Acme Ltd", T)
    assert view.blocks.to_dict("records") == [{
        "purchase_id": "P2", "purchased_on": date(2026, 4, 25), "expires_on": date(2026, 7, 24), "days_left": 85,
        "purchased_us": 240 * MIN, "remaining_us": 210 * MIN, "projected_lost_us": 40 * MIN}]
    assert (view.remaining_us, view.projected_lost_us, view.pace_per_day_us) == (210 * MIN, 40 * MIN, 2 * MIN)
    assert (view.run_out, view.next_expiry) == (date(2026, 7, 25), date(2026, 7, 24))
    usage = view.usage.set_index("month")
    assert list(usage.index) == [date(2025, m, 1) for m in range(5, 13)] + [date(2026, m, 1) for m in range(1, 5)]
    assert usage.loc[date(2026, 1, 1)].to_dict() == {"purchased_us": 60 * MIN, "billable_us": 30 * MIN,
                                                     "covered_us": 30 * MIN, "uncovered_us": 0, "forfeited_us": 0}
    assert usage.loc[date(2026, 4, 1)].to_dict() == {"purchased_us": 240 * MIN, "billable_us": 60 * MIN,
                                                     "covered_us": 30 * MIN, "uncovered_us": 30 * MIN,
                                                     "forfeited_us": 30 * MIN}
    others = usage.drop(index=[date(2026, 1, 1), date(2026, 4, 1)])
    assert (others.to_numpy() == 0).all()
    assert view.uncovered_us == 30 * MIN
    assert view.months == [date(2026, 4, 1), date(2026, 3, 1), date(2026, 2, 1), date(2026, 1, 1)]
    assert cv.pace_sentence(view) == (
        "Over the last 30 days you used about 2 min a day; at that pace your prepaid time lasts through "
        "24 Jul 2026. 40 min of it would still be left when its block's last day has passed, and would be forfeited.")


def test_another_customers_figures_stay_out(led):
    books = led.books(T)
    acme, beta = cv.customer_view(books, "acme"), cv.customer_view(books, "beta", "Beta GmbH")
    assert set(acme.blocks["purchase_id"]) == {"P2"}
    assert beta.blocks[["purchase_id", "remaining_us"]].to_dict("records") == [
        {"purchase_id": "B2", "remaining_us": 600 * MIN}]
    # beta: B1 bought 2026-04-10 and B2 2026-04-27 (1 h + 10 h), 45 min → 1 h used (R5), paid by B1.
    april = beta.usage.set_index("month").loc[date(2026, 4, 1)].to_dict()
    assert april == {"purchased_us": 660 * MIN, "billable_us": 60 * MIN, "covered_us": 60 * MIN,
                     "uncovered_us": 0, "forfeited_us": 0}
    assert acme.customer_name == "acme"      # no name given: its id


def test_a_customer_with_nothing_gets_zeros_not_an_error(led):
    view = cv.customer_view(led.books(T), "gamma", "")
    assert view.blocks.empty and view.months == [] and view.remaining_us == 0 and view.run_out is None
    assert (view.usage.drop(columns="month").to_numpy() == 0).all() and len(view.usage) == 12
    assert cv.pace_sentence(view) == "You have no prepaid time left."


def test_month_period_covers_whole_months():
    assert cv.month_period(date(2026, 1, 1), date(2026, 2, 1)) == (date(2026, 1, 1), date(2026, 2, 28))
    assert cv.month_period(date(2026, 4, 1), date(2025, 12, 1)) == (date(2025, 12, 1), date(2026, 4, 30))
    assert cv.month_period(date(2024, 2, 1), date(2024, 2, 1)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert cv.month_period(date(2025, 12, 1), date(2025, 12, 1)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert cv.month_text(date(2026, 4, 1)) == "April 2026"
