"""Read one Elevundersøkelsen file in any accepted layout (DATA_CONTRACT §3).

The layout is detected from the file: this package's own CSV layout
(:mod:`lmp_analytics.national.legacy`) or Udir's statistics bank export and Skoleporten download
(:mod:`lmp_analytics.national.published`); one cell's text is parsed by
:mod:`lmp_analytics.national.parsing`.

File-level faults (unreadable encoding, missing columns) raise
:class:`~lmp_analytics.errors.FileRejected`. Row-level faults become problems naming the file,
the row (1-based line, header = 1), the column, the value and what was expected:
:func:`read_eu_export_with_problems` returns them beside the good rows (for quarantine),
:func:`read_eu_export` refuses the file if there is any.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from lmp_analytics.national.export import LEGACY, EuExport, EuExportWarning
from lmp_analytics.national.legacy import is_legacy, read_legacy
from lmp_analytics.national.parsing import (
    NO_DATA,
    SUPPRESSED,
    parse_count,
    parse_number,
    parse_trinn,
)
from lmp_analytics.national.published import read_published
from lmp_analytics.national.schema import RowProblem
from lmp_analytics.presentation.messages import rejection

__all__ = ["LEGACY", "NO_DATA", "SUPPRESSED", "EuExport", "EuExportWarning", "parse_count",
           "parse_number", "parse_trinn", "read_eu_export", "read_eu_export_with_problems"]


def read_eu_export_with_problems(
    path: str | os.PathLike[str], roster: pl.DataFrame | None = None
) -> EuExport:
    """Read one Elevundersøkelsen file in any accepted layout (detected from its header: the
    statistics bank's export, Skoleporten's download, or this package's own layout); bad rows
    are returned as problems, not raised. ``roster`` (``skole``, ``skole_orgnr``,
    ``kommunenummer``) lets Skoleporten's school names be matched to organisation numbers.

    ``results`` has the columns of :data:`~lmp_analytics.national.schema.RESULT_SCHEMA`:
    level (nasjon/fylke/kommune/skole), unit_code (null for nasjon; leading zeros kept),
    unit_name, school_year (``2024-25``), survey_year (year the survey ran: the autumn year
    from 2013), term (``2024H``; ``2012V`` for the old spring surveys), series_version,
    trinn (5-13, Vg1 = 11; null = all grades), indicator_code, indicator, value_type
    (``pct``/``score_1_5``), value (null iff suppressed), n_answered, suppressed,
    source_file, source_row, kjonn (alle/jenter/gutter), eierform (alle/offentlig/privat),
    preliminary. ``problems`` has source_file, row, column, value, reason.
    """
    file = Path(path)
    if not is_legacy(file):
        return read_published(file, roster)
    return read_legacy(file)


def read_eu_export(
    path: str | os.PathLike[str], roster: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Read one statistikkbank CSV export, refusing the whole file if any row is bad.

    Returns the ``results`` frame of :func:`read_eu_export_with_problems`; raises
    :class:`~lmp_analytics.errors.FileRejected` naming the first bad row and column.
    """
    export = read_eu_export_with_problems(path, roster)
    if export.problems.height:
        first = RowProblem(**export.problems.row(0, named=True))
        more = export.problems.height - 1
        key = ("eu_row_problem" if not more else
               "eu_row_problem_more1" if more == 1 else "eu_row_problem_more")
        raise rejection(export.source_file, key, detail=first.detail, more=more, row=first.row,
                        column=first.column)
    return export.results
