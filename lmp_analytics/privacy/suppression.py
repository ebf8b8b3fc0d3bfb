"""The one suppression engine. Every output path (dashboard, chart data, CSV/XLSX, PDF, notebook
helper) sends its aggregated cells through :func:`suppress` before anything is shown.

Cells
    One row per aggregated cell. ``keys`` name the columns that identify a cell (kommunenummer,
    skole_orgnr, trinn, kjonn, term, indicator, ...). ``n`` (respondents, the denominator) is an
    integer column. Every other column is a *value* column (count, share, mean, sum, sumsq,
    ci_low, ci_high, ...) and is blanked in a hidden row, unless listed in ``labels`` (names,
    texts that are not numbers about the cell). A null ``n`` means "already suppressed upstream"
    (Elevundersøkelsen ``*``): the row stays hidden, nothing is imputed.

Rules
    * Primary: a cell with ``n < min_n`` is hidden (``min_n`` from
      :func:`lmp_analytics.config.min_n`, overridable per call and, stricter only, per indicator).
    * Complementary: a :class:`Linkage` declares a sum-consistent set (a total and its parts). No
      hidden number may be worked out from the visible ones through any combination of the
      declared sums. Quick rule, to a fixed point: where a sum has exactly one unknown, hide one
      more of its parts - the one that opens the fewest other sums, then the smallest n, then by
      key (the total when no part is visible). Audit: an exact rank test over the rationals of all
      sums at once finds cells pinned by combinations of sums (only *which* cells are hidden
      matters, so n, count, sum, sumsq and top_count are protected together); interval
      propagation finds respondent counts pinned by what is known without the numbers (a hidden
      cell holds n >= 1; a residual is granted to be below or at least the threshold). Each
      finding hides one more cell (for a rank-test
      pin, one that breaks the combination of sums behind it; else one tried on the sums around
      it) and the loop repeats. Propagation works sum by sum, so pass implied sums too
      (:func:`margins` does).
    * Whole lines: in every declared sum (a *line*: a total and its parts) the pupils in the
      hidden parts together, with the unpublished residual (total minus parts), are none or at
      least the total's threshold; where not, the smallest visible part (then by key) is hidden
      and the loop repeats. So "total minus visible parts" never gives a group of 1 to min_n - 1
      pupils. It holds for lines with a hidden total too: a hidden part opened by its own line
      then cannot leave a small group inside the larger line.
    * One mark: a reader sees the same ``n_display`` ("*"), reason (``privacy``) and note for a
      small cell and for a cell hidden to protect another, so the audit grants an attacker only
      that a hidden cell holds at least one respondent (not "< t" or ">= t").
    * Parts that add up to less than their total (pupils with unknown gender, schools outside the
      table) leave an unpublished residual: an unknown of its own, which must itself stay hidden
      when it is below ``min_n``.
    * A :class:`Change` row (after - before between two terms) is hidden whenever either of its
      levels is hidden, so a visible change never adds anything to what the levels show and
      "term-2 total - term-1 total - visible changes" recovers nothing.
    * ``fixed`` rows (published by an earlier call) keep their state; the engine hides only
      other rows around them, and warns where only a fixed row could have helped.
    * Not covered: bounds an LP/integer program could derive beyond propagation; re-running the
      engine on guessed data; a visible 0 % or 100 % (true of every part, as with any threshold
      rule).

Columns added to the result
    ``suppressed`` (bool), ``suppression_reason`` ("privacy" for a small or protecting cell,
    "derived", "source" or null), ``suppression_note_nb`` / ``suppression_note_en`` (reason for
    readers), ``n_display`` (the n as text; "*" for every hidden cell). In hidden rows ``n`` and
    every value column are null. Visible rows are returned unchanged, in input order.

Totals are marked by null in the summed-over key column (see :meth:`Linkage.margin`). Other
layouts (the marts' ``level``/``breakdown`` columns) declare their sets directly, e.g. trinn parts
of any unit: ``Linkage(on=(... every key but breakdown, breakdown_value ...), total=
pl.col("breakdown") == "alle", parts=pl.col("breakdown") == "trinn")``.

Suppress once, with every linkage any viewer can combine, then cut by role scope: every role then
sees a subset of one safe publication, and subsets cannot reveal more than the whole.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from lmp_analytics import config
from lmp_analytics.errors import LmpError

__all__ = [
    "COMPLEMENTARY",
    "DERIVED",
    "HIDDEN_MARK",
    "HIERARCHY_DIMENSIONS",
    "META_COLUMNS",
    "NOTE_EN",
    "NOTE_NB",
    "N_DISPLAY",
    "PRIMARY",
    "PRIVACY",
    "REASON",
    "SOURCE",
    "SUPPRESSED",
    "Change",
    "Linkage",
    "SuppressionError",
    "SuppressionWarning",
    "assert_matches_suppressed",
    "assert_no_hidden_numbers",
    "margins",
    "suppress",
    "suppress_cube",
]

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

_NOTES = {
    PRIVACY: (
        "skjult av personvernhensyn: færre enn {} svar, eller skjult for at andre skjulte tall "
        "ikke skal kunne regnes ut",
        "hidden for privacy: fewer than {} responses, or hidden so that other hidden numbers "
        "cannot be worked out",
    ),
    DERIVED: (
        "skjult fordi et tall endringen bygger på er skjult",
        "hidden because a number the change is based on is hidden",
    ),
    SOURCE: ("skjult i kilden", "suppressed at source"),
}
_CELL = "__cell"
_PROPAGATION_ROUNDS = 50
_SMALL_SYSTEM = 64  # terms; smaller systems propagate in plain Python (same result, faster)
_TRIALS = 4
_TRIAL_EQS = 300
_INF = math.inf


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


# --------------------------------------------------------------------------------------------
# The engine


@dataclass(slots=True)
class _Eq:
    """One declared sum: members (cell, is_total), whether an unpublished residual (total minus
    parts) exists and whether it is below the threshold, and the total's threshold."""

    members: list[tuple[int, bool]]
    residual: bool
    sensitive: bool
    threshold: int
    residual_known: bool = True


