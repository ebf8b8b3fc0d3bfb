"""Static checks a reviewer would otherwise grep for: the notebooks take their statistics from
``lmp_analytics`` (no second implementation) and never read the project's shared notes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))

# Statistical machinery that lives in lmp_analytics.stats / evaluation: a notebook importing it,
# or writing a critical value or a standard error by hand, is re-implementing the package.
FORBIDDEN = {
    "imports a statistics library": re.compile(
        r"^\s*(import|from)\s+(scipy|statsmodels|differences|pingouin|numpy|pyfixest)\b",
        re.MULTILINE,
    ),
    "hard-codes a critical value": re.compile(r"\b1\.96\b|\.ppf\("),
    "computes a variance or SE by hand": re.compile(r"\bsqrt\(|\.std\(|\.var\("),
    "re-implements BH or an interval": re.compile(r"multipletests|proportion_confint|wilson\("),
    "reads the shared notes": re.compile(r"shared/|METHODS\.md['\"]|DESIGN\.md['\"]"),
}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_uses_the_package_for_statistics(notebook: Path) -> None:
    text = notebook.read_text(encoding="utf-8")
    hits = {why: pattern.findall(text) for why, pattern in FORBIDDEN.items()}
    assert not {why: found for why, found in hits.items() if found}, notebook.name
    assert "from lmp_analytics" in text
    assert "app = marimo.App(" in text and 'if __name__ == "__main__":' in text


def test_make_target_exports_html_into_the_ignored_folder() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^notebooks: ", makefile, re.MULTILINE)
    assert "marimo export html" in makefile and "notebooks/__exports__" in makefile
    assert "notebooks/__exports__/" in (ROOT / ".gitignore").read_text(encoding="utf-8")
