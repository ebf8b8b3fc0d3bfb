"""The public, role-scoped and suppressed API. Every output path (CLI, dashboard, exports,
reports, notebook helpers that make published tables) reads numbers through these functions.

Each function opens a short-lived read-only connection to the published warehouse
(``warehouse`` argument, else ``LMP_WAREHOUSE``, else the default), reads the cells suppressed
once (:mod:`lmp_analytics.publication`) and cuts the result to the role's scope. A reader
stricter than the warehouse's threshold (``LMP_MIN_N`` or ``min_n=`` above the recorded
``min_n``, :func:`threshold`) reads instead the publication suppressed again by the engine at its
threshold (:func:`lmp_analytics.publication.stricter_publication`), in every function here.
Roles: ``program`` (all schools, aggregated), ``kommune:<kommunenummer>``,
``veileder:<orgnr,...>`` (assigned schools) and ``forsker`` (also group level). Group (class)
results only ever reach ``forsker``. A suppressed cell keeps its keys, has every number empty and
``suppressed`` true.

Columns of :func:`indicators` (stable, documented in the README): level, kommunenummer,
skole_orgnr, skole, gruppe, rolle, pulje, term, round, versjon, indicator, kind, breakdown,
breakdown_value, n, n_display, count, share, ci_low, ci_high, mean, sd, mean_ci_low,
mean_ci_high, n_schools, ci_method, few_clusters, suppressed, suppression_reason,
suppression_note_nb, suppression_note_en. Shares are fractions (0-1).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import duckdb
import polars as pl

from lmp_analytics.evaluation.school_change import (
    CHANGE_SCHEMA,
    consecutive_round_changes,
    phase_changes,
)
from lmp_analytics.metrics import nominations
from lmp_analytics.metrics.indicators import indicator_table
from lmp_analytics.metrics.nominations import NO_FRIEND
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.privacy.derived import Level, suppress_derived
from lmp_analytics.privacy.roles import Role
from lmp_analytics.privacy.scope import Surface, as_role, scope
from lmp_analytics.privacy.suppression import META_COLUMNS, Linkage, suppress
from lmp_analytics.publication import (
    CELL_KEYS,
    CELL_LABELS,
    PUBLICATION_TABLE,
    breakdown_linkages,
    stricter_publication,
)
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.meta import applied_min_n, read_min_n, reader_min_n
from lmp_analytics.warehouse.queries import named

# A warehouse path (None: $LMP_WAREHOUSE or the default), or an open read connection to reuse.
WarehouseArg = str | os.PathLike[str] | duckdb.DuckDBPyConnection | None

INDICATOR_COLUMNS = [
    "level", "kommunenummer", "skole_orgnr", "skole", "gruppe", "rolle", "pulje", "term",
    "round", "versjon", "indicator", "kind", "breakdown", "breakdown_value", "n", "n_display",
    "count", "share", "ci_low", "ci_high", "mean", "sd", "mean_ci_low", "mean_ci_high",
    "n_schools", "ci_method", "few_clusters", "suppressed", "suppression_reason",
    "suppression_note_nb", "suppression_note_en",
]
COMPARE_COLUMNS = [
    "kommunenummer", "skole_orgnr", "skole", "rolle", "phase", "indicator", "kind",
    "pre_round", "pre_term", "post_round", "post_term", "pre_n", "post_n", "linked_n",
    "pre_value", "post_value", "diff_pp", "diff_mean", "diff_ci_low", "diff_ci_high", "p_value",
    "p_adjusted", "test", "tested", "verdict", "linked_diff", "linked_ci_low", "linked_ci_high",
    "linked_p_value", "rtm_warning", "suppressed", "suppression_reason",
]


def indicators(
    level: str = "skole",
    *,
    indicator: str | Sequence[str] | None = "mobbet",
    by: str | None = None,
    role: str | Role | None = "program",
    warehouse: WarehouseArg = None,
    min_n: int | None = None,
    schools: Sequence[str] | None = None,
    surface: Surface = "cli",
) -> pl.DataFrame:
    """Indicator cells at one level (gruppe | skole | kommune | pulje | program), suppressed and
    scoped to ``role``. ``by``: None, 'trinn' or 'kjonn'. ``indicator`` None = every indicator.
    ``schools`` (gruppe and skole level): only those schools' cells (scope still applies).
    ``min_n``: the threshold to apply, at least the warehouse's (None: :func:`threshold`).
    ``surface``: where the cells are shown (:func:`lmp_analytics.privacy.scope.scope`, the
    one role scope, applied once as the last step). ``indicator='uten_venn'`` (alone, level
    ``gruppe``) is the researcher-only :func:`no_friend_share`.

    Only the cells asked for leave the warehouse: level, breakdown, indicators and schools are
    filters of the query, so the rows are exactly those of filtering every published cell of
    the level afterwards, in the same order."""
    r = as_role(role)
    wanted = None if indicator is None else (
        [indicator] if isinstance(indicator, str) else list(indicator))
    if wanted is not None and NO_FRIEND in wanted:  # the researcher-only nomination indicator
        if len(wanted) > 1 or level != "gruppe" or by is not None:
            raise refusal(ValueError, "no_friend_alone", name=repr(NO_FRIEND))
        return no_friend_share(role=r, warehouse=warehouse, min_n=min_n, schools=schools,
                               surface=surface)
    if level == "gruppe" and not r.may_see_groups(dashboard=surface == "dashboard"):
        raise refusal(PermissionError, "groups_forsker_only")
    breakdown = by or "alle"
    if by is not None and level not in ("gruppe", "skole"):
        raise ValueError(
            f"breakdowns by {by} are published for schools (and groups) only, not at level "
            f"{level!r}: sums of the schools' breakdowns would force hiding school totals"
        )
    if schools is not None and level not in ("gruppe", "skole"):
        raise ValueError(f"schools= selects school or group cells, not level {level!r}")
    with reading(warehouse) as con:
        limit = read_min_n(con, min_n)
        if level == "gruppe":
            out = _group_cells(con, wanted or _indicator_ids(con), limit)
            level_has_cells = out.height > 0
            if level_has_cells:
                out = out.filter(pl.col("breakdown") == breakdown)
                if schools is not None:
                    out = out.filter(pl.col("skole_orgnr").is_in(list(schools)))
        else:
            # the role narrows the query (its kommune or schools); scope() below still applies
            out = published_cells(con, level=level, indicators=wanted, breakdown=breakdown,
                                  schools=schools, role=r, min_n=limit)
            level_has_cells = out.height > 0 or (
                out.width > 0 and _published_any(con, level, wanted))
    if not level_has_cells:  # nothing published at this level: an all-text empty frame
        return pl.DataFrame(schema={c: pl.String for c in INDICATOR_COLUMNS})
    return scope(out, r, surface).select(INDICATOR_COLUMNS)


def no_friend_share(
    *,
    role: str | Role | None = "forsker",
    warehouse: WarehouseArg = None,
    min_n: int | None = None,
    schools: Sequence[str] | None = None,
    surface: Surface = "cli",
) -> pl.DataFrame:
    """The researcher-only indicator ``uten_venn``: per class of each round that asked the friend
    nomination, the share of pupils whom no classmate named (``count`` of ``n``), in the columns
    of :func:`indicators` (level ``gruppe``, no interval). Counts only, suppressed by the one
    engine at the reader's threshold (:func:`lmp_analytics.metrics.nominations.no_friend_share`);
    no pseudonym or nomination ever leaves the warehouse. Any role but ``forsker``, and every
    dashboard, is refused with a PermissionError."""
    r = as_role(role)
    if not r.may_see_groups(dashboard=surface == "dashboard"):
        raise refusal(PermissionError, "no_friend_role", name=repr(NO_FRIEND), role=r)
    with reading(warehouse) as con:
        cells = nominations.no_friend_share(con, role=r, min_n=read_min_n(con, min_n))
        places = con.sql(named("reads", "schools")).pl()
    if schools is not None:
        cells = cells.filter(pl.col("skole_orgnr").is_in(list(schools)))
    if not cells.height:
        return pl.DataFrame(schema={c: pl.String for c in INDICATOR_COLUMNS})
    out = cells.join(places.select("skole_orgnr", "skole", "kommunenummer", "rolle", "pulje"),
                     on="skole_orgnr", how="left").with_columns(
        pl.lit("gruppe").alias("level"), pl.lit("share").alias("kind"),
        pl.lit("alle").alias("breakdown"), pl.lit("alle").alias("breakdown_value"))
    missing = [c for c in INDICATOR_COLUMNS if c not in out.columns]
    out = out.with_columns(pl.lit(None).alias(c) for c in missing)
    return scope(out, r, surface).select(INDICATOR_COLUMNS)


def threshold(warehouse: WarehouseArg = None) -> int:
    """The suppression threshold this reader applies: the warehouse's recorded ``min_n`` (the
    one its publication was suppressed with), or a stricter ``LMP_MIN_N`` (then every cell read
    here is suppressed again at it). A weaker ``LMP_MIN_N`` is ignored with a warning
    (:mod:`lmp_analytics.warehouse.meta`)."""
    with reading(warehouse) as con:
        return reader_min_n(con)


def _has_publication(con) -> bool:
    return bool(con.sql(named("reads", "table_exists"), params=[PUBLICATION_TABLE]
                        ).fetchall()[0][0])


def _stricter_cells(con, min_n: int, indicators: Sequence[str] | None) -> pl.DataFrame:
    """The publication rows of ``indicators`` (None: all) suppressed again at ``min_n`` (above
    the warehouse's threshold), with the stored table's columns and types."""
    cells = stricter_publication(con, min_n, indicators)
    stored = con.sql(f"SELECT * FROM {PUBLICATION_TABLE} LIMIT 0").pl().schema
    if cells.width == 0:
        return pl.DataFrame(schema=stored)
    if set(cells.columns) != set(stored):
        return cells
    return cells.select(list(stored)).cast(dict(stored))


def published_cells(
    con,
    *,
    level: str | None = None,
    indicators: Sequence[str] | None = None,
    breakdown: str | None = None,
    schools: Sequence[str] | None = None,
    role: str | Role | None = None,
    min_n: int | None = None,
) -> pl.DataFrame:
    """Rows of the stored publication (already suppressed at ingest) in stored order, filtered
    in the query by level, indicators, breakdown and schools (None = any). ``role`` narrows a
    kommune or veileder role's rows to its scope in the query (aggregates above municipality
    level always pass); the rows are still not scoped for showing: call
    :func:`lmp_analytics.privacy.scope.scope` before showing them. No publication table: an
    empty frame without columns.

    ``min_n`` (None: :func:`threshold`) above the warehouse's threshold: the same rows of the
    publication suppressed again by the engine at ``min_n`` instead (the order of a full
    build), so a stricter reader sees no cell, and no line remainder, below its threshold."""
    if not _has_publication(con):
        return pl.DataFrame()
    limit = read_min_n(con, min_n)
    r = None if role is None else as_role(role)
    kommuner = sorted(r.kommuner) if r is not None and r.kind == "kommune" else None
    own = sorted(r.schools) if r is not None and r.kind == "veileder" else None
    if limit > applied_min_n(con):
        return _stricter_cells(con, limit, indicators or None).filter(_row_filter(
            level, breakdown, indicators, schools, kommuner, own))
    params = [level, breakdown, list(indicators) if indicators else None,
              None if schools is None else list(schools), kommuner, own]
    return con.sql(named("cells", "published_cells"), params=params).pl()


def _row_filter(level, breakdown, indicators, schools, kommuner, own) -> pl.Expr:
    """The ``published_cells`` query's filters (cells.sql) as one polars expression."""
    above = pl.col("skole_orgnr").is_null() & pl.col("kommunenummer").is_null()
    keep = pl.lit(True)
    if level is not None:
        keep &= pl.col("level") == level
    if breakdown is not None:
        keep &= pl.col("breakdown") == breakdown
    if indicators:
        keep &= pl.col("indicator").is_in(list(indicators))
    if schools is not None:
        keep &= pl.col("skole_orgnr").is_in(list(schools))
    if kommuner is not None:
        keep &= pl.col("kommunenummer").is_in(kommuner) | above
    if own is not None:
        keep &= pl.col("skole_orgnr").is_in(own) | above
    return keep.fill_null(False)