@dataclass
class _State:
    n: list[int | None]
    threshold: list[int]
    order: list[int]
    hidden: list[bool]
    reason: list[str | None]
    unresolved: set[int] = field(default_factory=set)
    inherent: set[int] = field(default_factory=set)
    locked: list[bool] = field(default_factory=list)

    def free(self, cell: int) -> bool:
        """Whether the engine may still hide ``cell`` (visible, and not fixed)."""
        return not self.hidden[cell] and not self.locked[cell]


def suppress(
    cells: pl.DataFrame,
    *,
    keys: Sequence[str],
    linkages: Sequence[Linkage] = (),
    changes: Sequence[Change] = (),
    min_n: int | None = None,
    min_n_by_indicator: Mapping[str, int] | None = None,
    indicator_column: str = "indicator",
    n_column: str = "n",
    labels: Sequence[str] = (),
    fixed: pl.Expr | None = None,
) -> pl.DataFrame:
    """Hide small cells and every cell from which a hidden number could be worked out.

    ``cells``: one row per cell, unique on ``keys``; ``n`` an integer column (null: suppressed
    upstream). Pass every linkage of every table shown together: only declared sums are
    protected. Returns ``cells`` in input order with hidden numbers blanked and the columns
    ``suppressed``, ``suppression_reason``, ``suppression_note_nb``, ``suppression_note_en`` and
    ``n_display``. Deterministic: the same cells give the same result whatever their row order.
    Running it again on its own output never reveals anything (it may hide a little more, as it
    then sees blanks where it saw numbers). Raises :class:`SuppressionError` for bad input and
    warns (:class:`SuppressionWarning`) where no amount of hiding can help.

    ``fixed``: rows already published by an earlier call (pass them with that call's
    ``suppressed`` column): they keep their state, and the engine hides only other rows around
    them (the group cells of a researcher's view around the published school cells).
    """
    with _cyclic_gc_paused():
        return _suppress(cells, keys=tuple(keys), linkages=linkages, changes=changes,
                         min_n=min_n, min_n_by_indicator=min_n_by_indicator,
                         indicator_column=indicator_column, n_column=n_column,
                         labels=tuple(labels), fixed=fixed)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: the engine builds millions of small lists and
    tuples (none of them cyclic; all freed by reference counting), and the collector's full
    passes over them cost about a third of its time. Restored afterwards, whatever happens."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _suppress(
    cells: pl.DataFrame,
    *,
    keys: tuple[str, ...],
    linkages: Sequence[Linkage],
    changes: Sequence[Change],
    min_n: int | None,
    min_n_by_indicator: Mapping[str, int] | None,
    indicator_column: str,
    n_column: str,
    labels: tuple[str, ...],
    fixed: pl.Expr | None = None,
) -> pl.DataFrame:
    _check_input(cells, keys, labels, n_column, linkages, changes)
    thresholds = _thresholds(cells, min_n, min_n_by_indicator, indicator_column)

    pre_hidden = pl.lit(False)
    if SUPPRESSED in cells.columns:
        pre_hidden = pl.col(SUPPRESSED).fill_null(False)
    pre_reason = pl.col(REASON) if REASON in cells.columns else pl.lit(None, dtype=pl.String)
    is_change = pl.any_horizontal(
        pl.lit(False), *[(pl.col(c.column) == c.label).fill_null(False) for c in changes]
    )
    base = cells.with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias(_CELL),
        pl.Series("__t", thresholds, dtype=pl.Int64),
        (pl.struct(list(keys)).rank("ordinal") - 1).cast(pl.Int64).alias("__order"),
        is_change.alias("__change"),
        (pre_hidden | pl.col(n_column).is_null()).alias("__pre"),
        pre_reason.cast(pl.String).alias("__pre_reason"),
        pl.col(n_column).cast(pl.Int64).alias("__n"),
        (pl.lit(False) if fixed is None else fixed.fill_null(False)).alias("__locked"),
    ).drop([c for c in META_COLUMNS if c in cells.columns])
    negative = base.filter(~pl.col("__change") & (pl.col("__n") < 0))
    if negative.height:
        raise SuppressionError(
            f"'{n_column}' is negative in the cell {_describe(negative, 0, keys)}"
        )

    st = _State(
        n=base["__n"].to_list(),
        threshold=thresholds,
        order=base["__order"].to_list(),
        hidden=[False] * base.height,
        reason=[None] * base.height,
        locked=base["__locked"].to_list(),
    )
    for cell, (pre, pre_r, chg, n, t) in enumerate(
        zip(
            base["__pre"].to_list(),
            base["__pre_reason"].to_list(),
            base["__change"].to_list(),
            st.n,
            st.threshold,
            strict=True,
        )
    ):
        if chg:
            continue
        if pre:
            st.hidden[cell], st.reason[cell] = True, pre_r or SOURCE
        elif st.locked[cell]:
            continue
        elif n is not None and n < t:
            st.hidden[cell], st.reason[cell] = True, PRIMARY

    members, eqs = _build_equations(base, linkages, keys)
    pairs = _change_pairs(base, changes, keys)
    if members.height:
        _protect(members, eqs, pairs, st)
    for chg, before, after in pairs:
        if st.hidden[before] or st.hidden[after]:
            st.hidden[chg], st.reason[chg] = True, DERIVED
    for found, why in (
        (st.unresolved, "stay derivable (or leave a small group in a line) with nothing visible "
                        "left to hide around them"),
        (st.inherent, "are pinned by what is known without any number (residuals granted "
                      "below the threshold)"),
    ):
        if found:
            cells_ = [c for c in sorted(found) if c < base.height][:3]
            where = ", ".join(_describe(base, c, keys) for c in cells_) or "unpublished residuals"
            warnings.warn(
                f"suppression: {len(found)} hidden respondent count(s) {why}: {where}",
                SuppressionWarning,
                stacklevel=3,
            )
    return _render(cells, keys, labels, n_column, st)


