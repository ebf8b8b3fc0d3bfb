"""Jobs that span layers: the only place that wires ingest to the derived tables above it."""

from __future__ import annotations

import os
from collections.abc import Iterable

import duckdb

from lmp_analytics.ingest.pipeline import IngestReport, ingest_files

__all__ = ["build_derived", "ingest_and_build", "ingest_files"]


def build_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the marts, the per-school changes and the suppressed publication inside the open
    write transaction."""
    from lmp_analytics.evaluation.change_table import build_change_table
    from lmp_analytics.metrics.marts import build_marts
    from lmp_analytics.publication import build_publication

    build_marts(con)
    build_change_table(con)
    build_publication(con)


def ingest_and_build(
    paths: Iterable[str | os.PathLike[str]], roster: str | os.PathLike[str], **kwargs
) -> IngestReport:
    """Ingest files and rebuild marts in the same atomic publish."""
    return ingest_files(paths, roster, after_load=build_derived, **kwargs)


def ingest_national(
    paths: Iterable[str | os.PathLike[str]], *, warehouse: str | os.PathLike[str] | None = None
) -> int:
    """Load Udir statistics-bank exports (Elevundersøkelsen) into ``fct_eu_result``.

    A file with any invalid row is rejected whole (FileRejected) and nothing is written.
    Returns the number of rows loaded.
    """
    import polars as pl

    from lmp_analytics.config import warehouse_path
    from lmp_analytics.national import read_eu_export
    from lmp_analytics.warehouse.load import replace_national_results
    from lmp_analytics.warehouse.publish import write_session

    frames = [read_eu_export(p) for p in paths]
    results = pl.concat(frames) if frames else None
    if results is None or results.height == 0:
        return 0
    with write_session(warehouse_path(warehouse)) as session:
        replace_national_results(session.con, results)
    return results.height
