"""No polars UDF in the package or the dashboards (issue #21, session 6's deadlock).

A polars UDF runs a Python function on polars' thread pool. While one thread holds the GIL in
``to_pandas`` waiting for that pool (Streamlit converts every frame a page shows) and another
runs a UDF on the pool waiting for the GIL, the whole process stops (pola-rs/polars#26821,
#27396): with 20 concurrent dashboard sessions and the warm-up thread that is not rare but
likely. Code a page, a report or the warm-up can reach uses polars expressions, or
:mod:`lmp_analytics.frames` (plain Python over a column's values) instead.

The scan covers every module of ``lmp_analytics/`` and ``dashboards/`` (the CLI and the
ingest share the read side, and a UDF added "only for the CLI" is one import away from a page).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.python_sources import parsed_modules

ROOT = Path(__file__).resolve().parents[1]

#: Methods that hand a Python function to polars to run on its thread pool: on expressions and
#: Series (``map_elements``, ``map_batches``, ``apply`` of old polars, ``rolling_map``), frames
#: (``map_rows``, ``map_columns``), group-bys (``map_groups``, ``apply``) and lazy frames.
UDF_METHODS = frozenset({"map_elements", "map_batches", "map_rows", "map_columns", "map_groups",
                         "apply", "rolling_map"})
#: polars functions that take a Python function of Series (folds and reductions).
UDF_FUNCTIONS = frozenset({"fold", "reduce", "cum_fold", "cum_reduce", "map_groups",
                           "map_batches"})


def _polars_aliases(tree: ast.AST) -> set[str]:
    """Names the module binds to polars itself (``import polars as pl``)."""
    return {alias.asname or alias.name for node in ast.walk(tree)
            if isinstance(node, ast.Import) for alias in node.names if alias.name == "polars"}


def _imported_from_polars(tree: ast.AST) -> set[str]:
    """Names imported from polars that are UDF functions (``from polars import fold``)."""
    return {alias.asname or alias.name for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "polars"
            for alias in node.names if alias.name in UDF_FUNCTIONS}


def polars_udfs(*roots: Path) -> list[str]:
    """``path:line: call`` of every call that hands a Python function to polars."""
    hits = []
    for path, _, tree, root in parsed_modules(*roots):
        polars_names = _polars_aliases(tree)
        direct = _imported_from_polars(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = None
            if isinstance(func, ast.Attribute):
                owner = func.value
                if func.attr in UDF_METHODS:
                    name = func.attr
                elif (func.attr in UDF_FUNCTIONS and isinstance(owner, ast.Name)
                      and owner.id in polars_names):
                    name = f"{owner.id}.{func.attr}"
            elif isinstance(func, ast.Name) and func.id in direct:
                name = func.id
            if name:
                hits.append(f"{path.relative_to(root.parent)}:{node.lineno}: {name}")
    return hits


def test_no_polars_udf_in_the_package_or_the_dashboards():
    found = polars_udfs(ROOT / "lmp_analytics", ROOT / "dashboards")
    assert found == [], (
        "polars UDFs deadlock a Streamlit server (pola-rs/polars#26821): use expressions "
        "(term_order, replace_strict, when/then, str.*) or lmp_analytics.frames "
        f"(each_value, each_row, lookup): {found}")


def test_the_scan_finds_each_kind_of_udf(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "m.py").write_text(
        "import polars as pl\n"
        "from polars import fold\n"
        "a = pl.col('x').map_elements(str, return_dtype=pl.String)\n"
        "b = pl.struct('x', 'y').map_elements(lambda r: r['x'])\n"
        "c = frame.map_rows(lambda r: r)\n"
        "d = frame.group_by('x').map_groups(lambda g: g)\n"
        "e = pl.fold(pl.lit(0), lambda a, b: a + b, pl.all())\n"
        "f = fold(pl.lit(0), lambda a, b: a + b, pl.all())\n"
        "g = series.map_batches(lambda s: s)\n"
        "h = frame.with_columns(pl.col('x').rolling_map(sum, 3))\n"
        "i = pl.col('x').replace_strict({'a': 'b'}, default=None)\n"
        "j = pl.col('x').str.slice(0, 4).cast(pl.Int64)\n"
        "k = values.reduce(0)\n",   # not polars' reduce: a method of something else
        encoding="utf-8")
    lines = sorted((hit.split(":")[1] for hit in polars_udfs(package)), key=int)
    assert lines == ["3", "4", "5", "6", "7", "8", "9", "10"]
