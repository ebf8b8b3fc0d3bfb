"""The engine's vocabulary: the columns it adds, the reasons a cell is hidden, its errors,
and the declarations a caller passes (:class:`Linkage` sums, :class:`Change` rows).

Public through :mod:`lmp_analytics.privacy.suppression`."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from lmp_analytics.errors import LmpError

SUPPRESSED = "suppressed"
REASON = "suppression_reason"
NOTE_NB = "suppression_note_nb"
NOTE_EN = "suppression_note_en"
N_DISPLAY = "n_display"
META_COLUMNS = (SUPPRESSED, REASON, NOTE_NB, NOTE_EN, N_DISPLAY)

PRIMARY = "primary"
COMPLEMENTARY = "complementary"
DERIVED = "derived"
SOURCE = "source"
#: What a reader sees for a cell hidden as small (primary) or to protect another one
#: (complementary): one reason, one note and one mark, so the hidden cells that are small cannot
#: be told from the others. ``primary``/``complementary`` stay the engine's own bookkeeping.
PRIVACY = "privacy"
#: The n of every hidden cell, whatever the reason.
HIDDEN_MARK = "*"

#: The nested and crossed units of the standard cube, in order of the hierarchy.
HIERARCHY_DIMENSIONS = ("kommunenummer", "skole_orgnr", "trinn", "kjonn")

CELL = "__cell"  # the row index column the engine adds while it works
INF = math.inf


class SuppressionError(LmpError, ValueError):
    """Cells or linkages that the engine cannot suppress safely (names the column or cell)."""


class SuppressionWarning(UserWarning):
    """A hidden number stays derivable because nothing visible is left to hide around it."""


@dataclass(frozen=True, eq=False)
class Linkage:
    """A sum-consistent set shown together: ``total`` row = sum of ``parts`` rows.

    Rows are grouped by equal values (null equals null) in ``on``; within a group the one row where
    ``total`` is true is the sum of the rows where ``parts`` is true.
    """

    on: tuple[str, ...]
    total: pl.Expr
    parts: pl.Expr
    name: str = ""

    @classmethod
    def margin(cls, child: str | Sequence[str], *, keys: Sequence[str]) -> Linkage:
        """Totals marked by null: the row with every ``child`` column null sums the rows with all
        of them set, matched on every other key (kommune total -> schools, school -> trinn, ...)."""
        children = (child,) if isinstance(child, str) else tuple(child)
        missing = [c for c in children if c not in keys]
        if not children or missing:
            raise SuppressionError(f"margin over {children!r}: {missing} are not key columns")
        on = tuple(k for k in keys if k not in children)
        return cls(
            on=on,
            total=pl.all_horizontal(pl.col(c).is_null() for c in children),
            parts=pl.all_horizontal(pl.col(c).is_not_null() for c in children),
            name="+".join(children),
        )


def margins(
    dims: Sequence[str] = HIERARCHY_DIMENSIONS, *, keys: Sequence[str]
) -> list[Linkage]:
    """Every margin of a null-marked cube: one linkage per non-empty subset of ``dims`` in ``keys``.

    Implied sums are included on purpose: they cost little and keep the engine safe when a level
    in between (e.g. the kommune rows) is missing from the table.
    """
    present = [d for d in dims if d in keys]
    return [
        Linkage.margin(subset, keys=keys)
        for size in range(1, len(present) + 1)
        for subset in itertools.combinations(present, size)
    ]


@dataclass(frozen=True)
class Change:
    """Rows where ``column == label`` are differences after − before of two level rows.

    The levels are the rows that match the change row on ``on`` (default: every other key) and
    have ``column`` equal to ``before``/``after``, or to the change row's values in
    ``before_column``/``after_column`` when the pair differs per row (pre/post rounds per school).
    """

    column: str
    label: str
    before: str | None = None
    after: str | None = None
    before_column: str | None = None
    after_column: str | None = None
    on: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for side in ("before", "after"):
            fixed, col = getattr(self, side), getattr(self, f"{side}_column")
            if (fixed is None) == (col is None):
                raise SuppressionError(
                    f"Change on '{self.column}': give exactly one of {side}= or {side}_column="
                )


def describe(frame: pl.DataFrame, row: int, keys: Iterable[str]) -> str:
    rec = frame.row(row, named=True)
    return "(" + ", ".join(f"{k}={rec[k]!r}" for k in keys) + ")"
