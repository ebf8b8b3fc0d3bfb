"""Jobs that span layers: the only place that wires ingest to the derived tables above it."""

from __future__ import annotations

import os
from collections.abc import Iterable

import duckdb

from lmp_analytics.ingest.pipeline import IngestReport, ingest_files

__all__ = ["build_derived", "ingest_and_build", "ingest_files"]


def build_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the marts inside an open write transaction (no-op until the metrics layer lands)."""
    try:
        from lmp_analytics.metrics.marts import build_marts
    except ModuleNotFoundError:
        return
    build_marts(con)


def ingest_and_build(
    paths: Iterable[str | os.PathLike[str]], roster: str | os.PathLike[str], **kwargs
) -> IngestReport:
    """Ingest files and rebuild marts in the same atomic publish."""
    return ingest_files(paths, roster, after_load=build_derived, **kwargs)
