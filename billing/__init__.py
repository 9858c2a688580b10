"""Hourbank's billing engine: load → calendar/rules → ledger → reports → pages, statement, exports.

No Streamlit imports here: every figure the dashboard shows is computed by this package
and can be tested without a browser. Rules are cited by their ids in docs/rules.md; README.md maps
each rule and module to its one home.
"""