def suppress_cube(
    cells: pl.DataFrame,
    *,
    keys: Sequence[str],
    dims: Sequence[str] = HIERARCHY_DIMENSIONS,
    **kwargs,
) -> pl.DataFrame:
    """:func:`suppress` over every margin of a null-marked cube (a flat table with one total
    row: ``dims=[by]``)."""
    return suppress(cells, keys=keys, linkages=margins(dims, keys=keys), **kwargs)


def _check_input(
    cells: pl.DataFrame,
    keys: tuple[str, ...],
    labels: tuple[str, ...],
    n_column: str,
    linkages: Sequence[Linkage],
    changes: Sequence[Change],
) -> None:
    if not keys:
        raise SuppressionError("suppress needs at least one key column")
    wanted = {"key": keys, "label": labels, "n": (n_column,)}
    wanted |= {f"linkage '{lk.name}'": lk.on for lk in linkages}
    for ch in changes:
        cols = (ch.column, *(ch.on or ()), *(c for c in (ch.before_column, ch.after_column) if c))
        wanted[f"change '{ch.label}'"] = cols
    for what, cols in wanted.items():
        missing = [c for c in cols if c not in cells.columns]
        if missing:
            raise SuppressionError(
                f"{what} column(s) {missing} not in the cells (columns: {cells.columns})"
            )
    clash = (set(keys) & set(labels)) | ({n_column} & (set(keys) | set(labels)))
    clash |= set(META_COLUMNS) & (set(keys) | set(labels) | {n_column})
    if clash:
        raise SuppressionError(f"column(s) {sorted(clash)} cannot have two roles")
    if not cells.schema[n_column].is_integer() and cells.schema[n_column] != pl.Null:
        raise SuppressionError(
            f"'{n_column}' must be a whole-number column, got {cells.schema[n_column]}"
        )
    dup = cells.select(keys).is_duplicated()
    if dup.any():
        first = cells.filter(dup).head(1)
        raise SuppressionError(f"two cells share the keys {_describe(first, 0, keys)}")


def _thresholds(
    cells: pl.DataFrame,
    min_n: int | None,
    by_indicator: Mapping[str, int] | None,
    indicator_column: str,
) -> list[int]:
    base = config.min_n() if min_n is None else int(min_n)
    if base < 1:
        raise SuppressionError(f"min_n must be at least 1, got {base}")
    if not by_indicator:
        return [base] * cells.height
    looser = {k: v for k, v in by_indicator.items() if int(v) < base}
    if looser:
        raise SuppressionError(
            f"per-indicator thresholds may only be stricter than min_n={base}, got {looser}"
        )
    if indicator_column not in cells.columns:
        raise SuppressionError(
            f"per-indicator thresholds given but no '{indicator_column}' column in the cells"
        )
    return (
        cells.select(
            pl.col(indicator_column)
            .cast(pl.String)
            .replace_strict(
                {k: int(v) for k, v in by_indicator.items()}, default=base, return_dtype=pl.Int64
            )
        )
        .to_series()
        .to_list()
    )


def _describe(frame: pl.DataFrame, row: int, keys: Iterable[str]) -> str:
    rec = frame.row(row, named=True)
    return "(" + ", ".join(f"{k}={rec[k]!r}" for k in keys) + ")"


def _build_equations(
    base: pl.DataFrame, linkages: Sequence[Linkage], keys: tuple[str, ...]
) -> tuple[pl.DataFrame, dict[int, _Eq]]:
    """Membership rows (eq, cell, is_total, n, order) and per-equation residual facts."""
    levels = base.filter(~pl.col("__change"))
    frames = []
    offset = 0
    for lk in linkages:
        group = pl.struct(list(lk.on)).rank("dense") if lk.on else pl.lit(1, dtype=pl.UInt32)
        sel = levels.select(
            pl.col(_CELL),
            group.cast(pl.Int64).alias("__g"),
            lk.total.fill_null(False).alias("__is_total"),
            lk.parts.fill_null(False).alias("__is_part"),
        ).filter(pl.col("__is_total") | pl.col("__is_part"))
        both = sel.filter(pl.col("__is_total") & pl.col("__is_part"))
        if both.height:
            cell = int(both[_CELL][0])
            raise SuppressionError(
                f"linkage '{lk.name}': the cell {_describe(base, cell, keys)} is both total "
                "and part"
            )
        stats = sel.group_by("__g").agg(
            pl.col("__is_total").sum().alias("__totals"), pl.col("__is_part").sum().alias("__parts")
        )
        multi = stats.filter(pl.col("__totals") > 1)
        if multi.height:
            cell = int(
                sel.filter(pl.col("__g") == multi["__g"][0], pl.col("__is_total"))[_CELL][0]
            )
            raise SuppressionError(
                f"linkage '{lk.name}': more than one total in the set of "
                f"{_describe(base, cell, keys)}"
            )
        kept = (
            stats.filter((pl.col("__totals") == 1) & (pl.col("__parts") >= 1))
            .sort("__g")
            .with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + offset).alias("eq"))
        )
        offset += kept.height
        frames.append(
            sel.join(kept.select("__g", "eq"), on="__g").select(
                "eq", pl.col(_CELL).alias("cell"), pl.col("__is_total").alias("is_total")
            )
        )
    if not frames:
        return pl.DataFrame(
            schema={"eq": pl.Int64, "cell": pl.UInt32, "is_total": pl.Boolean,
                    "n": pl.Int64, "order": pl.Int64, "t": pl.Int64, "locked": pl.Boolean}
        ), {}
    members = (
        pl.concat(frames)
        .join(
            base.select(
                pl.col(_CELL).alias("cell"), pl.col("__n").alias("n"),
                pl.col("__order").alias("order"), pl.col("__t").alias("t"),
                pl.col("__locked").alias("locked"),
            ),
            on="cell",
        )
        .sort("eq", "is_total", "n", "order")
    )
    info = members.group_by("eq").agg(
        pl.col("cell").filter(pl.col("is_total")).first().alias("total"),
        pl.col("t").filter(pl.col("is_total")).first().alias("t"),
        pl.when(pl.col("n").null_count() > 0)
        .then(None)
        .otherwise(pl.when(pl.col("is_total")).then(pl.col("n")).otherwise(-pl.col("n")).sum())
        .alias("r"),
        pl.col("cell"),
        pl.col("is_total"),
    )
    eqs: dict[int, _Eq] = {}
    for eq, total, t, r, cells_, is_total in info.iter_rows():
        if r is not None and r < 0:
            raise SuppressionError(
                f"the parts add up to more than their total {_describe(base, total, keys)} "
                f"(total minus parts = {r} respondents): a linkage double-counts"
            )
        # an n hidden upstream leaves the residual unknown: count it as an unknown, not as 0
        eqs[eq] = _Eq(
            members=list(zip(cells_, is_total, strict=True)),
            residual=r is None or r > 0,
            sensitive=r is not None and 0 < r < t,
            threshold=t,
            residual_known=r is not None,
        )
    return members, eqs


