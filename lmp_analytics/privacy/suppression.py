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
import warnings
from collections.abc import Iterator, Mapping, Sequence

import polars as pl

from lmp_analytics import config
from lmp_analytics.privacy.audit import Audit
from lmp_analytics.privacy.declarations import (
    CELL,
    COMPLEMENTARY,
    DERIVED,
    HIDDEN_MARK,
    HIERARCHY_DIMENSIONS,
    META_COLUMNS,
    N_DISPLAY,
    NOTE_EN,
    NOTE_NB,
    PRIMARY,
    PRIVACY,
    REASON,
    SOURCE,
    SUPPRESSED,
    Change,
    Linkage,
    SuppressionError,
    SuppressionWarning,
    describe,
    margins,
)
from lmp_analytics.privacy.equations import (
    Eq,
    State,
    build_equations,
    change_pairs,
    line_rule,
    one_unknown_rule,
    open_equations,
)
from lmp_analytics.privacy.notes import render

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
    "margins",
    "suppress",
    "suppress_cube",
]


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
        pl.int_range(pl.len(), dtype=pl.UInt32).alias(CELL),
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
            f"'{n_column}' is negative in the cell {describe(negative, 0, keys)}"
        )

    st = State(
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

    members, eqs = build_equations(base, linkages, keys)
    pairs = change_pairs(base, changes, keys)
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
            where = ", ".join(describe(base, c, keys) for c in cells_) or "unpublished residuals"
            warnings.warn(
                f"suppression: {len(found)} hidden respondent count(s) {why}: {where}",
                SuppressionWarning,
                stacklevel=3,
            )
    return render(cells, keys, labels, n_column, st)


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
        raise SuppressionError(f"two cells share the keys {describe(first, 0, keys)}")


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


def _protect(
    members: pl.DataFrame, eqs: dict[int, Eq], pairs: list[tuple[int, int, int]], st: State
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
    audit = Audit(eqs, pairs, st, eqs_of_cell)
    while True:
        one_unknown_rule(members, phantom, st)
        if line_rule(members, st):
            continue
        if not audit.run(open_equations(members, phantom, st)):
            return
