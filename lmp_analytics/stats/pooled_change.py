"""The change of a share (or mean) pooled over schools, school-clustered: one arm of
:func:`lmp_analytics.stats.cluster.cluster_did`.

change = Σx_post/Σn_post − Σx_pre/Σn_pre over the same schools (each school's before and after
rounds). Each school's influence is IF_s = (x_post,s − p_post·n_post,s)/N_post −
(x_pre,s − p_pre·n_pre,s)/N_pre; V = G/(G−1)·Σ IF_s² (CR1) and the interval is t_{G−1}. As in
:mod:`lmp_analytics.stats.cluster`, fewer than ``MIN_CLUSTERS`` schools give no interval (the
sandwich is badly biased downward with so few clusters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lmp_analytics.stats._common import StatsInputError, as_float_array, check_conf, t_crit
from lmp_analytics.stats.cluster import MIN_CLUSTERS

__all__ = ["PooledChange", "pooled_change"]


@dataclass(frozen=True, slots=True)
class PooledChange:
    """Pooled before/after over ``clusters`` schools; interval None when not ``tested``."""

    clusters: int
    pre_n: int
    post_n: int
    pre: float
    post: float
    change: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    tested: bool


def pooled_change(x_pre, n_pre, x_post, n_post, *, conf: float = 0.95,
                  min_clusters: int = MIN_CLUSTERS) -> PooledChange:
    """Pooled change of per-school totals ``x`` over respondents ``n`` (one entry per school,
    before and after), with a school-clustered CR1 interval. ``x`` may be counts (a share) or
    sums of scale values (a mean): the ratio estimator is the same."""
    check_conf(conf)
    arrays = [as_float_array(v, name) for v, name in
              ((x_pre, "x_pre"), (n_pre, "n_pre"), (x_post, "x_post"), (n_post, "n_post"))]
    if len({a.size for a in arrays}) != 1:
        raise StatsInputError("pooled_change: x_pre, n_pre, x_post and n_post differ in length")
    x0, n0, x1, n1 = arrays
    if np.any(np.isnan(x0 + n0 + x1 + n1)) or np.any(n0 <= 0) or np.any(n1 <= 0):
        raise StatsInputError("pooled_change: every school needs respondents before and after")
    g = int(x0.size)
    if g == 0:
        raise StatsInputError("pooled_change: no schools")
    big0, big1 = float(n0.sum()), float(n1.sum())
    p0, p1 = float(x0.sum()) / big0, float(x1.sum()) / big1
    change = p1 - p0
    tested = g >= max(min_clusters, 2)
    se = low = high = None
    if tested:
        influence = (x1 - p1 * n1) / big1 - (x0 - p0 * n0) / big0
        se = math.sqrt(g / (g - 1) * float((influence ** 2).sum()))
        half = t_crit(conf, g - 1) * se
        low, high = change - half, change + half
    return PooledChange(g, int(big0), int(big1), p0, p1, change, se, low, high, tested)