def _published_any(con, level: str, indicators: Sequence[str] | None) -> bool:
    """Whether the publication has cells of ``level`` (and ``indicators``, None = any)."""
    return bool(con.sql(named("cells", "published_any"),
                        params=[level, list(indicators) if indicators else None]
                        ).fetchall()[0][0])


#: A school round's cell is the sum of its groups' cells (same breakdown value).
GROUPS_IN_SCHOOL = Linkage(
    ("skole_orgnr", "round", "rolle", "term", "indicator", "breakdown", "breakdown_value"),
    pl.col("level") == "skole", pl.col("level") == "gruppe", "gruppe->skole",
)


def _group_cells(con, indicator_ids: Sequence[str], min_n: int) -> pl.DataFrame:
    """Group level for researchers: the breakdown sums within a group, and the groups of a
    school round summed to its published school cells, which stay as published for a reader
    of threshold ``min_n`` (the engine hides group cells around them, so no school total minus
    visible groups is a small group)."""
    published = published_cells(con, level="skole", indicators=list(indicator_ids), min_n=min_n)
    frames = []
    for ind in indicator_ids:
        cells = pl.concat([indicator_table(con, "gruppe", indicator=ind, by=b)
                           for b in (None, "trinn", "kjonn")], how="vertical_relaxed")
        if not cells.height:
            continue
        linkages = breakdown_linkages()
        if published.height:
            schools = published.filter(pl.col("indicator") == ind)
            cells = pl.concat([cells, schools.select(
                [c for c in schools.columns if c in cells.columns or c in META_COLUMNS])],
                how="diagonal_relaxed")
            linkages.append(GROUPS_IN_SCHOOL)
        out = suppress(cells, keys=CELL_KEYS, linkages=linkages, min_n=min_n,
                       labels=CELL_LABELS, fixed=pl.col("level") == "skole")
        frames.append(out.filter(pl.col("level") == "gruppe"))
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()


