"""Schools and municipalities against the nation in Elevundersøkelsen (published aggregates).

The change of a unit between two survey years is set beside the national change over the same
years (difference in percentage points and both relative changes). A comparison that bridges a
series break (2013, 2016) is refused unless ``allow_break`` is given (see
:mod:`lmp_analytics.national`). Suppressed cells (``*``) give a null result with a reason.
"""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics.national import benchmark_changes, national_reference_results
from lmp_analytics.warehouse.queries import named


def national_comparison(
    con: duckdb.DuckDBPyConnection,
    pre_year: int,
    post_year: int,
    *,
    allow_break: bool = False,
    use_shipped_national: bool = False,
) -> pl.DataFrame:
    """Each unit's change pre_year -> post_year against the national change (BENCHMARK_COLUMNS).

    National values come from the loaded file's ``nasjon`` rows, or from the shipped published
    series with ``use_shipped_national`` (for files that carry no national rows).
    """
    results = con.sql(named("reads", "eu_results")).pl()
    national = national_reference_results() if use_shipped_national else None
    return benchmark_changes(results, pre_year, post_year, national=national,
                             allow_break=allow_break)
