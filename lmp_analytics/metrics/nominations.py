"""Researcher-only indicators from the nominations, in aggregate and suppressed.

Nominations are stored as pseudonyms (``fct_nomination``) and never leave the warehouse as a
network: this module reads counts per class (round, gruppe) only, and every cell goes through
the one suppression engine (:func:`lmp_analytics.privacy.suppression.suppress`) with the
warehouse's threshold, like every other published number.

- :func:`no_friend_share`: share of pupils whom no classmate named as a break-time friend
  (``nom_venn``), per class, for the ``forsker`` role only.
"""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics.presentation.messages import refusal
from lmp_analytics.privacy.roles import Role, parse_role
from lmp_analytics.privacy.suppression import suppress
from lmp_analytics.warehouse.meta import reader_min_n
from lmp_analytics.warehouse.queries import named

FRIEND_ITEM = "nom_venn"
NO_FRIEND = "uten_venn"
"""Indicator id (definition in the presentation strings, ``definition.uten_venn``)."""

_KEYS = ("round", "gruppe", "indicator")
_SCHEMA = {"round": pl.String, "skole_orgnr": pl.String, "term": pl.String,
           "gruppe": pl.String, "n": pl.Int64, "count": pl.Int64}


def no_friend_share(con: duckdb.DuckDBPyConnection, *, role: Role | str,
                    min_n: int | None = None) -> pl.DataFrame:
    """Per class of each round that asked the friend nomination: respondents ``n``, pupils
    nobody named ``count`` and their ``share``, suppressed by the engine (``min_n``: the
    warehouse's threshold unless stricter). Only ``forsker`` may read it (PermissionError)."""
    role = parse_role(role) if isinstance(role, str) else role
    if not role.may_see_groups(dashboard=False):
        raise refusal(PermissionError, "no_friend_forsker_only")
    threshold = max(reader_min_n(con), min_n or 0)
    query = named("nominations", "no_friend_counts")
    rows = con.execute(query, [FRIEND_ITEM, FRIEND_ITEM]).fetchall()
    cells = pl.DataFrame(rows, schema=_SCHEMA, orient="row").with_columns(
        pl.lit(NO_FRIEND).alias("indicator"))
    if not cells.height:
        return cells.with_columns(pl.lit(None, pl.Float64).alias("share"),
                                  pl.lit(False).alias("suppressed"))
    out = suppress(cells, keys=_KEYS, min_n=threshold, labels=("skole_orgnr", "term"))
    return out.with_columns((pl.col("count") / pl.col("n")).alias("share"))