def _change_pairs(
    base: pl.DataFrame, changes: Sequence[Change], keys: tuple[str, ...]
) -> list[tuple[int, int, int]]:
    """(change cell, before cell, after cell) for every change row."""
    pairs: list[tuple[int, int, int]] = []
    for ch in changes:
        on = list(ch.on) if ch.on is not None else [k for k in keys if k != ch.column]
        dtype = base.schema[ch.column]
        levels = base.filter(~pl.col("__change")).select(*on, ch.column, _CELL)
        rows = base.filter(pl.col(ch.column) == ch.label).select(
            *on,
            _CELL,
            (pl.lit(ch.before) if ch.before is not None else pl.col(ch.before_column))
            .cast(dtype)
            .alias("__before"),
            (pl.lit(ch.after) if ch.after is not None else pl.col(ch.after_column))
            .cast(dtype)
            .alias("__after"),
        )
        for side in ("__before", "__after"):
            rows = rows.join(
                levels.rename({ch.column: side, _CELL: side + "_cell"}),
                on=[*on, side],
                how="left",
                nulls_equal=True,
            )
        missing = rows.filter(pl.col("__before_cell").is_null() | pl.col("__after_cell").is_null())
        if missing.height:
            cell = int(missing[_CELL][0])
            raise SuppressionError(
                f"change row {_describe(base, cell, keys)} has no matching before/after level row"
            )
        pairs += [
            (int(c), int(b), int(a))
            for c, b, a in rows.select(_CELL, "__before_cell", "__after_cell").iter_rows()
        ]
    return pairs


def _protect(
    members: pl.DataFrame, eqs: dict[int, _Eq], pairs: list[tuple[int, int, int]], st: _State
) -> None:
    """Complementary suppression to a fixed point: the quick rule, then the exact audit."""
    phantom = pl.DataFrame(
        {
            "eq": list(eqs),
            "ph": [int(e.residual) for e in eqs.values()],
            "ph_sens": [e.sensitive for e in eqs.values()],
        },
        schema={"eq": pl.Int64, "ph": pl.Int64, "ph_sens": pl.Boolean},
    )
    by_cell = members.group_by("cell").agg(pl.col("eq"))
    eqs_of_cell = dict(zip(by_cell["cell"].to_list(), by_cell["eq"].to_list(), strict=True))
    audit = _Audit(eqs, pairs, st, eqs_of_cell)
    while True:
        _one_unknown_rule(members, phantom, st)
        if _line_rule(members, st):
            continue
        if not audit.run(_open_equations(members, phantom, st)):
            return


def _with_hidden(members: pl.DataFrame, st: _State) -> pl.DataFrame:
    return members.with_columns(h=pl.Series(st.hidden, dtype=pl.Boolean).gather(members["cell"]))


def _one_unknown_rule(members: pl.DataFrame, phantom: pl.DataFrame, st: _State) -> None:
    """Where a sum has exactly one unknown, hide one more of its parts (the total if none is
    left): the part that opens the fewest other sums, then the smallest, then by key."""
    while True:
        m = _with_hidden(members, st)
        per_eq = (
            m.group_by("eq")
            .agg(pl.col("h").sum().alias("nh"))
            .join(phantom, on="eq")
            .with_columns(u=pl.col("nh") + pl.col("ph"))
            # one unknown, and it is a hidden cell or a small residual
            .with_columns(single=(pl.col("u") == 1) & ((pl.col("nh") == 1) | pl.col("ph_sens")))
        )
        single = per_eq.filter("single").select("eq")
        if single.height == 0:
            return
        visible = m.filter(~pl.col("h"))
        score = (
            visible.join(per_eq.select("eq", "u", "single"), on="eq")
            .group_by("cell")
            .agg(((pl.col("u") == 0).sum().cast(pl.Int64) - pl.col("single").sum()).alias("score"))
        )
        pick = (
            visible.filter(~pl.col("locked"))
            .join(single, on="eq")
            .join(score, on="cell")
            .sort("eq", "is_total", "score", "n", "order")
            .group_by("eq", maintain_order=True)
            .first()["cell"]
            .unique()
            .to_list()
        )
        if not pick:
            return
        for cell in pick:
            st.hidden[cell], st.reason[cell] = True, COMPLEMENTARY


