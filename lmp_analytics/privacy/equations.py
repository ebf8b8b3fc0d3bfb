"""The declared sums as equations, the change pairs, and the quick rules the engine runs to a
fixed point: one unknown in a sum, and whole lines (no small group left as total minus
visible parts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from lmp_analytics.privacy.declarations import (
    CELL,
    COMPLEMENTARY,
    Change,
    Linkage,
    SuppressionError,
    describe,
)


@dataclass(slots=True)
class Eq:
    """One declared sum: members (cell, is_total), whether an unpublished residual (total minus
    parts) exists and whether it is below the threshold, and the total's threshold."""

    members: list[tuple[int, bool]]
    residual: bool
    sensitive: bool
    threshold: int
    residual_known: bool = True


@dataclass
class State:
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


def build_equations(
    base: pl.DataFrame, linkages: Sequence[Linkage], keys: tuple[str, ...]
) -> tuple[pl.DataFrame, dict[int, Eq]]:
    """Membership rows (eq, cell, is_total, n, order) and per-equation residual facts."""
    levels = base.filter(~pl.col("__change"))
    frames = []
    offset = 0
    for lk in linkages:
        group = pl.struct(list(lk.on)).rank("dense") if lk.on else pl.lit(1, dtype=pl.UInt32)
        sel = levels.select(
            pl.col(CELL),
            group.cast(pl.Int64).alias("__g"),
            lk.total.fill_null(False).alias("__is_total"),
            lk.parts.fill_null(False).alias("__is_part"),
        ).filter(pl.col("__is_total") | pl.col("__is_part"))
        both = sel.filter(pl.col("__is_total") & pl.col("__is_part"))
        if both.height:
            cell = int(both[CELL][0])
            raise SuppressionError(
                f"linkage '{lk.name}': the cell {describe(base, cell, keys)} is both total "
                "and part"
            )
        stats = sel.group_by("__g").agg(
            pl.col("__is_total").sum().alias("__totals"), pl.col("__is_part").sum().alias("__parts")
        )
        multi = stats.filter(pl.col("__totals") > 1)
        if multi.height:
            cell = int(
                sel.filter(pl.col("__g") == multi["__g"][0], pl.col("__is_total"))[CELL][0]
            )
            raise SuppressionError(
                f"linkage '{lk.name}': more than one total in the set of "
                f"{describe(base, cell, keys)}"
            )
        kept = (
            stats.filter((pl.col("__totals") == 1) & (pl.col("__parts") >= 1))
            .sort("__g")
            .with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + offset).alias("eq"))
        )
        offset += kept.height
        frames.append(
            sel.join(kept.select("__g", "eq"), on="__g").select(
                "eq", pl.col(CELL).alias("cell"), pl.col("__is_total").alias("is_total")
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
                pl.col(CELL).alias("cell"), pl.col("__n").alias("n"),
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
    eqs: dict[int, Eq] = {}
    for eq, total, t, r, cells_, is_total in info.iter_rows():
        if r is not None and r < 0:
            raise SuppressionError(
                f"the parts add up to more than their total {describe(base, total, keys)} "
                f"(total minus parts = {r} respondents): a linkage double-counts"
            )
        # an n hidden upstream leaves the residual unknown: count it as an unknown, not as 0
        eqs[eq] = Eq(
            members=list(zip(cells_, is_total, strict=True)),
            residual=r is None or r > 0,
            sensitive=r is not None and 0 < r < t,
            threshold=t,
            residual_known=r is not None,
        )
    return members, eqs


def change_pairs(
    base: pl.DataFrame, changes: Sequence[Change], keys: tuple[str, ...]
) -> list[tuple[int, int, int]]:
    """(change cell, before cell, after cell) for every change row."""
    pairs: list[tuple[int, int, int]] = []
    for ch in changes:
        on = list(ch.on) if ch.on is not None else [k for k in keys if k != ch.column]
        dtype = base.schema[ch.column]
        levels = base.filter(~pl.col("__change")).select(*on, ch.column, CELL)
        rows = base.filter(pl.col(ch.column) == ch.label).select(
            *on,
            CELL,
            (pl.lit(ch.before) if ch.before is not None else pl.col(ch.before_column))
            .cast(dtype)
            .alias("__before"),
            (pl.lit(ch.after) if ch.after is not None else pl.col(ch.after_column))
            .cast(dtype)
            .alias("__after"),
        )
        for side in ("__before", "__after"):
            rows = rows.join(
                levels.rename({ch.column: side, CELL: side + "_cell"}),
                on=[*on, side],
                how="left",
                nulls_equal=True,
            )
        missing = rows.filter(pl.col("__before_cell").is_null() | pl.col("__after_cell").is_null())
        if missing.height:
            cell = int(missing[CELL][0])
            raise SuppressionError(
                f"change row {describe(base, cell, keys)} has no matching before/after level row"
            )
        pairs += [
            (int(c), int(b), int(a))
            for c, b, a in rows.select(CELL, "__before_cell", "__after_cell").iter_rows()
        ]
    return pairs


def _with_hidden(members: pl.DataFrame, st: State) -> pl.DataFrame:
    return members.with_columns(h=pl.Series(st.hidden, dtype=pl.Boolean).gather(members["cell"]))


def one_unknown_rule(members: pl.DataFrame, phantom: pl.DataFrame, st: State) -> None:
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


def line_rule(members: pl.DataFrame, st: State) -> bool:
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


def open_equations(members: pl.DataFrame, phantom: pl.DataFrame, st: State) -> list[int]:
    return (
        _with_hidden(members, st)
        .group_by("eq")
        .agg(pl.col("h").sum().alias("nh"))
        .join(phantom, on="eq")
        .filter((pl.col("nh") >= 1) | pl.col("ph_sens"))
        .sort("eq")["eq"]
        .to_list()
    )
