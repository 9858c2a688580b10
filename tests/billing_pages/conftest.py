"""Fixtures of the billing.pages tests: the fixture database (tests/billing_pages/fixture.py)
and its books as of T."""
import pytest

from tests.billing_pages.fixture import POLICY, T, load_fixture
from tests.builders import Ledger


@pytest.fixture(scope="module")
def led(tmp_path_factory):
    return load_fixture(Ledger(tmp_path_factory.mktemp("pages"), POLICY))


@pytest.fixture(scope="module")
def books(led):
    return led.books(T)