def _line_rule(members: pl.DataFrame, st: _State) -> bool:
    """The pupils in the hidden parts of a line together - its total minus its visible parts,
    so with every pupil in no part (empty gender or grade, schools outside the table) - are
    none or at least the total's threshold. Where not (and a part is still visible), hide its
    smallest visible part (then by key): a visible part holds at least the threshold, so one
    is enough. Lines with a hidden total too, so that a hidden total opened up by its own line
    cannot leave a small group inside a larger line. Returns whether it hid anything."""
    m = _with_hidden(members, st)
    shown_part = ~pl.col("is_total") & ~pl.col("h")
    short = (
        m.group_by("eq")
        .agg(
            pl.col("n").filter(pl.col("is_total")).first().alias("total_n"),
            pl.col("t").filter(pl.col("is_total")).first().alias("t"),
            pl.col("n").filter(shown_part).sum().alias("shown"),
            shown_part.any().alias("any_shown"),
        )
        .with_columns(rest=pl.col("total_n") - pl.col("shown"))
        .filter(pl.col("any_shown") & (pl.col("rest") > 0) & (pl.col("rest") < pl.col("t")))
        .select("eq")
    )
    if short.height == 0:
        return False
    first = (
        m.filter(shown_part & ~pl.col("locked"))
        .join(short, on="eq")
        .sort("eq", "n", "order")
        .group_by("eq", maintain_order=True)
        .first()
    )
    # only fixed parts left to hide: nothing this call may do (a warning names the total)
    stuck = short.join(first, on="eq", how="anti").join(
        m.filter("is_total").select("eq", "cell"), on="eq")["cell"].to_list()
    st.unresolved.update(int(c) for c in stuck)
    pick = first["cell"].unique().to_list()
    for cell in pick:
        st.hidden[cell], st.reason[cell] = True, COMPLEMENTARY
    return bool(pick)


def _open_equations(members: pl.DataFrame, phantom: pl.DataFrame, st: _State) -> list[int]:
    return (
        _with_hidden(members, st)
        .group_by("eq")
        .agg(pl.col("h").sum().alias("nh"))
        .join(phantom, on="eq")
        .filter((pl.col("nh") >= 1) | pl.col("ph_sens"))
        .sort("eq")["eq"]
        .to_list()
    )


