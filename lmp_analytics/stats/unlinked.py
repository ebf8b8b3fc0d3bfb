"""Change in a share between two rounds with *independent* (unlinked) respondents.

Risk difference D = p_post − p_pre with the Newcombe (1998a) hybrid score interval (method 10),
the pooled score z test (= Pearson χ² without continuity correction), and Boschloo's exact
unconditional test when any expected cell is below 5 (Fagerland, Lydersen & Laake 2017).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as sps

from lmp_analytics.stats._common import StatsInputError, check_count, two_sided_normal_p
from lmp_analytics.stats.proportions import wilson_bounds

__all__ = [
    "DiffInterval",
    "TestResult",
    "boschloo_test",
    "needs_exact_test",
    "newcombe_hybrid_ci",
    "score_z_test",
    "unlinked_test",
]


@dataclass(frozen=True, slots=True)
class DiffInterval:
    """A risk difference (post − pre) with its two-sided interval."""

    diff: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True, slots=True)
class TestResult:
    """A two-sided test: ``test`` names it, ``statistic`` is z (None for exact tests)."""

    test: str
    statistic: float | None
    p_value: float


def _shares(x_pre: int, n_pre: int, x_post: int, n_post: int) -> tuple[float, float]:
    check_count(x_pre, n_pre, "x_pre")
    check_count(x_post, n_post, "x_post")
    if n_pre == 0 or n_post == 0:
        raise StatsInputError(
            f"n_pre = {n_pre}, n_post = {n_post}: both rounds need at least one respondent"
        )
    return x_pre / n_pre, x_post / n_post


def newcombe_hybrid_ci(
    x_pre: int, n_pre: int, x_post: int, n_post: int, conf: float = 0.95
) -> DiffInterval:
    """Newcombe (1998a) method 10 interval for p_post − p_pre from the two Wilson intervals.

    L = D − sqrt((p_post − l_post)² + (u_pre − p_pre)²),
    U = D + sqrt((u_post − p_post)² + (p_pre − l_pre)²).
    """
    p_pre, p_post = _shares(x_pre, n_pre, x_post, n_post)
    l_pre, u_pre = (float(v) for v in wilson_bounds(x_pre, n_pre, conf))
    l_post, u_post = (float(v) for v in wilson_bounds(x_post, n_post, conf))
    d = p_post - p_pre
    low = d - math.sqrt((p_post - l_post) ** 2 + (u_pre - p_pre) ** 2)
    high = d + math.sqrt((u_post - p_post) ** 2 + (p_pre - l_pre) ** 2)
    return DiffInterval(diff=d, ci_low=max(-1.0, low), ci_high=min(1.0, high))


def score_z_test(x_pre: int, n_pre: int, x_post: int, n_post: int) -> TestResult:
    """Pooled score z test, z = D / sqrt(p̄(1−p̄)(1/n_pre + 1/n_post)).

    Equals Pearson's χ² without continuity correction. p = 1 when the pooled share is 0 or 1
    (no positive answers in either round, or all positive), where the statistic is undefined.
    """
    p_pre, p_post = _shares(x_pre, n_pre, x_post, n_post)
    pooled = (x_pre + x_post) / (n_pre + n_post)
    if pooled in (0.0, 1.0):
        return TestResult("score_z", None, 1.0)
    z = (p_post - p_pre) / math.sqrt(pooled * (1 - pooled) * (1 / n_pre + 1 / n_post))
    return TestResult("score_z", z, two_sided_normal_p(z))


def needs_exact_test(x_pre: int, n_pre: int, x_post: int, n_post: int) -> bool:
    """True when any expected cell of the round × answer 2×2 table is below 5."""
    _shares(x_pre, n_pre, x_post, n_post)
    pooled = (x_pre + x_post) / (n_pre + n_post)
    expected = (n * share for n in (n_pre, n_post) for share in (pooled, 1.0 - pooled))
    return any(e < 5.0 for e in expected)


def boschloo_test(x_pre: int, n_pre: int, x_post: int, n_post: int) -> TestResult:
    """Boschloo's exact unconditional two-sided test (``scipy.stats.boschloo_exact``)."""
    _shares(x_pre, n_pre, x_post, n_post)
    if x_pre + x_post in (0, n_pre + n_post):
        return TestResult("boschloo", None, 1.0)
    table = [[x_post, n_post - x_post], [x_pre, n_pre - x_pre]]
    res = sps.boschloo_exact(table, alternative="two-sided")
    return TestResult("boschloo", None, float(min(1.0, res.pvalue)))


def unlinked_test(x_pre: int, n_pre: int, x_post: int, n_post: int) -> TestResult:
    """Score z test, or Boschloo's exact test when any expected cell is below 5."""
    if needs_exact_test(x_pre, n_pre, x_post, n_post):
        return boschloo_test(x_pre, n_pre, x_post, n_post)
    return score_z_test(x_pre, n_pre, x_post, n_post)
