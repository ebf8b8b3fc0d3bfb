"""Helpers shared by the report tests: PDF text and rows of a -layout text, and a CSV opened
by LibreOffice as a spreadsheet program opens it."""

from __future__ import annotations

import os
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


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_opens_csv(src: Path, workdir: Path, *, separator: str, language: int) -> Path:
    """``src`` imported by Debian's headless LibreOffice the way a spreadsheet program opens a
    CSV (``separator``, '"' text delimiter, UTF-8, from line 1, no column formats, locale
    ``language`` (1033 en-US, 1044 Norwegian bokmål), formula evaluation on) and saved as
    XLSX in ``workdir / 'lo'``: the converted file."""
    assert SOFFICE, ("LibreOffice is missing: apt-get install libreoffice-calc-nogui "
                     "(.ci/run installs it)")
    profile = (workdir / "lo-profile").as_uri()
    # Tokens: separator, text delimiter, charset (76: UTF-8), first line, column formats,
    # language, ..., token 13: evaluate formulas = true.
    options = f"CSV:{ord(separator)},34,76,1,,{language},false,false,false,false,false,-1,true"
    proc = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "xlsx",
         f"--infilter={options}", "--outdir", str(workdir / "lo"), str(src)],
        capture_output=True, text=True, timeout=180, env=dict(os.environ, HOME=str(workdir)))
    converted = workdir / "lo" / (src.stem + ".xlsx")
    assert converted.exists(), proc.stdout + proc.stderr
    return converted