def _indicator_ids(con) -> list[str]:
    return [row[0] for row in con.sql(
        "SELECT DISTINCT indicator FROM mart_indicator_counts ORDER BY indicator"
    ).fetchall()]


def hidden_school_cells(con, min_n: int,
                        indicators: Sequence[str] | None = None) -> pl.DataFrame:
    """The (``round``, ``skole_orgnr``) pairs of which the publication a reader of threshold
    ``min_n`` sees hides the school cell (all pupils) of any of ``indicators`` (None: any
    indicator). Read from the stored publication's flags at the warehouse's own threshold, and
    from :func:`published_cells` (suppressed again) for a stricter reader."""
    schema = {"round": pl.String, "skole_orgnr": pl.String}
    if not _has_publication(con):
        return pl.DataFrame(schema=schema)
    if min_n > applied_min_n(con):
        cells = published_cells(con, level="skole", indicators=indicators, breakdown="alle",
                                min_n=min_n)
        if cells.height == 0:
            return pl.DataFrame(schema=schema)
        return (cells.filter(pl.col("suppressed").fill_null(True))
                .select("round", "skole_orgnr").unique().sort("round", "skole_orgnr"))
    params = [list(indicators) if indicators else None]
    return con.sql(named("cells", "hidden_school_cells"), params=params).pl().cast(schema)


