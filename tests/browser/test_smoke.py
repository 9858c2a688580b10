"""Smoke test: the dashboard starts, its first page loads and runs to the end without an error box."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def smoke_db(request, tmp_path):
    """The lead's small real database (tests/conftest.py ``fixture_db``) once it exists; until
    then a path with no database behind it, which the dashboard must also survive."""
    try:
        return request.getfixturevalue("fixture_db")
    except pytest.FixtureLookupError:
        return tmp_path / "no-database-yet.duckdb"


def test_dashboard_loads_and_runs_without_an_error(
        streamlit_server, smoke_db, page, wait_idle, assert_no_exception, screenshot):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    url = streamlit_server(smoke_db)

    response = page.goto(url)
    assert response is not None and response.ok, f"GET {url} answered {response and response.status}"
    wait_idle(page)

    assert_no_exception(page)
    main = page.locator('[data-testid="stMain"]')
    assert main.locator('[data-testid="stElementContainer"]').count() > 0, "the first page shows nothing"
    assert errors == [], f"the page raised JavaScript errors: {errors}"
    shot = screenshot(page, "smoke-first-page")
    assert shot.stat().st_size > 0


def test_people_who_bill_get_no_developer_tools(streamlit_server, smoke_db, page, wait_idle):
    # .streamlit/config.toml: client.toolbarMode = "viewer".
    page.goto(streamlit_server(smoke_db))
    wait_idle(page)
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0, "a Deploy button is shown"
    page.locator('[data-testid="stMainMenu"]').click()
    menu = page.locator('[data-testid="stMainMenuPopover"]').inner_text()
    for developer_item in ("Rerun", "Clear cache"):
        assert developer_item not in menu, f"the main menu offers {developer_item!r}: {menu!r}"
