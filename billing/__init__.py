"""Hourbank's billing engine: load → rules → ledger → reports → exports.

No Streamlit imports here: every figure the dashboard shows is computed by this package
and can be tested without a browser. Rules are cited by their ids in ../shared/RULES.md.
"""
