"""PLACEHOLDER entry point so `python3 tasks.py dashboard` and the browser smoke test run.

The dashboard engineer replaces this file with the real pages.
"""
import streamlit as st


def overview() -> None:
    st.title("Hourbank")
    st.caption("Prepaid 1-on-1 Tech Support hours. The dashboard pages are not built yet.")


st.navigation([st.Page(overview, title="Overview", default=True)]).run()