class _Audit:
    """Exact checks over the sums that hold a hidden number, group by group of linked hidden
    numbers: interval propagation for n, and (when that finds nothing) a rank test over the
    rationals for every additive number; hides one more cell beside each leak.

    Variables are cell indices; an unpublished residual of sum ``e`` is variable ``base + e``.
    """

    def __init__(
        self, eqs: dict[int, _Eq], pairs: list[tuple[int, int, int]], st: _State,
        eqs_of_cell: dict[int, list[int]] | None = None,
    ):
        self.eqs, self.pairs, self.st = eqs, pairs, st
        self.base = len(st.hidden)
        self.safe: set[tuple] = set()
        self._nh: dict[int, int] = {}
        # for a number pinned by the rank test: the sums (and factors) that add up to it
        self.certificates: dict[int, dict[int, int]] = {}
        # the sums that hold each cell (in no particular order: every use sorts or sums)
        if eqs_of_cell is None:
            eqs_of_cell = {}
            for e, eq in eqs.items():
                for c, _ in eq.members:
                    eqs_of_cell.setdefault(c, []).append(e)
        self.eqs_of_cell = eqs_of_cell

    def run(self, open_ids: list[int]) -> list[int]:
        """Hide one more cell beside each leaking number; returns the cells hidden (the caller
        repeats the quick rule and this audit until nothing changes)."""
        hidden_now: list[int] = []
        self._nh: dict[int, int] = {}  # hidden members per sum, as at the start of this pass
        for comp in self._components(open_ids):
            # a group found safe before, with the same sums and the same hidden cells, still is
            key = (tuple(comp), tuple(v for e in comp for v, _ in self._terms(e, False)))
            if key in self.safe:
                continue
            leaks = self._real(self.leaks(comp), comp)
            if not leaks:
                self.safe.add(key)
            picks = []
            for v in sorted(leaks, key=self._order):
                cell = self._fix(v, comp)
                if cell is None:
                    self.st.unresolved.add(v)
                else:
                    picks.append(cell)
            for cell in picks:
                self._hide(cell)
            hidden_now += picks
        return hidden_now

    def _hide(self, cell: int) -> None:
        self.st.hidden[cell], self.st.reason[cell] = True, COMPLEMENTARY

    def _real(self, leaks: set[int], eq_ids: Iterable[int]) -> set[int]:
        """Leaks that more hiding can cure (those pinned by the labels alone are recorded)."""
        if leaks:
            inherent = self.leaks(eq_ids, label_only=True)
            self.st.inherent |= leaks & inherent
            leaks = leaks - inherent
        return leaks

    def _around(self, cells: Iterable[int]) -> list[int]:
        """The sums that hold any of ``cells``."""
        return sorted({e for c in cells for e in self.eqs_of_cell.get(c, [])})

    def _eqs_of_var(self, v: int) -> list[int]:
        return self.eqs_of_cell.get(v, []) if v < self.base else [v - self.base]

    def _order(self, v: int) -> tuple[int, int]:
        return (self.st.order[v] if v < self.base else -1, v)

    def _terms(self, e: int, label_only: bool) -> list[tuple[int, int]]:
        eq = self.eqs[e]
        terms = [(c, 1 if tot else -1) for c, tot in eq.members if label_only or self.st.hidden[c]]
        if eq.residual:
            terms.append((self.base + e, -1))
        return terms

    def _components(self, open_ids: list[int]) -> list[list[int]]:
        parent: dict[int, int] = {}

        def find(v: int) -> int:
            while parent.setdefault(v, v) != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        first = {}
        for e in open_ids:
            terms = self._terms(e, False)
            first[e] = terms[0][0]
            for v, _ in terms[1:]:
                parent[find(v)] = find(first[e])
        comps: dict[int, list[int]] = {}
        for e in open_ids:
            comps.setdefault(find(first[e]), []).append(e)
        return sorted(comps.values(), key=lambda c: c[0])

    def _bounds(self, v: int) -> tuple[float, float]:
        """What anybody can know about an n without its number: a hidden cell's mark is the same
        whether it is small or protects another (n >= 1 where the row exists for pupils; 0 for
        an empty cell, or a cell hidden upstream, whose n nobody has)."""
        if v >= self.base:  # an unpublished residual; granted: whether it is below the threshold
            eq = self.eqs[v - self.base]
            if not eq.residual_known:
                return 0, _INF
            return (1, eq.threshold - 1) if eq.sensitive else (eq.threshold, _INF)
        st = self.st
        n = st.n[v]
        if not st.hidden[v]:
            return st.threshold[v], _INF  # visible cells in the labels-only test: not small
        return (1 if n else 0), _INF

    def leaks(
        self, eq_ids: Iterable[int], label_only: bool = False, rank: bool = True
    ) -> set[int]:
        """Hidden cells and small residuals that the sums ``eq_ids`` pin down: by interval
        propagation first, and only when that finds nothing (and ``rank``), by the dearer rank
        test. With ``label_only`` every number is treated as hidden: what is pinned then is
        pinned without any number published, and no further hiding can help."""
        st = self.st
        terms = {e: self._terms(e, label_only) for e in eq_ids}
        eqs_of: dict[int, list[int]] = {}
        for e, tt in terms.items():
            for v, _ in tt:
                eqs_of.setdefault(v, []).append(e)
        bounds = {v: self._bounds(v) for v in eqs_of}
        # a visible cell or a large residual may be known; a point known from the label alone
        # ("< 2" means 1) is no leak; any other pinned number is
        exempt = {
            v for v, (lo, hi) in bounds.items()
            if (v >= self.base and not self.eqs[v - self.base].sensitive)
            or (v < self.base and not st.hidden[v])
            or (lo == hi and (v >= self.base or st.reason[v] == PRIMARY))
        }
        rows = []
        for e, tt in terms.items():
            rhs = 0 if label_only else -sum(
                (st.n[c] if tot else -st.n[c])
                for c, tot in self.eqs[e].members if not st.hidden[c]
            )
            rows.append((tt, rhs))
        lo = {v: b[0] for v, b in bounds.items()}
        hi = {v: b[1] for v, b in bounds.items()}
        _propagate(rows, lo, hi)
        found = {v for v in lo if lo[v] == hi[v]} - exempt
        if found or label_only or not rank:
            return found
        order = list(terms)
        rows_ = [dict(terms[e]) for e in order]
        basis, combo = _row_reduce(rows_, track=False)
        if any(len(row) == 1 for row in basis.values()):  # pinned: again, with certificates
            basis, combo = _row_reduce(rows_, track=True)
        for p, row in basis.items():
            if len(row) == 1:
                found.add(p)
                self.certificates[p] = {order[k]: f for k, f in combo[p].items()}
        for _, before, after in self.pairs:
            if (
                before in eqs_of and after in eqs_of
                and st.hidden[before] and st.hidden[after]
                and not _reduce({after: 1, before: -1}, {}, basis, combo)[0]
            ):
                found.add(after)
        return found - exempt

    def _score(self, c: int) -> int:
        """Sums that hiding ``c`` would open (no unknown yet) minus those it would close."""
        total = 0
        for e in self.eqs_of_cell.get(c, []):
            nh = self._nh.get(e)
            if nh is None:
                nh = self._nh[e] = sum(self.st.hidden[x] for x, _ in self.eqs[e].members)
            eq = self.eqs[e]
            u = nh + eq.residual
            total += (u == 0) - (u == 1 and (nh == 1 or eq.sensitive))
        return total

    def _candidates(self, v: int) -> list[int]:
        """Visible cells in the sums that hold ``v``: parts first (its siblings before its
        children), each by the same order as the quick rule; totals last."""
        st = self.st
        own = sorted(
            self._eqs_of_var(v),
            key=lambda e: (any(c == v and t for c, t in self.eqs[e].members), e),
        )
        score = {}
        picks: list[int] = []
        totals: list[int] = []
        for e in own:
            members = self.eqs[e].members
            parts = [c for c, tot in members if not tot and st.free(c)]
            for c in parts:
                if c not in score:
                    score[c] = self._score(c)
            picks += sorted(parts, key=lambda c: (score[c], st.n[c], st.order[c]))
            totals += [c for c, tot in members if tot and st.free(c)]
        return list(dict.fromkeys(picks + totals))

    def _fix(self, v: int, comp: list[int]) -> int | None:
        """A cell to hide so that ``v`` is free: for a rank-test pin, the smallest visible cell
        that breaks its certificate; otherwise the first candidate after which ``v`` is free by
        propagation on the sums around both (tried only in groups of moderate size), else the
        first candidate."""
        st = self.st
        cert = self.certificates.pop(v, None)
        if cert:
            # a visible cell whose column does not cancel in the pinning combination breaks it
            weight: dict[int, int] = {}
            for e, f in cert.items():
                for c, tot in self.eqs[e].members:
                    if not st.hidden[c]:
                        weight[c] = weight.get(c, 0) + (f if tot else -f)
            breaking = [c for c, w in weight.items() if w and not st.locked[c]]
            if breaking:
                return min(breaking, key=lambda c: (self._score(c), st.n[c], st.order[c]))
        picks = self._candidates(v)
        if not picks:  # nothing visible beside v: widen to any visible cell of its group
            picks = [c for e in sorted(comp) for c, _ in self.eqs[e].members if st.free(c)]
        for cell in picks[:_TRIALS] if len(comp) <= _TRIAL_EQS else ():
            local = self._around([cell, v] if v < self.base else [cell])
            self._hide(cell)
            free = v not in self.leaks(local, rank=False)
            st.hidden[cell], st.reason[cell] = False, None
            if free:
                return cell
        return picks[0] if picks else None


