"""Python functions over a frame's values without polars UDFs.

A polars UDF (``map_elements``, ``map_batches`` with a Python function, ``.apply``) runs Python
on polars' thread pool. In a process where another thread converts a frame (``to_pandas``
holds the GIL while it waits for that pool) the two wait for each other forever
(pola-rs/polars#26821, #27396). A Streamlit server runs many script threads and the dashboard's
warm-up thread in one process, so code a page can reach never calls a UDF
(``tests/test_no_polars_udf.py`` enforces it): it uses polars expressions, or these helpers,
which call the function in plain Python over the column's values and hand polars a Series.

Same results as ``map_elements`` with its defaults: :func:`each_value` and :func:`lookup` skip
nulls (a null stays null), :func:`each_row` calls the function for every row with a dict of the
row's values (as a struct's ``map_elements`` does, nulls included). :func:`each_value` and
:func:`each_row` give a Series in the frame's row order (use it on that very frame);
:func:`lookup` gives an expression (the function called once per distinct value, a
``replace_strict`` with that small dict), usable on the frame or any frame derived from its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl


def each_value(frame: pl.DataFrame, column: str, fn: Callable[[Any], Any],
               dtype: pl.DataType | type[pl.DataType] = pl.String) -> pl.Series:
    """``fn`` of each non-null value of ``frame[column]`` (null stays null), as a Series of
    ``dtype`` named ``column`` (give it another name with ``.alias``)."""
    values = [None if v is None else fn(v) for v in frame.get_column(column).to_list()]
    return pl.Series(column, values, dtype=dtype)


def each_row(frame: pl.DataFrame, columns: Sequence[str], fn: Callable[[dict], Any],
             dtype: pl.DataType | type[pl.DataType] = pl.String, *,
             name: str = "value") -> pl.Series:
    """``fn`` of each row of ``frame`` as a dict of ``columns`` (values may be None), as a
    Series of ``dtype`` named ``name``."""
    values = [fn(row) for row in frame.select(list(columns)).iter_rows(named=True)]
    return pl.Series(name, values, dtype=dtype)


def lookup(frame: pl.DataFrame, column: str, fn: Callable[[Any], Any],
           dtype: pl.DataType | type[pl.DataType] = pl.String) -> pl.Expr:
    """``pl.col(column)`` mapped through ``fn``, which is called once per distinct non-null
    value of ``frame[column]`` (null and values not in ``frame`` give null). For text and whole
    numbers: distinct floats such as 0.0 and -0.0 would share one entry."""
    mapping = {v: fn(v) for v in frame.get_column(column).unique().to_list() if v is not None}
    return pl.col(column).replace_strict(mapping, default=None, return_dtype=dtype)


__all__ = ["each_row", "each_value", "lookup"]
