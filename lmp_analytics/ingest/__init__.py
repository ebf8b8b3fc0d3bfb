"""Ingest steps: read -> protect -> map -> validate, each a pure function of data in -> data out.

They are wired together with the load into the warehouse by :mod:`lmp_analytics.pipeline`
(``ingest_files``), which sits above both this package and :mod:`lmp_analytics.warehouse`, so
that the warehouse can use the steps' types without the two packages importing each other.
"""
