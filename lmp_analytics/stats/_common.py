"""Shared helpers for the statistics layer: the error type, critical values, input checks."""

from __future__ import annotations

import functools

import numpy as np
from scipy import stats as sps

from lmp_analytics.errors import LmpError


class StatsInputError(LmpError, ValueError):
    """Input to a statistics function is impossible (negative count, x > n, wrong columns...)."""


@functools.lru_cache(maxsize=256)
def z_crit(conf: float) -> float:
    """Two-sided standard-normal critical value, e.g. 1.959964 for conf = 0.95 (cached)."""
    check_conf(conf)
    return float(sps.norm.ppf(1.0 - (1.0 - conf) / 2.0))


@functools.lru_cache(maxsize=4096)
def t_crit(conf: float, df: float) -> float:
    """Two-sided Student-t critical value with ``df`` degrees of freedom (cached)."""
    check_conf(conf)
    return float(sps.t.ppf(1.0 - (1.0 - conf) / 2.0, df))


def check_conf(conf: float) -> None:
    if not 0.0 < conf < 1.0:
        raise StatsInputError(f"conf must lie strictly between 0 and 1, got {conf!r}")


def check_count(x: int, n: int, what: str = "x") -> None:
    """A count x out of n: integers with 0 <= x <= n."""
    if n < 0 or x < 0 or x > n:
        raise StatsInputError(f"{what} = {x} out of n = {n}: expected 0 <= {what} <= n")


def two_sided_normal_p(z: float) -> float:
    return float(2.0 * sps.norm.sf(abs(z)))


def as_float_array(values, name: str) -> np.ndarray:
    """1-D float array from a list, numpy array or polars/pandas Series."""
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values, dtype=float)
    if arr.ndim != 1:
        raise StatsInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr
