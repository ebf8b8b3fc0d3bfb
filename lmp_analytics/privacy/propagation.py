"""Exact linear algebra and interval propagation over the declared sums: row reduction over
the rationals (which numbers a combination of sums pins) and integer interval propagation
(which respondent counts are pinned by what is known without the numbers)."""

from __future__ import annotations

import math

import numpy as np

from lmp_analytics.privacy.declarations import INF

_PROPAGATION_ROUNDS = 50
_SMALL_SYSTEM = 64  # terms; smaller systems propagate in plain Python (same result, faster)


def row_reduce(
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
        r, cr = reduce_row(rows[i], {i: 1} if track else {}, basis, combo)
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


def reduce_row(
    row: dict[int, int], rc: dict[int, int],
    basis: dict[int, dict[int, int]], combo: dict[int, dict[int, int]],
) -> tuple[dict[int, int], dict[int, int]]:
    """The row with every basis pivot cancelled (empty: it lies in the row space)."""
    r = {v: c for v, c in row.items() if c}
    for p in [v for v in r if v in basis]:
        if r.get(p):
            r, rc = _eliminate(r, rc, basis[p], combo[p], p)
    return r, rc


def propagate(
    rows: list[tuple[list[tuple[int, int]], int]], lo: dict[int, float], hi: dict[int, float]
) -> None:
    """Interval propagation over sum rows (Σ coef·x = rhs, coef ±1) on integers: every row
    tightens every one of its variables from the others' ranges, all rows at once,
    until nothing tightens (or a cap on sweeps). Updates ``lo``/``hi`` in place."""
    if not rows:
        return
    if sum(len(tt) for tt, _ in rows) <= _SMALL_SYSTEM:
        propagate_small(rows, lo, hi)
    else:
        propagate_arrays(rows, lo, hi)


def propagate_arrays(
    rows: list[tuple[list[tuple[int, int]], int]], lo: dict[int, float], hi: dict[int, float]
) -> None:
    """:func:`propagate` with numpy, for large systems."""
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


def propagate_small(
    rows: list[tuple[list[tuple[int, int]], int]], lo: dict[int, float], hi: dict[int, float]
) -> None:
    """:func:`propagate` in plain Python, for the small systems the audit mostly meets (numpy's
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
                if tl == -INF:
                    low_inf += 1
                else:
                    low_sum += tl
                if th == INF:
                    high_inf += 1
                else:
                    high_sum += th
            for (v, c), (tl, th) in zip(tt, ranges, strict=True):
                # the other terms' range (infinite if any other term is unbounded that way)
                if tl == -INF:
                    o_low = -INF if low_inf > 1 else low_sum
                else:
                    o_low = -INF if low_inf else low_sum - tl
                if th == INF:
                    o_high = INF if high_inf > 1 else high_sum
                else:
                    o_high = INF if high_inf else high_sum - th
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