def _hidden_rounds(con, indicator: str, min_n: int) -> set[str]:
    """Rounds whose school cell (all pupils) of ``indicator`` is hidden in the publication a
    reader of threshold ``min_n`` sees."""
    return set(hidden_school_cells(con, min_n, [indicator])["round"].to_list())


def compare(
    *,
    indicator: str = "mobbet",
    phase: str | int | None = None,
    role: str | Role | None = "program",
    warehouse: WarehouseArg = None,
    min_n: int | None = None,
    schools: Sequence[str] | None = None,
    surface: Surface = "cli",
    post_rounds: Sequence[str] | None = None,
    latest: bool = False,
) -> pl.DataFrame:
    """Per-school change before/after each phase (``phase`` 1-4 or 'program'), or between
    consecutive rounds (``phase='runde'``), scoped and suppressed (COMPARE_COLUMNS).

    A change is hidden when the pre or post round's school cell is hidden in the indicator's
    publication (a visible change then adds nothing a reader could subtract); the same-pupils
    view is hidden when fewer than ``min_n`` pupils are linked. ``schools`` limits the work to
    those schools (scope still applies); Benjamini-Hochberg then runs within that family.
    ``min_n``: the threshold to apply, at least the warehouse's (None: :func:`threshold`).
    ``surface``: where the changes are shown (the role scope, applied once).

    ``post_rounds`` keeps only the changes into those rounds, ``latest`` only each school's
    change into its latest round (by term): for a reader that needs no more (the attention list,
    the alerts). Both cuts, and the role scope, are made after Benjamini-Hochberg (so its family
    and every figure are those of the uncut call) and before the suppression, which decides each
    change from its own pre and post cells alone; a kept row is the uncut call's row.
    """
    r = as_role(role)
    wanted = None if schools is None else list(schools)
    with reading(warehouse) as con:
        threshold = read_min_n(con, min_n)
        if str(phase) == "runde":
            changes = consecutive_round_changes(con, indicator=indicator, min_n=threshold,
                                                schools=wanted)
        else:
            changes = phase_changes(con, indicator=indicator, phase=phase, min_n=threshold,
                                    schools=wanted)
        hidden = _hidden_rounds(con, indicator, threshold)
    changes = scope(changes, r, surface)
    if post_rounds is not None:
        changes = changes.filter(pl.col("post_round").is_in(list(post_rounds)))
    if latest:
        from lmp_analytics.terms import term_order

        changes = (changes.filter(pl.col("post_round").is_not_null())
                   .sort("skole_orgnr", term_order("post_term"), "post_round")
                   .group_by("skole_orgnr", maintain_order=True).last())
    return _suppress_changes(changes, hidden, threshold).select(COMPARE_COLUMNS)


