"""Change in a share among *linked* pupils (same pseudonym in both rounds).

Paired table orientation (pre, post): a = (1,1), b = (1,0), c = (0,1), d = (0,0), N = a+b+c+d and
D = p_post − p_pre = (c − b)/N. Note that R ``contingencytables`` reports pre − post.

- McNemar exact conditional test and its mid-p (Fagerland, Lydersen & Laake 2013); mid-p is the
  package's test for linked pupils.
- Newcombe (1998b) method 10 square-and-add interval with the continuity-adjusted φ*.

Never publish b and c themselves (secondary disclosure): publish D, the interval and p.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import stats as sps

from lmp_analytics.stats._common import StatsInputError, two_sided_normal_p
from lmp_analytics.stats.proportions import wilson_bounds
from lmp_analytics.stats.unlinked import DiffInterval

__all__ = [
    "McNemarResult",
    "PairedTable",
    "mcnemar_test",
    "newcombe_paired_ci",
    "phi_star",
    "phi_star_arrays",
]


class PairedTable(NamedTuple):
    """Counts of linked pupils by (pre, post) answer: a=(1,1), b=(1,0), c=(0,1), d=(0,0)."""

    a: int
    b: int
    c: int
    d: int

    @property
    def n(self) -> int:
        return self.a + self.b + self.c + self.d


def _table(a: int, b: int, c: int, d: int) -> PairedTable:
    if min(a, b, c, d) < 0:
        raise StatsInputError(f"paired table ({a}, {b}, {c}, {d}): cells must be >= 0")
    return PairedTable(int(a), int(b), int(c), int(d))


@dataclass(frozen=True, slots=True)
class McNemarResult:
    """McNemar test on the discordant pairs; b ~ Bin(b + c, ½) under H0."""

    n_discordant: int
    exact_p: float
    mid_p: float
    asymptotic_p: float


def mcnemar_test(b: int, c: int) -> McNemarResult:
    """Exact p = min(1, 2F(k)), mid-p = 2[F(k) − f(k)/2], k = min(b, c), F ~ Bin(b+c, ½).

    ``asymptotic_p`` is the uncorrected z = (c − b)/sqrt(b + c). All three are 1 when b + c = 0.
    """
    if b < 0 or c < 0:
        raise StatsInputError(f"discordant counts b = {b}, c = {c} must be >= 0")
    m = b + c
    if m == 0:
        return McNemarResult(0, 1.0, 1.0, 1.0)
    k = min(b, c)
    cdf = float(sps.binom.cdf(k, m, 0.5))
    pmf = float(sps.binom.pmf(k, m, 0.5))
    exact = min(1.0, 2.0 * cdf)
    mid = min(1.0, 2.0 * (cdf - 0.5 * pmf))
    asym = two_sided_normal_p((c - b) / math.sqrt(m))
    return McNemarResult(int(m), exact, mid, asym)


def phi_star(a: int, b: int, c: int, d: int) -> float:
    """Continuity-adjusted φ* of Newcombe (1998b).

    B = ad − bc; C = B − N/2 if B > N/2, C = B if B < 0, else 0;
    φ* = C / sqrt((a+b)(c+d)(a+c)(b+d)), or 0 if that product is 0.
    """
    t = _table(a, b, c, d)
    big_b = t.a * t.d - t.b * t.c
    half_n = t.n / 2.0
    if big_b > half_n:
        cc = big_b - half_n
    elif big_b < 0:
        cc = float(big_b)
    else:
        cc = 0.0
    denom = (t.a + t.b) * (t.c + t.d) * (t.a + t.c) * (t.b + t.d)
    return 0.0 if denom == 0 else cc / math.sqrt(denom)


def phi_star_arrays(a, b, c, d) -> np.ndarray:
    """:func:`phi_star` on arrays of paired tables (0 where the margin product is 0)."""
    a, b, c, d = (np.asarray(v, dtype=np.int64) for v in (a, b, c, d))
    big_b = a * d - b * c
    half_n = (a + b + c + d) / 2.0
    cc = np.where(big_b > half_n, big_b - half_n, np.where(big_b < 0, big_b, 0.0))
    denom = ((a + b) * (c + d) * (a + c) * (b + d)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom == 0, 0.0, cc / np.sqrt(denom))


def newcombe_paired_ci(a: int, b: int, c: int, d: int, conf: float = 0.95) -> DiffInterval:
    """Newcombe (1998b) method 10 interval for D = p_post − p_pre = (c − b)/N.

    With Wilson limits (l1, u1) for p1 = (a+c)/N and (l0, u0) for p0 = (a+b)/N:
    L = D − sqrt((p1−l1)² − 2φ*(p1−l1)(u0−p0) + (u0−p0)²),
    U = D + sqrt((u1−p1)² − 2φ*(u1−p1)(p0−l0) + (p0−l0)²).
    """
    t = _table(a, b, c, d)
    if t.n == 0:
        raise StatsInputError("paired table is empty: no linked pupils")
    phi = phi_star(*t)
    p0, p1 = (t.a + t.b) / t.n, (t.a + t.c) / t.n
    l0, u0 = (float(v) for v in wilson_bounds(t.a + t.b, t.n, conf))
    l1, u1 = (float(v) for v in wilson_bounds(t.a + t.c, t.n, conf))
    diff = p1 - p0
    down = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u0 - p0) + (u0 - p0) ** 2
    up = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p0 - l0) + (p0 - l0) ** 2
    low = diff - math.sqrt(max(down, 0.0))
    high = diff + math.sqrt(max(up, 0.0))
    return DiffInterval(diff=diff, ci_low=max(-1.0, low), ci_high=min(1.0, high))
