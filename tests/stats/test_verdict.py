"""Verdicts read off the interval (their words: tests/presentation/test_labels.py)."""

import random

import polars as pl
import pytest

from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.change import risk_difference_change
from lmp_analytics.stats.verdict import (
    Verdict,
    verdict_expr,
    verdict_from_interval,
)


def test_verdict_reads_the_interval():
    assert verdict_from_interval(-0.09, -0.01) is Verdict.DECREASE
    assert verdict_from_interval(0.01, 0.09) is Verdict.INCREASE
    assert verdict_from_interval(-0.09, 0.0) is Verdict.NO_CLEAR_CHANGE  # touching 0 is not clear
    assert verdict_from_interval(0.0, 0.05) is Verdict.NO_CLEAR_CHANGE
    assert verdict_from_interval(-0.01, 0.01, tested=False) is None
    assert verdict_from_interval(None, 0.1) is None
    assert verdict_from_interval(float("nan"), 0.1) is None
    with pytest.raises(StatsInputError):
        verdict_from_interval(0.2, 0.1)


def test_worked_example_p_value_and_verdict_agree():
    """Methods note §1a: CI (−0.0950, 0.0004). The old score test gave p = 0.044 beside an
    interval that contains 0 (issue #19: a p-value beside "ingen tydelig endring"); the p-value
    shown now inverts the interval itself, so both say "no clear change"."""
    res = risk_difference_change((6, 9, 3, 132), (5, 40), (2, 35))
    assert res.ci_low < 0 < res.ci_high
    assert res.test == "mover_inversion" and 0.05 <= res.p_value < 0.06
    assert (
        verdict_from_interval(res.ci_low, res.ci_high, tested=res.tested) is Verdict.NO_CLEAR_CHANGE
    )


def test_the_column_form_gives_the_scalar_verdict_row_by_row():
    rng = random.Random(5)
    edge = [None, float("nan"), 0.0, -0.0, 1e-300, -1e-300]
    rows = []
    for _ in range(2000):
        low = rng.choice(edge) if rng.random() < 0.2 else rng.uniform(-0.3, 0.3)
        high = rng.choice(edge) if rng.random() < 0.2 else rng.uniform(-0.3, 0.3)
        if low is not None and high is not None and low == low and high == high and low > high:
            low, high = high, low
        rows.append((low, high, rng.choice([True, False, None])))
    frame = pl.DataFrame(rows, schema={"lo": pl.Float64, "hi": pl.Float64, "t": pl.Boolean},
                         orient="row")
    got = frame.select(verdict_expr("lo", "hi", "t")).to_series().to_list()
    want = [None if (v := verdict_from_interval(lo, hi, tested=bool(t))) is None else str(v)
            for lo, hi, t in rows]
    assert got == want
    assert {v for v in got if v} == {v.value for v in Verdict}
