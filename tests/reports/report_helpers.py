"""Helpers shared by the report tests: PDF text and rows of a -layout text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lmp_analytics.config import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "reports"


def need_poppler() -> None:
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftotext, pdftoppm) is not installed; .ci/run installs it")


def pdf_text(path: Path, *, layout: bool = False) -> str:
    """The PDF's text (pdftotext), no-break spaces turned into spaces."""
    need_poppler()
    args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
    out = subprocess.run(args, check=True, capture_output=True).stdout.decode("utf-8")
    return out.replace("\u00a0", " ").replace("\u202f", " ")


def squash(text: str) -> str:
    """Whitespace runs -> one space (numbers split over lines by layout stay comparable)."""
    return re.sub(r"\s+", " ", text)


def rows_after(text: str, heading: str) -> list[str]:
    """Lines of a ``-layout`` text after the first line that starts with ``heading``."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(heading):
            return lines[i + 1:]
    raise AssertionError(f"no heading {heading!r} in the text")


def row(lines: list[str], label: str) -> str:
    """The first line starting with ``label`` (its first 2 words: labels wrap in tables)."""
    prefix = " ".join(label.split()[:2])
    for line in lines:
        first = re.split(r"\s{2,}", line.strip())[0]  # the label cell, perhaps wrapped
        if line.strip().startswith(prefix) or (" " in first and label.startswith(first)):
            return re.sub(r"\s+", " ", line.strip())
    raise AssertionError(f"no row {label!r}")
