"""Elevundersøkelsen, the national pupil survey, as an optional benchmark.

- :func:`read_eu_export` / :func:`read_eu_export_with_problems`: an Elevundersøkelsen file in
  any layout Udir publishes (statistics-bank export as CSV/XLSX/JSON, Skoleporten's download;
  :mod:`~lmp_analytics.national.layouts`) or the package's own -> typed, validated result frame
  (:data:`RESULT_SCHEMA`, :class:`EuResultSchema`).
- :func:`national_bullying`, :func:`national_series_by_term`, :func:`national_reference_results`:
  the shipped published national series (``lmp_analytics/reference/*.csv``, each row sourced).
- :func:`series_version`, :func:`check_comparable`, :class:`SeriesBreakError`: the series-break
  guard; :func:`benchmark_change` / :func:`benchmark_changes`: unit change vs national change
  (DID_PP and relative changes).
"""

from lmp_analytics.national.benchmark import (
    BENCHMARK_COLUMNS,
    BenchmarkChange,
    benchmark_change,
    benchmark_changes,
)
from lmp_analytics.national.layouts import SKOLEPORTEN, STATBANK
from lmp_analytics.national.reader import (
    EuExport,
    EuExportWarning,
    parse_count,
    parse_number,
    parse_trinn,
    read_eu_export,
    read_eu_export_with_problems,
)
from lmp_analytics.national.reference import (
    ReferenceDataError,
    indicator_catalogue,
    national_bullying_raw,
    series_breaks,
)
from lmp_analytics.national.schema import (
    LEVELS,
    PROBLEM_SCHEMA,
    RESULT_SCHEMA,
    EuResultSchema,
    RowProblem,
    totals_only,
    validate_results,
)
from lmp_analytics.national.series import (
    PRE_FIRST_BREAK_VERSION,
    SeriesBreak,
    SeriesBreakError,
    all_breaks,
    breaks_between,
    check_comparable,
    parse_school_year,
    series_version,
    survey_term,
    survey_year_of_term,
)
from lmp_analytics.national.timeline import (
    MEASURE_INDICATOR,
    national_bullying,
    national_reference_results,
    national_series_by_term,
)

__all__ = [
    "BENCHMARK_COLUMNS",
    "LEVELS",
    "MEASURE_INDICATOR",
    "PRE_FIRST_BREAK_VERSION",
    "PROBLEM_SCHEMA",
    "RESULT_SCHEMA",
    "SKOLEPORTEN",
    "STATBANK",
    "BenchmarkChange",
    "EuExport",
    "EuExportWarning",
    "EuResultSchema",
    "ReferenceDataError",
    "RowProblem",
    "SeriesBreak",
    "SeriesBreakError",
    "all_breaks",
    "benchmark_change",
    "benchmark_changes",
    "breaks_between",
    "check_comparable",
    "indicator_catalogue",
    "national_bullying",
    "national_bullying_raw",
    "national_reference_results",
    "national_series_by_term",
    "parse_count",
    "parse_number",
    "parse_school_year",
    "parse_trinn",
    "read_eu_export",
    "read_eu_export_with_problems",
    "series_breaks",
    "series_version",
    "survey_term",
    "survey_year_of_term",
    "totals_only",
    "validate_results",
]
