"""False discovery rate control within a pre-declared family (e.g. schools × indicators, phase k).

Benjamini & Hochberg (1995) step-up adjustment, valid under positive dependence (PRDS);
Benjamini & Yekutieli (2001) for arbitrary dependence. Cells not tested because of the n-only rule
(None / NaN p-values) are left out of m and come back as None: filtering on n alone carries no
information about the effect under H0, so BH stays valid. Never filter on x, p or the estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from statsmodels.stats.multitest import multipletests

from lmp_analytics.stats._common import StatsInputError

__all__ = ["FdrAdjustment", "adjusted_p_values", "benjamini_hochberg"]


@dataclass(frozen=True, slots=True)
class FdrAdjustment:
    """Adjusted p-values and decisions, aligned with the input; None where the input was None.

    ``m`` is the number of tested hypotheses (family size), ``q`` the FDR level.
    """

    p_adjusted: tuple[float | None, ...]
    reject: tuple[bool | None, ...]
    m: int
    q: float
    method: str


def benjamini_hochberg(
    p_values: Sequence[float | None] | np.ndarray,
    q: float = 0.05,
    method: Literal["fdr_bh", "fdr_by"] = "fdr_bh",
) -> FdrAdjustment:
    """BH (or BY) adjusted p-values: p̃_(i) = min_{j≥i} min(1, m·p_(j)/j) (statsmodels)."""
    if not 0 < q < 1:
        raise StatsInputError(f"FDR level q must lie in (0, 1), got {q!r}")
    raw = p_values.to_list() if hasattr(p_values, "to_list") else list(p_values)
    values = np.array([np.nan if v is None else float(v) for v in raw], dtype=float)
    tested = ~np.isnan(values)
    if np.any((values[tested] < 0) | (values[tested] > 1)):
        raise StatsInputError("p-values must lie in [0, 1]")
    adjusted: list[float | None] = [None] * values.size
    reject: list[bool | None] = [None] * values.size
    m = int(tested.sum())
    if m:
        rej, p_adj, _, _ = multipletests(values[tested], alpha=q, method=method)
        for pos, idx in enumerate(np.flatnonzero(tested)):
            adjusted[idx] = float(p_adj[pos])
            reject[idx] = bool(rej[pos])
    return FdrAdjustment(tuple(adjusted), tuple(reject), m, q, method)


def adjusted_p_values(
    p_values: np.ndarray, method: Literal["fdr_bh", "fdr_by"] = "fdr_bh"
) -> np.ndarray:
    """:func:`benjamini_hochberg`'s adjusted p-values as a float array (NaN = not tested), for
    columns of thousands of rows: the same statsmodels call without per-element Python."""
    values = np.asarray(p_values, dtype=float)
    tested = ~np.isnan(values)
    if np.any((values[tested] < 0) | (values[tested] > 1)):
        raise StatsInputError("p-values must lie in [0, 1]")
    out = np.full(values.shape, np.nan)
    if tested.any():
        out[tested] = multipletests(values[tested], method=method)[1]
    return out
