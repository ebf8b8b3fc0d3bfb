"""SQL lives in ``warehouse/sql/*.sql``; this module only finds it by name.

A file is either one statement list (``sql("schema")``) or a set of named blocks introduced by
``-- name: <block>`` lines (``named("load", "insert_answers")``).
"""

from __future__ import annotations

import re
from functools import cache

from lmp_analytics.config import SQL_DIR

_NAME_LINE = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


@cache
def sql(name: str) -> str:
    """The text of ``warehouse/sql/<name>.sql``."""
    path = SQL_DIR / f"{name}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no SQL file named {path.name} in {SQL_DIR}")
    return path.read_text(encoding="utf-8")


@cache
def _blocks(file: str) -> dict[str, str]:
    text = sql(file)
    marks = list(_NAME_LINE.finditer(text))
    out: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out[m.group(1)] = text[m.end() : end].strip()
    return out


def named(file: str, name: str) -> str:
    """One ``-- name:`` block of ``warehouse/sql/<file>.sql``."""
    blocks = _blocks(file)
    if name not in blocks:
        raise KeyError(f"no block '-- name: {name}' in {file}.sql")
    return blocks[name]
