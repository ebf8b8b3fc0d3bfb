"""SQL lives in ``.sql`` files under ``lmp_analytics/warehouse/sql/``: no string of Python code in
the package or the dashboards that spans more than one line holds a query (docstrings, which
may show an example, excepted). One-line queries are tolerated; a query long enough to wrap
belongs in a ``-- name:`` block (:mod:`lmp_analytics.warehouse.queries`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.python_sources import parsed_modules

ROOT = Path(__file__).resolve().parents[2]
#: Statements that make a string SQL (upper case, as every query of the package is written).
SQL = re.compile(r"\b(SELECT|INSERT\s+INTO|CREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+)?TABLE|"
                 r"DELETE\s+FROM|UPDATE\s+\w+\s+SET|COPY\s*\()")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                found.add(id(first.value))
    return found


def inline_sql(*roots: Path) -> list[str]:
    """``path:line`` of every string constant or f-string spanning lines that holds SQL."""
    hits = []
    for path, source, tree, root in parsed_modules(*roots):
        skip = _docstrings(tree)
        inner = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)
                 for v in n.values}
        for node in ast.walk(tree):
            if id(node) in skip or id(node) in inner:
                continue
            is_text = isinstance(node, ast.JoinedStr) or (
                isinstance(node, ast.Constant) and isinstance(node.value, str))
            if not is_text or node.end_lineno == node.lineno:
                continue
            if SQL.search(ast.get_source_segment(source, node) or ""):
                hits.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return hits


def test_no_sql_string_longer_than_one_line_outside_sql_files():
    assert inline_sql(ROOT / "lmp_analytics", ROOT / "dashboards") == []


def test_the_scan_finds_a_wrapped_query_and_passes_a_docstring(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "m.py").write_text(
        '"""Example:\n\n    SELECT * FROM t\n    WHERE x = 1\n"""\n'
        'Q = ("SELECT a FROM t "\n     "WHERE b = 1")\n'
        'R = f"""\nDELETE FROM {T}\n"""\n'
        'ONE = "SELECT 1"\n'
        'NOTE = ("select the rows you want, then "\n        "press enter")\n',
        encoding="utf-8")
    assert inline_sql(package) == ["pkg/m.py:6", "pkg/m.py:8"]