def _suppress_changes(changes: pl.DataFrame, hidden: set[str], threshold: int) -> pl.DataFrame:
    """The changes through the engine's change rule (:func:`suppress_derived`): a change is
    hidden when its pre or post round's school cell is hidden in the publication the reader
    sees, or has fewer than ``threshold`` respondents; the same-pupils view also when fewer
    than ``threshold`` pupils are linked."""
    def level(side: str, n: str) -> Level:
        return Level(side, pl.col(n), pl.col(f"{side}_round").is_in(sorted(hidden))
                     | pl.col(f"{side}_round").is_null())

    pre, post = level("pre", "pre_n"), level("post", "post_n")
    linked_pre = Level("linked_pre", pl.col("linked_n"), pre.hidden)
    linked_post = Level("linked_post", pl.col("linked_n"), post.hidden)
    linked = ["linked_diff", "linked_ci_low", "linked_ci_high", "linked_p_value"]
    numbers = [c for c, t in CHANGE_SCHEMA.items() if t in (pl.Float64, pl.Int64)
               and c not in linked]
    out = suppress_derived(changes, {
        "change": ([*numbers, "verdict"], [(pre, post)]),
        "linked": (linked, [(pre, post), (linked_pre, linked_post)]),
    }, min_n=threshold)
    return out.rename({"change_suppressed": "suppressed",
                       "change_suppression_reason": "suppression_reason"}).with_columns(
        pl.when(pl.col("kind") == "share").then(pl.col("diff")).alias("diff_pp"),
        pl.when(pl.col("kind") == "scale").then(pl.col("diff")).alias("diff_mean"),
        pl.lit("skole").alias("level"),
    )


def pre_programme_rounds(*, role: str | Role | None = "program",
                         warehouse: WarehouseArg = None) -> int:
    """How many of the role's participating schools have a Spekter round in a term before their
    phase-1 term. Spekter is introduced in phase 1, so on real data this is usually 0: then the
    'before' round of phase 1 (and of the whole programme) is taken weeks into the programme,
    the Spekter changes describe development during the programme and not its effect, and the
    outputs say so (``caveat.no_before``; for the effect see
    :mod:`lmp_analytics.evaluation.national_designs`). A count of schools, not a statistic of
    pupils: it is shown to no one, it only decides the note."""
    from lmp_analytics.terms import term_order

    r = as_role(role)
    with reading(warehouse) as con:
        calendar = con.sql(named("reads", "phase_calendar")).pl()
        rounds = con.sql("SELECT DISTINCT skole_orgnr, term FROM dim_round").pl()
    first = calendar.filter(pl.col("fase") == 1)
    # No Python callback inside a polars expression here: the dashboard's warm-up calls this in
    # a thread beside the page runs, and a polars UDF running while another thread converts a
    # frame (to_pandas) deadlocks both (pola-rs/polars#26821, #27396).
    mine = [r.includes_school(o, k) for o, k in first.select("skole_orgnr",
                                                             "kommunenummer").rows()]
    first = first.filter(pl.Series(mine, dtype=pl.Boolean))
    if first.height == 0 or rounds.height == 0:
        return 0
    joined = rounds.join(first.select("skole_orgnr", "termin"), on="skole_orgnr")
    early = joined.filter(term_order("term") < term_order("termin"))
    return early["skole_orgnr"].n_unique()
