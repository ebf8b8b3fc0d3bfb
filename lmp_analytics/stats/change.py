"""The headline change in a share between two rounds: all respondents, linked pupils as correlation.

Each round's share uses every respondent in that round. The N pupils answering in both rounds
(same pseudonym) make the two shares correlated; with φ* from the paired table (Newcombe 1998b),

    r = φ* · N / sqrt(n_pre · n_post),

and the MOVER interval (Zou & Donner 2008; Newcombe 2011) combines the two Wilson intervals:

    L = D − sqrt((p_post−l_post)² + (u_pre−p_pre)² − 2r(p_post−l_post)(u_pre−p_pre))
    U = D + sqrt((u_post−p_post)² + (p_pre−l_pre)² − 2r(u_post−p_post)(p_pre−l_pre)).

The p-value shown with the change is the interval's own (test id ``mover_inversion``): the
smallest α at which the (1 − α) MOVER interval reaches 0, found by bisection on z
(:func:`mover_p_values`). So p < 1 − conf exactly when the interval excludes 0, and the p-value,
the interval and the verdict (read off the interval) always agree. The same inversion of
Newcombe's paired interval gives the same-pupils p-value.

The overlap-corrected score z (partially overlapping samples, Derrick et al. 2015) remains
available as a separate test (:func:`overlap_score_test`) but is not what a change row shows:

    z = D / sqrt(p̄(1−p̄)(1/n_pre + 1/n_post) − 2·N·ĉ/(n_pre·n_post)),  ĉ = a/N − (a+b)(a+c)/N².

With N = 0 the interval is exactly Newcombe's (1998a) hybrid interval (the classical test: the
pooled score test, Boschloo when an expected cell is < 5); with every pupil linked it is
Newcombe's paired interval (classical test: McNemar's mid-p). Those tests can disagree with the
interval near the 5 % edge (p = 0.033 beside an interval that contains 0), which is why a change
row does not show them. Neither change is causal: composition, age and secular trend mix in,
and schools chosen for high bullying regress to the mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import polars as pl
from scipy import stats as sps

from lmp_analytics.stats._common import StatsInputError, check_conf, two_sided_normal_p
from lmp_analytics.stats.paired import (
    PairedTable,
    newcombe_paired_ci,
    phi_star,
    phi_star_arrays,
)
from lmp_analytics.stats.proportions import wilson_bounds
from lmp_analytics.stats.unlinked import DiffInterval, TestResult

__all__ = [
    "INVERSION_TEST",
    "OverlapCounts",
    "RiskDifferenceChange",
    "change_from_rounds",
    "linked_change",
    "mover_ci",
    "mover_p_values",
    "overlap_counts",
    "overlap_score_test",
    "overlap_wald_se",
    "risk_difference_change",
]

Count = tuple[int, int]

INVERSION_TEST = "mover_inversion"
"""Test id of the p-value obtained by inverting the MOVER (or Newcombe paired) interval."""

_Z_MAX = 38.0  # 2·Φ(−38) underflows to 0: beyond this the interval excludes 0 at every level
_BISECTIONS = 52  # z to 38/2⁵² ≈ 1e-14


@dataclass(frozen=True, slots=True)
class RiskDifferenceChange:
    """Before/after change in a share (post − pre), ready for a dashboard row.

    ``test`` is 'mover_inversion': ``p_value`` is the inverted interval itself, so
    ``p_value < 1 − conf`` exactly when the interval excludes 0 (see :func:`mover_p_values`).
    ``tested`` is False, and ``p_value`` None, when a round has fewer than ``min_n`` respondents
    (the same-pupils view: fewer than ``min_n`` linked pupils); such cells do not count in BH.
    ``correlation`` is the r used by MOVER (0 without linked pupils, φ* when all are linked).
    Shares, diff and the interval are None when a round has no respondents.
    """

    pre_n: int
    post_n: int
    linked_n: int
    pre_share: float | None
    post_share: float | None
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    test: str
    tested: bool
    correlation: float | None
    conf: float


class OverlapCounts(NamedTuple):
    """Counts behind a change: the linked paired table and the unlinked (x, n) of each round."""

    linked: PairedTable
    pre_unlinked: Count
    post_unlinked: Count


def _validate(linked: PairedTable, pre_unlinked: Count, post_unlinked: Count) -> OverlapCounts:
    t = PairedTable(*(int(v) for v in linked))
    if min(t) < 0:
        raise StatsInputError(f"paired table {tuple(t)}: cells must be >= 0")
    for name, (x, n) in (("pre_unlinked", pre_unlinked), ("post_unlinked", post_unlinked)):
        if n < 0 or x < 0 or x > n:
            raise StatsInputError(f"{name} = ({x}, {n}): expected 0 <= x <= n")
    return OverlapCounts(
        t,
        (int(pre_unlinked[0]), int(pre_unlinked[1])),
        (int(post_unlinked[0]), int(post_unlinked[1])),
    )


def _round_totals(c: OverlapCounts) -> tuple[int, int, int, int]:
    t = c.linked
    x_pre = t.a + t.b + c.pre_unlinked[0]
    n_pre = t.n + c.pre_unlinked[1]
    x_post = t.a + t.c + c.post_unlinked[0]
    n_post = t.n + c.post_unlinked[1]
    return x_pre, n_pre, x_post, n_post


def _overlap_correlation(c: OverlapCounts, n_pre: int, n_post: int) -> float:
    if c.linked.n == 0:
        return 0.0
    return phi_star(*c.linked) * c.linked.n / math.sqrt(n_pre * n_post)


def mover_ci(
    linked: PairedTable | tuple[int, int, int, int],
    pre_unlinked: Count = (0, 0),
    post_unlinked: Count = (0, 0),
    conf: float = 0.95,
) -> tuple[DiffInterval, float]:
    """MOVER interval for p_post − p_pre over all respondents; returns (interval, r)."""
    check_conf(conf)
    c = _validate(PairedTable(*linked), pre_unlinked, post_unlinked)
    x_pre, n_pre, x_post, n_post = _round_totals(c)
    if n_pre == 0 or n_post == 0:
        raise StatsInputError(f"n_pre = {n_pre}, n_post = {n_post}: both rounds need respondents")
    p_pre, p_post = x_pre / n_pre, x_post / n_post
    l_pre, u_pre = (float(v) for v in wilson_bounds(x_pre, n_pre, conf))
    l_post, u_post = (float(v) for v in wilson_bounds(x_post, n_post, conf))
    r = _overlap_correlation(c, n_pre, n_post)
    diff = p_post - p_pre
    down = (
        (p_post - l_post) ** 2 + (u_pre - p_pre) ** 2 - 2 * r * (p_post - l_post) * (u_pre - p_pre)
    )
    up = (u_post - p_post) ** 2 + (p_pre - l_pre) ** 2 - 2 * r * (u_post - p_post) * (p_pre - l_pre)
    low = max(-1.0, diff - math.sqrt(max(down, 0.0)))
    high = min(1.0, diff + math.sqrt(max(up, 0.0)))
    return DiffInterval(diff=diff, ci_low=low, ci_high=high), r


def mover_p_values(a, b, c, d, x_pre, n_pre, x_post, n_post) -> np.ndarray:
    """p-values that invert the MOVER interval of :func:`mover_ci`, element by element.

    Arrays of the linked table (a, b, c, d) and the round totals (x, n of every respondent,
    linked included). p = 2·Φ(−z*), where z* is the critical value at which the MOVER interval
    built from Wilson limits at z* just reaches 0 (bisection on z; the Wilson limits widen with
    z, so the crossing is unique). Hence p < α exactly when the (1 − α) interval excludes 0.
    p = 1 when the change is 0 and NaN when a round has no respondents. With a = b = c = d = 0
    this inverts Newcombe's hybrid interval; with every respondent linked, Newcombe's paired one.
    """
    a, b, c, d = (np.atleast_1d(np.asarray(v, dtype=np.int64)) for v in (a, b, c, d))
    x_pre, n_pre, x_post, n_post = (np.atleast_1d(np.asarray(v, dtype=float))
                                    for v in (x_pre, n_pre, x_post, n_post))
    big_n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p_pre, p_post = x_pre / n_pre, x_post / n_post
        r = np.where(big_n == 0, 0.0,
                     phi_star_arrays(a, b, c, d) * big_n / np.sqrt(n_pre * n_post))
    diff = p_post - p_pre
    up = diff > 0  # the lower limit must reach 0 from above; else the upper from below
    # The one rule of each limit's Wilson side that matters for that direction: up → the
    # post share's lower and the pre share's upper Wilson distances, down → the other two.
    x_a, n_a = np.where(up, x_post, x_pre), np.where(up, n_post, n_pre)  # lower Wilson limit
    x_b, n_b = np.where(up, x_pre, x_post), np.where(up, n_pre, n_post)  # upper Wilson limit
    q_a, q_b = x_a / n_a, x_b / n_b
    var_a = x_a * (n_a - x_a) / n_a
    var_b = x_b * (n_b - x_b) / n_b
    target = diff * diff

    def excludes_zero(z: np.ndarray) -> np.ndarray:
        z2 = z * z
        low_a = np.where(x_a == 0, 0.0, np.maximum(
            (x_a + z2 / 2) / (n_a + z2) - z / (n_a + z2) * np.sqrt(var_a + z2 / 4), 0.0))
        high_b = np.where(x_b == n_b, 1.0, np.minimum(
            (x_b + z2 / 2) / (n_b + z2) + z / (n_b + z2) * np.sqrt(var_b + z2 / 4), 1.0))
        e_a, e_b = q_a - low_a, high_b - q_b
        return e_a * e_a + e_b * e_b - 2 * r * e_a * e_b < target

    lo = np.zeros(len(a))
    hi = np.full(len(a), _Z_MAX)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(_BISECTIONS):
            mid = (lo + hi) / 2.0
            ex = excludes_zero(mid)
            lo = np.where(ex, mid, lo)
            hi = np.where(ex, hi, mid)
    p = 2.0 * sps.norm.sf(lo)
    p = np.where(diff == 0, 1.0, p)
    return np.where((n_pre > 0) & (n_post > 0), p, np.nan)


def overlap_wald_se(
    linked: PairedTable | tuple[int, int, int, int],
    pre_unlinked: Count = (0, 0),
    post_unlinked: Count = (0, 0),
) -> float:
    """Unpooled (Wald) SE of D with the overlap covariance.

    Var = p_pre(1−p_pre)/n_pre + p_post(1−p_post)/n_post − 2·Σ_pairs(y_pre−p_pre)(y_post−p_post)
    /(n_pre·n_post), centred on the round shares. This is exactly the pupil-clustered sandwich SE
    of the ``post`` coefficient in OLS ``y ~ post`` on stacked pupil-rows without small-sample
    correction (statsmodels ``use_correction=False``), i.e. GEE with independence working
    correlation.
    """
    c = _validate(PairedTable(*linked), pre_unlinked, post_unlinked)
    x_pre, n_pre, x_post, n_post = _round_totals(c)
    if n_pre == 0 or n_post == 0:
        raise StatsInputError(f"n_pre = {n_pre}, n_post = {n_post}: both rounds need respondents")
    p_pre, p_post = x_pre / n_pre, x_post / n_post
    t = c.linked
    cross = t.a - p_post * (t.a + t.b) - p_pre * (t.a + t.c) + t.n * p_pre * p_post
    var = p_pre * (1 - p_pre) / n_pre + p_post * (1 - p_post) / n_post
    var -= 2 * cross / (n_pre * n_post)
    return math.sqrt(max(var, 0.0))


def overlap_score_test(
    linked: PairedTable | tuple[int, int, int, int],
    pre_unlinked: Count = (0, 0),
    post_unlinked: Count = (0, 0),
) -> TestResult:
    """Overlap-corrected pooled score z test of p_post = p_pre (Derrick et al. 2015 form).

    p = 1 when the pooled share is 0 or 1. If the corrected null variance is not positive (only
    possible when the linked pairs are almost all concordant), the Wald SE is used instead.
    """
    c = _validate(PairedTable(*linked), pre_unlinked, post_unlinked)
    x_pre, n_pre, x_post, n_post = _round_totals(c)
    if n_pre == 0 or n_post == 0:
        raise StatsInputError(f"n_pre = {n_pre}, n_post = {n_post}: both rounds need respondents")
    diff = x_post / n_post - x_pre / n_pre
    pooled = (x_pre + x_post) / (n_pre + n_post)
    if pooled in (0.0, 1.0):
        return TestResult("overlap_score_z", None, 1.0)
    t = c.linked
    cov = 0.0 if t.n == 0 else t.a / t.n - (t.a + t.b) * (t.a + t.c) / t.n**2
    var = pooled * (1 - pooled) * (1 / n_pre + 1 / n_post) - 2 * t.n * cov / (n_pre * n_post)
    if var <= 1e-15:
        if diff == 0:
            return TestResult("overlap_score_z", 0.0, 1.0)
        var = overlap_wald_se(t, c.pre_unlinked, c.post_unlinked) ** 2
        if var <= 0:
            return TestResult("overlap_score_z", None, 1.0)
    z = diff / math.sqrt(var)
    return TestResult("overlap_score_z", z, two_sided_normal_p(z))


def risk_difference_change(
    linked: PairedTable | tuple[int, int, int, int] = (0, 0, 0, 0),
    pre_unlinked: Count = (0, 0),
    post_unlinked: Count = (0, 0),
    *,
    conf: float = 0.95,
    min_n: int = 10,
) -> RiskDifferenceChange:
    """All-respondent change p_post − p_pre: MOVER interval and its inverted p-value.

    ``linked`` is the (a, b, c, d) table of pupils answering in both rounds; ``pre_unlinked`` and
    ``post_unlinked`` are (x, n) for the remaining respondents of each round.
    """
    check_conf(conf)
    c = _validate(PairedTable(*linked), pre_unlinked, post_unlinked)
    x_pre, n_pre, x_post, n_post = _round_totals(c)
    n_linked = c.linked.n
    interval: DiffInterval | None = None
    r: float | None = None
    p_value: float | None = None
    tested = False
    if n_pre > 0 and n_post > 0:  # else: no change to estimate, only the shares there are
        interval, r = mover_ci(c.linked, c.pre_unlinked, c.post_unlinked, conf)
        tested = n_pre >= min_n and n_post >= min_n
        p_value = float(mover_p_values(*c.linked, x_pre, n_pre, x_post, n_post)[0])
    return RiskDifferenceChange(
        pre_n=n_pre,
        post_n=n_post,
        linked_n=n_linked,
        pre_share=x_pre / n_pre if n_pre else None,
        post_share=x_post / n_post if n_post else None,
        diff=interval.diff if interval is not None else None,
        ci_low=interval.ci_low if interval is not None else None,
        ci_high=interval.ci_high if interval is not None else None,
        p_value=p_value if tested else None,
        test=INVERSION_TEST,
        tested=tested,
        correlation=r,
        conf=conf,
    )


def linked_change(
    a: int, b: int, c: int, d: int, *, conf: float = 0.95, min_n: int = 10
) -> RiskDifferenceChange:
    """Same-pupils view: Newcombe (1998b) paired interval and its inverted p-value (tested when
    N >= min_n); p < 1 − conf exactly when the interval excludes 0."""
    check_conf(conf)
    t = PairedTable(int(a), int(b), int(c), int(d))
    if min(t) < 0:
        raise StatsInputError(f"paired table {tuple(t)}: cells must be >= 0")
    n = t.n
    if n == 0:
        return RiskDifferenceChange(
            0, 0, 0, None, None, None, None, None, None, INVERSION_TEST, False, None, conf
        )
    interval = newcombe_paired_ci(*t, conf=conf)
    tested = n >= min_n
    p = float(mover_p_values(*t, t.a + t.b, n, t.a + t.c, n)[0])
    return RiskDifferenceChange(
        pre_n=n,
        post_n=n,
        linked_n=n,
        pre_share=(t.a + t.b) / n,
        post_share=(t.a + t.c) / n,
        diff=interval.diff,
        ci_low=interval.ci_low,
        ci_high=interval.ci_high,
        p_value=p if tested else None,
        test=INVERSION_TEST,
        tested=tested,
        correlation=phi_star(*t),
        conf=conf,
    )


def _round_answers(frame: pl.DataFrame, pupil: str, y: str, name: str) -> pl.DataFrame:
    missing = [col for col in (pupil, y) if col not in frame.columns]
    if missing:
        raise StatsInputError(
            f"{name} round frame lacks column(s) {missing}; it has {frame.columns}"
        )
    out = frame.select(pl.col(pupil).alias("pupil"), pl.col(y).cast(pl.Int64).alias("y"))
    out = out.filter(pl.col("y").is_not_null())
    bad = out.filter(~pl.col("y").is_in([0, 1]))
    if bad.height:
        raise StatsInputError(
            f"{name} round, column '{y}': values must be 0/1 (or boolean), found "
            f"{bad['y'].unique().sort().to_list()[:5]}"
        )
    dup = out.filter(pl.col("pupil").is_not_null() & pl.col("pupil").is_duplicated())
    if dup.height:
        raise StatsInputError(
            f"{name} round, column '{pupil}': {dup['pupil'].n_unique()} pupil(s) answer more than "
            "once; expected one answer per pupil and round"
        )
    return out


def overlap_counts(
    pre: pl.DataFrame, post: pl.DataFrame, *, pupil: str = "pupil", y: str = "y"
) -> OverlapCounts:
    """Paired table and unlinked counts from two rounds of (pupil pseudonym, 0/1 answer).

    Rows with a null answer are not respondents; rows with a null pseudonym are unlinked.
    """
    pre_a = _round_answers(pre, pupil, y, "pre")
    post_a = _round_answers(post, pupil, y, "post")
    pairs = pre_a.filter(pl.col("pupil").is_not_null()).join(
        post_a.filter(pl.col("pupil").is_not_null()), on="pupil", how="inner", suffix="_post"
    )
    cells = pairs.select(
        a=((pl.col("y") == 1) & (pl.col("y_post") == 1)).sum(),
        b=((pl.col("y") == 1) & (pl.col("y_post") == 0)).sum(),
        c=((pl.col("y") == 0) & (pl.col("y_post") == 1)).sum(),
        d=((pl.col("y") == 0) & (pl.col("y_post") == 0)).sum(),
    ).row(0)
    linked_ids = pairs.select("pupil")
    pre_u = pre_a.join(linked_ids, on="pupil", how="anti")
    post_u = post_a.join(linked_ids, on="pupil", how="anti")
    return OverlapCounts(
        linked=PairedTable(*(int(v) for v in cells)),
        pre_unlinked=(int(pre_u["y"].sum()), pre_u.height),
        post_unlinked=(int(post_u["y"].sum()), post_u.height),
    )


def change_from_rounds(
    pre: pl.DataFrame,
    post: pl.DataFrame,
    *,
    pupil: str = "pupil",
    y: str = "y",
    conf: float = 0.95,
    min_n: int = 10,
) -> RiskDifferenceChange:
    """:func:`risk_difference_change` from two rounds of (pupil, y), linking on the pseudonym."""
    counts = overlap_counts(pre, post, pupil=pupil, y=y)
    return risk_difference_change(*counts, conf=conf, min_n=min_n)
