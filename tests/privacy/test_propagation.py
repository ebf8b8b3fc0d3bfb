"""The plain-Python interval propagation (small systems) gives exactly the numpy one's bounds."""

from __future__ import annotations

import math
import random

import pytest

from lmp_analytics.privacy import propagation as engine


def _random_system(rng: random.Random) -> tuple[list, dict, dict]:
    """Sum rows over a few integer unknowns with a consistent right-hand side, and bounds mixed
    from labels ("< t": 1..t-1), complementary cells (t..inf), residuals (0..inf) and points."""
    n_vars = rng.randint(1, 8)
    truth = {v: rng.randint(0, 40) for v in range(n_vars)}
    rows = []
    for _ in range(rng.randint(1, 6)):
        members = rng.sample(range(n_vars), rng.randint(1, min(4, n_vars)))
        terms = [(v, rng.choice((1, -1))) for v in members]
        rows.append((terms, sum(c * truth[v] for v, c in terms)))
    lo, hi = {}, {}
    for v, x in truth.items():
        kind = rng.randrange(5)
        lo[v], hi[v] = {
            0: (1 if x else 0, max(x, 9)),
            1: (min(x, 10), math.inf),
            2: (0, math.inf),
            3: (x, x),
            4: (-math.inf, math.inf),
        }[kind]
    return rows, lo, hi


@pytest.mark.parametrize("seed", range(6))
def test_small_propagation_matches_numpy(seed):
    rng = random.Random(seed)
    for _ in range(400):
        rows, lo, hi = _random_system(rng)
        lo_a, hi_a = dict(lo), dict(hi)
        lo_b, hi_b = dict(lo), dict(hi)
        engine.propagate_arrays(rows, lo_a, hi_a)
        engine.propagate_small(rows, lo_b, hi_b)
        assert lo_a == lo_b and hi_a == hi_b, (rows, lo, hi)
        assert all(type(x) is float for x in [*lo_b.values(), *hi_b.values()])


def test_small_propagation_pins_what_the_sums_imply():
    # x0 + x1 = 12 with x0 in [10, inf) (a visible-like bound) and x1 "< 3": x1 >= 1 gives
    # x0 <= 11, and x0 >= 10 gives x1 <= 2
    lo, hi = {0: 10, 1: 1}, {0: math.inf, 1: 2}
    engine.propagate_small([([(0, 1), (1, 1)], 12)], lo, hi)
    assert (lo, hi) == ({0: 10.0, 1: 1.0}, {0: 11.0, 1: 2.0})
