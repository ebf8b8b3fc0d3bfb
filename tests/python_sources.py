"""The Python files of a source tree, parsed once: what the code scans (no inline SQL, no polars
UDF, no literal user-facing text) walk."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path


def parsed_modules(*roots: Path) -> Iterator[tuple[Path, str, ast.Module, Path]]:
    """(path, source, tree, root) of every ``*.py`` under ``roots``, in path order."""
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            yield path, source, ast.parse(source), root
