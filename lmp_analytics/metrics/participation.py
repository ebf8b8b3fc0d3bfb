"""Participation: the response rate of each Spekter round, through the one suppression engine.

Used by the dashboard's read model (:func:`lmp_analytics.readmodels.quality.response_rates`)
and the school reports (:mod:`lmp_analytics.reports.data`), so both flag the same rounds with
the same numbers.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import duckdb
import polars as pl

from lmp_analytics.privacy.suppression import PRIMARY, REASON, SUPPRESSED, suppress
from lmp_analytics.terms import school_year
from lmp_analytics.warehouse.queries import named

__all__ = ["ENROLMENT_SCHEMA", "LOW_RESPONSE_RATE", "enrolment", "response_rates"]

#: A round whose respondents are fewer than this share of the enrolled pupils is flagged.
LOW_RESPONSE_RATE = 0.70

ENROLMENT_SCHEMA = {"skole_orgnr": pl.String, "skoleaar": pl.String, "enrolled": pl.Int64}

#: Columns :func:`response_rates` adds (before the suppression engine's own columns).
_COMPUTED = ("n", "enrolled", "response_rate", "low_rate")


def enrolment(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Enrolled pupils per school and school year (empty when the table does not exist)."""
    if not con.sql(named("reads", "table_exists"), params=["fct_enrolment"]).fetchall()[0][0]:
        return pl.DataFrame(schema=ENROLMENT_SCHEMA)
    return con.sql(named("reads", "school_year_enrolment")).pl().cast(ENROLMENT_SCHEMA)


def response_rates(
    rounds: pl.DataFrame,
    enrolment_: pl.DataFrame,
    *,
    keys: Sequence[str] = ("skole_orgnr", "round_id"),
    min_n: int | None = None,
    hidden_rounds: Collection[str] = (),
) -> pl.DataFrame:
    """Rounds with respondents ``n``, ``enrolled`` (the school year's enrolment),
    ``response_rate`` = n / enrolled and ``low_rate`` (below :data:`LOW_RESPONSE_RATE`),
    suppressed below ``min_n`` respondents.

    ``hidden_rounds``: the rounds of which the publication the reader sees hides a cell (small
    or hidden to protect another). They are hidden here too, with the engine's mark: a round's
    respondents would otherwise stand in for the hidden cell's n, and "kommune total minus the
    visible schools minus this round" would give a small school's n.

    ``rounds`` needs ``skole_orgnr``, ``round_id``, ``term``, ``formal`` and ``respondents``;
    its other columns are kept as labels (never blanked). A concrete-suspicion round
    (``formal == 'mistanke'``) surveys one class, so it gets no rate. Rows in input order.
    """
    years = {t: school_year(t) for t in rounds["term"].unique().drop_nulls().to_list()}
    frame = rounds.with_columns(
        pl.col("term").replace_strict(years, default=None, return_dtype=pl.String)
        .alias("skoleaar"),
        pl.col("respondents").cast(pl.Int64).alias("n"),
    ).drop("respondents").join(
        enrolment_.select("skole_orgnr", "skoleaar", pl.col("enrolled").cast(pl.Int64)),
        on=["skole_orgnr", "skoleaar"], how="left", maintain_order="left",
    )
    targeted = pl.col("formal").fill_null("") == "mistanke"
    rate = pl.when(~targeted & (pl.col("enrolled") > 0)).then(pl.col("n") / pl.col("enrolled"))
    frame = frame.with_columns(rate.alias("response_rate")).with_columns(
        (pl.col("response_rate") < LOW_RESPONSE_RATE).alias("low_rate"))
    labels = [c for c in frame.columns if c not in keys and c not in _COMPUTED]
    hidden = pl.col("round_id").is_in(sorted(hidden_rounds))
    frame = frame.with_columns(hidden.alias(SUPPRESSED), pl.when(hidden).then(pl.lit(PRIMARY))
                               .otherwise(pl.lit(None, pl.String)).alias(REASON))
    return suppress(frame, keys=keys, min_n=min_n, labels=labels)
