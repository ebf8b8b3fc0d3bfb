"""A unit's change in Elevundersøkelsen against the national change over the same years.

For survey years pre and post (DOMAIN §8.4, §8.8 case 2):

- ``unit_change = unit_post - unit_pre``; ``national_change`` likewise (DELTA_PP for
  percentages, points for 1-5 indices);
- ``did = unit_change - national_change`` (DID_PP for percentages);
- ``unit_change_rel = unit_change / unit_pre`` and ``national_change_rel`` likewise (DELTA_REL,
  a fraction: -0.38 = -38 %). Both measures are returned because they can disagree: the LMP
  pilot's ungdomstrinn fell more than the nation in points (DID_PP -1.1) but less in relative
  terms (-38 % vs -44 %).

Bridging a confirmed series break raises :class:`SeriesBreakError` unless ``allow_break=True``,
in which case the result carries ``bridges_break``. A suppressed or missing input gives null
changes and a ``null_reason``, never an error and never a back-calculated value.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lmp_analytics.errors import LmpError
from lmp_analytics.national.schema import totals_only
from lmp_analytics.national.series import (
    SeriesBreak,
    check_comparable,
    series_version,
    survey_term,
)
from lmp_analytics.presentation.messages import refusal

#: Columns of :func:`benchmark_changes` (in order).
BENCHMARK_COLUMNS = (
    "level",
    "unit_code",
    "unit_name",
    "indicator_code",
    "indicator",
    "value_type",
    "trinn",
    "pre_term",
    "post_term",
    "pre_version",
    "post_version",
    "unit_pre",
    "unit_post",
    "national_pre",
    "national_post",
    "n_answered_pre",
    "n_answered_post",
    "unit_change",
    "national_change",
    "did",
    "unit_change_rel",
    "national_change_rel",
    "bridges_break",
    "breaks_bridged",
    "possible_break",
    "null_reason",
)

_INPUTS = ("unit_pre", "unit_post", "national_pre", "national_post")


@dataclass(frozen=True)
class BenchmarkChange:
    """One unit-vs-national comparison (see the module docstring for the formulas)."""

    pre_term: str
    post_term: str
    pre_version: str
    post_version: str
    unit_pre: float | None
    unit_post: float | None
    national_pre: float | None
    national_post: float | None
    unit_change: float | None
    national_change: float | None
    did: float | None
    unit_change_rel: float | None
    national_change_rel: float | None
    bridges_break: bool
    breaks_bridged: str | None
    possible_break: bool
    null_reason: str | None


def _input_reason(column: str, term: str) -> pl.Expr:
    """Why an input is null: its ``<column>_status`` is 'suppressed', 'missing' or 'unknown'."""
    who = "unit" if column.startswith("unit") else "national"
    status = pl.col(f"{column}_status")
    return (
        pl.when(status == "suppressed")
        .then(pl.lit(f"{who} value suppressed ('*') in {term}"))
        .when(status == "missing")
        .then(pl.lit(f"no {who} value for {term}"))
        .when(status == "unknown")
        .then(pl.lit(f"{who} value for {term} suppressed or missing"))
    )


def _compute(
    frame: pl.DataFrame, pre_term: str, post_term: str, bridged: tuple[SeriesBreak, ...]
) -> pl.DataFrame:
    """Add changes, DID, flags and ``null_reason`` to a frame holding the four inputs and their
    ``*_status`` ('ok' | 'suppressed' | 'missing' | 'unknown')."""
    confirmed = [b for b in bridged if b.confirmed]
    placeholder = [b for b in bridged if not b.confirmed]
    terms = {"unit_pre": pre_term, "unit_post": post_term}
    terms |= {"national_pre": pre_term, "national_post": post_term}
    unit_change = pl.col("unit_post") - pl.col("unit_pre")
    national_change = pl.col("national_post") - pl.col("national_pre")

    def relative(change: pl.Expr, base: str) -> pl.Expr:
        return pl.when(pl.col(base) != 0).then(change / pl.col(base))

    reasons = [_input_reason(c, terms[c]) for c in _INPUTS]
    reasons += [
        pl.when(pl.col(base) == 0).then(pl.lit(f"{who} relative change undefined (pre value 0)"))
        for base, who in (("unit_pre", "unit"), ("national_pre", "national"))
    ]
    return frame.with_columns(
        pre_term=pl.lit(pre_term),
        post_term=pl.lit(post_term),
        pre_version=pl.lit(series_version(pre_term)),
        post_version=pl.lit(series_version(post_term)),
        unit_change=unit_change,
        national_change=national_change,
        did=unit_change - national_change,
        unit_change_rel=relative(unit_change, "unit_pre"),
        national_change_rel=relative(national_change, "national_pre"),
        bridges_break=pl.lit(bool(confirmed)),
        breaks_bridged=pl.lit(
            ", ".join(str(b.from_year) for b in confirmed) or None, dtype=pl.String
        ),
        possible_break=pl.lit(bool(placeholder)),
        null_reason=pl.concat_str(reasons, separator="; ", ignore_nulls=True).replace("", None),
    )


def benchmark_change(
    pre: int | str,
    post: int | str,
    *,
    unit_pre: float | None,
    unit_post: float | None,
    national_pre: float | None,
    national_post: float | None,
    allow_break: bool = False,
) -> BenchmarkChange:
    """Compare one unit's change with the national change between survey years ``pre`` and
    ``post`` (years like 2019 or terms like ``'2019H'``). ``None`` = suppressed or missing."""
    bridged = check_comparable(pre, post, allow_break=allow_break)
    values = {
        "unit_pre": unit_pre,
        "unit_post": unit_post,
        "national_pre": national_pre,
        "national_post": national_post,
    }
    frame = pl.DataFrame(
        {
            **{k: [None if v is None else float(v)] for k, v in values.items()},
            **{f"{k}_status": ["unknown" if v is None else "ok"] for k, v in values.items()},
        },
        schema={
            **dict.fromkeys(values, pl.Float64),
            **dict.fromkeys((f"{k}_status" for k in values), pl.String),
        },
    )
    row = _compute(frame, survey_term(pre), survey_term(post), bridged).row(0, named=True)
    return BenchmarkChange(**{f: row[f] for f in BenchmarkChange.__dataclass_fields__})


def _at(frame: pl.DataFrame, term: str, keys: list[str], prefix: str) -> pl.DataFrame:
    """Value and status (plus n and name for units) at one survey term, prefixed for a join."""
    at = frame.filter(pl.col("term") == term)
    duplicated = at.select(keys).is_duplicated()
    if duplicated.any():
        example = at.filter(duplicated).select(keys).row(0, named=True)
        raise refusal(LmpError, f"benchmark_duplicate_{prefix.split('_')[0]}", term=term,
                      example=str(example))
    columns = [
        *keys,
        pl.col("value").alias(prefix),
        pl.when(pl.col("suppressed"))
        .then(pl.lit("suppressed"))
        .otherwise(pl.lit("ok"))
        .alias(f"{prefix}_status"),
    ]
    if prefix.startswith("unit"):
        when = prefix.removeprefix("unit_")
        columns += [
            pl.col("n_answered").alias(f"n_answered_{when}"),
            pl.col("unit_name").alias(f"{prefix}_name"),
        ]
    return at.select(columns)


def benchmark_changes(
    results: pl.DataFrame,
    pre: int | str,
    post: int | str,
    *,
    national: pl.DataFrame | None = None,
    allow_break: bool = False,
) -> pl.DataFrame:
    """Every non-national unit x indicator x trinn in ``results`` compared with the nation.

    ``results`` has the reader's columns (:func:`~lmp_analytics.national.read_eu_export`).
    National values come from ``national`` if given (e.g.
    :func:`~lmp_analytics.national.national_reference_results`), else from the ``nasjon`` rows
    of ``results``; they are matched on indicator and trinn (null trinn = all grades).
    Returns :data:`BENCHMARK_COLUMNS`, one row per unit x indicator x trinn present in either
    year; inputs absent in a year give ``null_reason`` "no unit value for ...".
    """
    pre_term, post_term = survey_term(pre), survey_term(post)
    bridged = check_comparable(pre_term, post_term, allow_break=allow_break)
    results = totals_only(results)
    nation = results.filter(pl.col("level") == "nasjon") if national is None else national
    units = results.filter(pl.col("level") != "nasjon")

    unit_keys = ["level", "unit_code", "indicator_code", "indicator", "value_type", "trinn"]
    pairs = _at(units, pre_term, unit_keys, "unit_pre").join(
        _at(units, post_term, unit_keys, "unit_post"),
        on=unit_keys,
        how="full",
        coalesce=True,
        nulls_equal=True,
    )
    nat_keys = ["indicator_code", "trinn"]
    for prefix, term in (("national_pre", pre_term), ("national_post", post_term)):
        side = _at(nation, term, nat_keys, prefix)
        pairs = pairs.join(side, on=nat_keys, how="left", nulls_equal=True)
    pairs = pairs.with_columns(
        pl.coalesce("unit_post_name", "unit_pre_name").alias("unit_name"),
        *(pl.col(f"{c}_status").fill_null("missing") for c in _INPUTS),
    )
    out = _compute(pairs, pre_term, post_term, bridged)
    return out.select(BENCHMARK_COLUMNS).sort(["level", "unit_code", "indicator_code", "trinn"])
