"""``lmp_analytics.frames`` gives what the polars UDFs it replaces gave (nulls, order, empty
frames, dtypes), so that removing the UDFs from the pages changed no output."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_series_equal

from lmp_analytics.frames import each_row, each_value, lookup

FRAME = pl.DataFrame({"term": ["2024H", None, "2023V", "2024H"], "n": [3, 1, None, 7],
                      "low": [0.1, None, -0.0, 0.2]})
EMPTY = FRAME.clear()
# The reference side of each comparison is the UDF itself; polars suggests expressions there.
pytestmark = pytest.mark.filterwarnings("ignore::polars.exceptions.PolarsInefficientMapWarning")


def _label(term: str) -> str:
    return f"<{term}>"


@pytest.mark.parametrize("frame", [FRAME, EMPTY], ids=["rows", "empty"])
def test_each_value_and_lookup_are_map_elements(frame):
    udf = frame.select(pl.col("term").map_elements(_label, return_dtype=pl.String))["term"]
    assert_series_equal(each_value(frame, "term", _label), udf)
    assert_series_equal(frame.select(lookup(frame, "term", _label))["term"], udf)
    ints = frame.select(pl.col("n").map_elements(lambda v: v * 2, return_dtype=pl.Int64))["n"]
    assert_series_equal(each_value(frame, "n", lambda v: v * 2, pl.Int64), ints)


@pytest.mark.parametrize("frame", [FRAME, EMPTY], ids=["rows", "empty"])
def test_each_row_is_a_struct_map_elements_nulls_included(frame):
    def fn(r: dict) -> str:
        return f"{r['n']}|{r['low']}"

    udf = frame.select(pl.struct("n", "low").map_elements(fn, return_dtype=pl.String)
                       .alias("value"))["value"]
    assert_series_equal(each_row(frame, ("n", "low"), fn), udf)
    if frame.height:
        assert each_row(frame, ("n", "low"), fn).to_list()[1] == "1|None"  # called on nulls


def test_lookup_follows_the_rows_of_a_derived_frame():
    """The expression works on any frame made of the same values (sorted, filtered)."""
    shown = FRAME.sort("n", nulls_last=True).select(lookup(FRAME, "term", _label))
    assert shown["term"].to_list() == [None, "<2024H>", "<2024H>", "<2023V>"]
