"""AppTest as a live server runs the dashboard (shared by the page tests and the benches)."""
from __future__ import annotations

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import app_test as app_test_module


class AfterFirstRun(PagesManager):
    """A live server leaves Streamlit's old pages/-folder mode once dashboard.py has called
    st.navigation (process-wide); AppTest resets that flag before every run, which would run
    a page file alone. This puts each AppTest run where a live server is after its first run.
    (The very first run of a server is covered by pages/_ui.py and the browser test.)"""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


def as_on_a_live_server(monkeypatch=None) -> None:
    """Make every AppTest of this process run as on a live server after its first run (with
    pytest's ``monkeypatch``: for one test only)."""
    if monkeypatch is None:
        app_test_module.PagesManager = AfterFirstRun
    else:
        monkeypatch.setattr(app_test_module, "PagesManager", AfterFirstRun)
