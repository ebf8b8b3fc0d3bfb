"""Numbers derived from published cells (a school's change between two rounds, a
difference-in-differences), suppressed by the one engine's change rule.

Each row of a frame of derived numbers is built from a few *level* cells (the before and after
cells of a change; the four cells of a DiD). :func:`suppress_derived` writes those levels as
cells (their respondents and whether the publication already hides them) and the derived row as
a :class:`~lmp_analytics.privacy.suppression.Change` of each pair of levels, and sends them
through :func:`~lmp_analytics.privacy.suppression.suppress`: a level is hidden when the
publication hides it or its respondents are fewer than the threshold (or unknown), and the
derived row is hidden (reason ``derived``) whenever one of its levels is hidden. So a visible
change adds nothing to what the visible levels show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from lmp_analytics.privacy.suppression import REASON, SUPPRESSED, Change, suppress

__all__ = ["Level", "suppress_derived"]

_ROW = "__derived_row"
_SIDE = "__derived_side"
_N = "__derived_n"


@dataclass(frozen=True, eq=False)
class Level:
    """One level cell of each derived row: ``n`` its respondents (null: unknown, hidden) and
    ``hidden`` whether the publication the reader sees already hides it (null: hidden)."""

    name: str
    n: pl.Expr
    hidden: pl.Expr


def suppress_derived(
    frame: pl.DataFrame,
    derived: Mapping[str, tuple[Sequence[str], Sequence[tuple[Level, Level]]]],
    *,
    min_n: int,
) -> pl.DataFrame:
    """``frame`` with the numbers of each derived quantity blanked where the engine hides it.

    ``derived`` maps a name to (its value columns, its (before, after) level pairs): the values
    are blanked in every row where one level of one pair is hidden. Returns ``frame`` in order
    with one boolean column per name, ``<name>_suppressed``, and its reason
    ``<name>_suppression_reason`` (the engine's: ``derived`` or null)."""
    if frame.height == 0:
        return frame.with_columns(
            *[c for name in derived for c in (
                pl.lit(None, pl.Boolean).alias(f"{name}_{SUPPRESSED}"),
                pl.lit(None, pl.String).alias(f"{name}_{REASON}"))])
    levels = {lv.name: lv for _, pairs in derived.values() for pair in pairs for lv in pair}
    rows = frame.with_row_index(_ROW)
    cells = [rows.select(
        pl.col(_ROW), pl.lit(lv.name).alias(_SIDE), lv.n.cast(pl.Int64).alias(_N),
        lv.hidden.fill_null(True).alias(SUPPRESSED)) for lv in levels.values()]
    changes: list[Change] = []
    for name, (values, pairs) in derived.items():
        cells.append(rows.select(
            pl.col(_ROW), pl.lit(name).alias(_SIDE), pl.lit(None, pl.Int64).alias(_N),
            pl.lit(False).alias(SUPPRESSED), *[pl.col(v) for v in values]))
        changes += [Change(column=_SIDE, label=name, before=b.name, after=a.name, on=(_ROW,))
                    for b, a in pairs]
    out = suppress(pl.concat(cells, how="diagonal_relaxed"), keys=(_ROW, _SIDE),
                   changes=changes, min_n=min_n, n_column=_N)
    result = frame
    for name, (values, _) in derived.items():
        part = out.filter(pl.col(_SIDE) == name).sort(_ROW)
        result = result.with_columns(
            *[part[v].alias(v) for v in values],
            part[SUPPRESSED].alias(f"{name}_{SUPPRESSED}"),
            part[REASON].alias(f"{name}_{REASON}"),
        )
    return result