def _row_reduce(
    rows: list[dict[int, int]], track: bool = True
) -> tuple[dict[int, dict[int, int]], dict[int, dict[int, int]]]:
    """Reduced row echelon form over the rationals, kept as {pivot variable: row}, with each
    row's combination of the input rows ({input index: factor}, the certificate of a pin).

    Rows stay integer (fraction-free: cross-multiply, or subtract when the pivot is ±1), so the
    test is exact; a variable is pinned when its row holds nothing else. The pivot of a new row
    is its variable found in the fewest basis rows (less fill-in). Without ``track`` the
    combinations are left empty (cheaper).
    """
    basis: dict[int, dict[int, int]] = {}
    combo: dict[int, dict[int, int]] = {}
    holders: dict[int, set[int]] = {}
    for i in sorted(range(len(rows)), key=lambda k: len(rows[k])):
        r, cr = _reduce(rows[i], {i: 1} if track else {}, basis, combo)
        if not r:
            continue
        p = min(r, key=lambda v: (abs(r[v]) != 1, len(holders.get(v, ())), v))
        for q in list(holders.get(p, ())):
            old = basis[q]
            new, combo[q] = _eliminate(old, combo[q], r, cr, p)
            for v in old.keys() - new.keys():
                holders[v].discard(q)
            for v in new.keys() - old.keys():
                holders.setdefault(v, set()).add(q)
            basis[q] = new
        basis[p], combo[p] = r, cr
        for v in r:
            holders.setdefault(v, set()).add(p)
    return basis, combo


def _axpy(x: dict, f, y: dict) -> dict:
    """x − f·y for sparse rows (zeros dropped)."""
    out = dict(x)
    for k, c in y.items():
        val = out.get(k, 0) - f * c
        if val:
            out[k] = val
        else:
            out.pop(k, None)
    return out


