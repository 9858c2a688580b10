"""Alerts: telling people before prepaid hours are lost (issue 13).

``settings`` reads the policy file's ``[alerts]`` table; ``due`` finds the alerts due as of a
day from the books (expiring blocks, low balances, overage); ``messages`` writes them for
managers and for customers; ``channels`` sends over SMTP and to a webhook; ``journal``
records in the database what was sent to whom, so each alert goes out once; ``run`` puts
them together for ``python -m billing alerts`` and the Alerts page.
"""
