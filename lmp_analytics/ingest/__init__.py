"""Ingest: read -> protect -> map -> validate -> load, one file at a time.

Public entry points live in :mod:`lmp_analytics.ingest.pipeline` (``ingest_files``,
``validate_files``); the other modules are the steps, each a pure function of data in -> data out.
"""