def _eliminate(
    row: dict[int, int], rc: dict[int, int], pivot_row: dict[int, int],
    pc: dict[int, int], p: int,
) -> tuple[dict[int, int], dict[int, int]]:
    """``row`` (and its combination) with variable ``p`` cancelled by ``pivot_row``."""
    a, b = pivot_row[p], row[p]
    if a in (1, -1):  # the usual case: subtract a multiple, no growth
        return _axpy(row, b * a, pivot_row), _axpy(rc, b * a, pc)
    out = _axpy({k: a * c for k, c in row.items()}, b, pivot_row)
    oc = _axpy({k: a * c for k, c in rc.items()}, b, pc)
    if not oc:  # not tracking: keep the row primitive
        g = 0
        for c in out.values():
            g = math.gcd(g, c)
        if g > 1:
            out = {k: c // g for k, c in out.items()}
    return out, oc


def _reduce(
    row: dict[int, int], rc: dict[int, int],
    basis: dict[int, dict[int, int]], combo: dict[int, dict[int, int]],
) -> tuple[dict[int, int], dict[int, int]]:
    """The row with every basis pivot cancelled (empty: it lies in the row space)."""
    r = {v: c for v, c in row.items() if c}
    for p in [v for v in r if v in basis]:
        if r.get(p):
            r, rc = _eliminate(r, rc, basis[p], combo[p], p)
    return r, rc


def _propagate(
    rows: list[tuple[list[tuple[int, int]], int]], lo: dict[int, float], hi: dict[int, float]
) -> None:
    """Interval propagation over sum rows (Σ coef·x = rhs, coef ±1) on integers: every row
    tightens every one of its variables from the others' ranges, all rows at once,
    until nothing tightens (or a cap on sweeps). Updates ``lo``/``hi`` in place."""
    if not rows:
        return
    if sum(len(tt) for tt, _ in rows) <= _SMALL_SYSTEM:
        _propagate_small(rows, lo, hi)
    else:
        _propagate_arrays(rows, lo, hi)


def _propagate_arrays(
    rows: list[tuple[list[tuple[int, int]], int]], lo: dict[int, float], hi: dict[int, float]
) -> None:
    """:func:`_propagate` with numpy, for large systems."""
    names = list(lo)
    index = {v: i for i, v in enumerate(names)}
    row_of = np.fromiter((r for r, (tt, _) in enumerate(rows) for _ in tt), dtype=np.int64)
    var = np.fromiter((index[v] for tt, _ in rows for v, _ in tt), dtype=np.int64)
    pos = np.fromiter((c > 0 for tt, _ in rows for _, c in tt), dtype=bool)
    rhs = np.array([r for _, r in rows], dtype=float)[row_of]
    low = np.array([lo[v] for v in names], dtype=float)
    high = np.array([hi[v] for v in names], dtype=float)
    n_rows = len(rows)

    def row_sum(x: np.ndarray) -> np.ndarray:
        return np.bincount(row_of, weights=x, minlength=n_rows)[row_of]

    for _ in range(_PROPAGATION_ROUNDS):
        # each term's range: c·x for c = +1 is [lo, hi], for c = -1 it is [-hi, -lo]
        t_low = np.where(pos, low[var], -high[var])
        t_high = np.where(pos, high[var], -low[var])
        low_inf, high_inf = np.isneginf(t_low), np.isposinf(t_high)
        low_fin = np.where(low_inf, 0.0, t_low)
        high_fin = np.where(high_inf, 0.0, t_high)
        # the other terms' range (infinite if any other term is unbounded that way)
        o_low = np.where(row_sum(low_inf) - low_inf > 0, -np.inf, row_sum(low_fin) - low_fin)
        o_high = np.where(row_sum(high_inf) - high_inf > 0, np.inf, row_sum(high_fin) - high_fin)
        a, b = rhs - o_high, rhs - o_low  # c·x = rhs − others
        new_low, new_high = low.copy(), high.copy()
        np.maximum.at(new_low, var, np.ceil(np.where(pos, a, -b)))
        np.minimum.at(new_high, var, np.floor(np.where(pos, b, -a)))
        if np.array_equal(new_low, low) and np.array_equal(new_high, high):
            break
        low, high = new_low, new_high
    for i, v in enumerate(names):
        lo[v], hi[v] = float(low[i]), float(high[i])


def _ceil(x: float) -> float:
    return float(math.ceil(x)) if math.isfinite(x) else x


def _floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x


def _propagate_small(
    rows: list[tuple[list[tuple[int, int]], int]], lo: dict[int, float], hi: dict[int, float]
) -> None:
    """:func:`_propagate` in plain Python, for the small systems the audit mostly meets (numpy's
    per-call cost dominates there): the same simultaneous sweeps, cap and float arithmetic, so
    the same bounds."""
    low = {v: float(x) for v, x in lo.items()}
    high = {v: float(x) for v, x in hi.items()}
    for _ in range(_PROPAGATION_ROUNDS):
        new_low, new_high = dict(low), dict(high)
        for tt, rhs in rows:
            # each term's range: c·x for c = +1 is [lo, hi], for c = -1 it is [-hi, -lo]
            ranges = [(low[v], high[v]) if c > 0 else (-high[v], -low[v]) for v, c in tt]
            low_inf = high_inf = 0
            low_sum = high_sum = 0.0
            for tl, th in ranges:
                if tl == -_INF:
                    low_inf += 1
                else:
                    low_sum += tl
                if th == _INF:
                    high_inf += 1
                else:
                    high_sum += th
            for (v, c), (tl, th) in zip(tt, ranges, strict=True):
                # the other terms' range (infinite if any other term is unbounded that way)
                if tl == -_INF:
                    o_low = -_INF if low_inf > 1 else low_sum
                else:
                    o_low = -_INF if low_inf else low_sum - tl
                if th == _INF:
                    o_high = _INF if high_inf > 1 else high_sum
                else:
                    o_high = _INF if high_inf else high_sum - th
                a, b = rhs - o_high, rhs - o_low  # c·x = rhs − others
                x, y = (_ceil(a), _floor(b)) if c > 0 else (_ceil(-b), _floor(-a))
                if x > new_low[v]:
                    new_low[v] = x
                if y < new_high[v]:
                    new_high[v] = y
        if new_low == low and new_high == high:
            break
        low, high = new_low, new_high
    for v in lo:
        lo[v], hi[v] = low[v], high[v]


def _render(
    cells: pl.DataFrame,
    keys: tuple[str, ...],
    labels: tuple[str, ...],
    n_column: str,
    st: _State,
) -> pl.DataFrame:
    hidden = pl.Series(SUPPRESSED, st.hidden, dtype=pl.Boolean)
    reason = pl.Series(REASON, st.reason, dtype=pl.String)
    t = pl.Series("__t", st.threshold, dtype=pl.Int64)
    out = cells.drop([c for c in META_COLUMNS if c in cells.columns])
    values = [c for c in out.columns if c not in keys and c not in labels]
    # small and protecting cells read alike: the reader's reason, note and mark
    out = out.with_columns(
        hidden,
        pl.when(reason.is_in([PRIMARY, COMPLEMENTARY])).then(pl.lit(PRIVACY))
        .otherwise(reason).alias(REASON),
        t,
    )
    blank = pl.col(SUPPRESSED)

    def note(lang: int) -> pl.Expr:
        expr = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
        for reason_, texts in _NOTES.items():
            text = (pl.format(texts[lang], pl.col("__t")) if "{}" in texts[lang]
                    else pl.lit(texts[lang]))
            expr = expr.when(pl.col(REASON) == reason_).then(text)
        return expr.otherwise(pl.lit(None, dtype=pl.String))

    return out.with_columns(
        *[pl.when(blank).then(None).otherwise(pl.col(c)).alias(c) for c in values],
        pl.when(~blank)
        .then(pl.col(n_column).cast(pl.String))
        .otherwise(pl.lit(HIDDEN_MARK))
        .alias(N_DISPLAY),
        note(0).alias(NOTE_NB),
        note(1).alias(NOTE_EN),
    ).drop("__t")


# --------------------------------------------------------------------------------------------
# Guards for output paths and their tests


def assert_no_hidden_numbers(
    frame: pl.DataFrame, *, keys: Sequence[str], labels: Sequence[str] = ()
) -> None:
    """Raise AssertionError if a suppressed row carries any number (or the frame never went
    through :func:`suppress`)."""
    missing = [c for c in (SUPPRESSED, N_DISPLAY) if c not in frame.columns]
    if missing:
        raise AssertionError(f"frame was not suppressed: no column(s) {missing}")
    keep = set(keys) | set(labels) | set(META_COLUMNS)
    values = [c for c in frame.columns if c not in keep]
    hidden = frame.filter(pl.col(SUPPRESSED).fill_null(True))
    for col in values:
        leak = hidden.filter(pl.col(col).is_not_null())
        if leak.height:
            raise AssertionError(
                f"suppressed cell {_describe(leak, 0, keys)} shows '{col}' = {leak[col][0]!r}"
            )
    bad = [s for s in hidden[N_DISPLAY].to_list() if s != HIDDEN_MARK]
    if bad:
        raise AssertionError(
            f"suppressed cells show n as {bad[:3]!r}, expected {HIDDEN_MARK!r} (one mark for "
            "every hidden cell)"
        )


def assert_matches_suppressed(
    shown: pl.DataFrame,
    suppressed: pl.DataFrame,
    *,
    keys: Sequence[str],
    columns: Sequence[str] | None = None,
) -> None:
    """Raise AssertionError unless every number ``shown`` (an export, chart data) is a visible
    number of the engine's result: hidden cells must be blank or absent there."""
    keys = list(keys)
    cols = list(columns) if columns is not None else [
        c for c in shown.columns if c not in keys and c not in META_COLUMNS
    ]
    ref = suppressed.select(*keys, SUPPRESSED, *[pl.col(c).alias(f"{c}__ref") for c in cols])
    joined = shown.select(*keys, *cols).join(ref, on=keys, how="left", nulls_equal=True)
    unknown = joined.filter(pl.col(SUPPRESSED).is_null())
    if unknown.height:
        raise AssertionError(f"cell {_describe(unknown, 0, keys)} is not in the suppressed result")
    for c in cols:
        bad = joined.filter(
            pl.col(c).is_not_null()
            & (pl.col(SUPPRESSED) | pl.col(f"{c}__ref").is_null()
               | (pl.col(c) != pl.col(f"{c}__ref")).fill_null(True))
        )
        if bad.height:
            raise AssertionError(
                f"cell {_describe(bad, 0, keys)} shows '{c}' = {bad[c][0]!r}, which the "
                "suppression engine did not release"
            )
