"""What each dashboard page shows, one module per page (no Streamlit here).

The Streamlit scripts in the top-level ``pages/`` read widgets, call one function of these
modules per figure or table and render; every figure is computed here, from the engine's
frames (``billing.reports.Books``), so it can be tested on its own.

- ``common``: the shared filters, periods, hours for people and axes, CSV downloads
- ``overview``, ``usage``, ``expiring``, ``cancellations``, ``policy``, ``data_quality``:
  one page each
"""
