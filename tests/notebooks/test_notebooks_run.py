"""Every researcher notebook runs as a plain script on a freshly built demo warehouse.

``python notebooks/NN_x.py`` runs every cell of a marimo notebook and exits non-zero when any
cell raises, so a failing cell fails this test. The notebooks find the warehouse through
``LMP_WAREHOUSE`` and the world's truth through ``LMP_TRUTH``; they run from a foreign working
directory so that nothing depends on where they are started.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))


def test_the_four_notebooks_are_there_in_reading_order() -> None:
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_"]


def _run(notebook: Path, warehouse: Path, truth: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LMP_WAREHOUSE": str(warehouse), "LMP_TRUTH": str(truth)}
    before = set(NOTEBOOK_DIR.iterdir())
    done = subprocess.run(
        [sys.executable, str(notebook)], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{notebook.name} failed:\n{done.stdout}\n{done.stderr}"
    assert set(NOTEBOOK_DIR.iterdir()) == before, "running a notebook left files in notebooks/"
    return done


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_as_a_script(notebook: Path, demo_warehouse, tmp_path: Path) -> None:
    done = _run(notebook, demo_warehouse.warehouse, demo_warehouse.truth, tmp_path)
    if notebook.name.startswith("03_"):
        # The headline line the notebook prints: estimate, interval and the planted truth.
        assert re.search(r"phase-2 programme effect \(e = 1\): [-+]\d\.\d{4} \[.*\], truth ",
                         done.stdout), done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "notebook", [p for p in NOTEBOOKS if "truth" in p.read_text(encoding="utf-8")],
    ids=lambda p: p.stem,
)
def test_notebook_runs_without_a_truth(notebook: Path, demo_warehouse, tmp_path: Path) -> None:
    """Real data has no truth.json: the comparison columns stay empty, every cell still runs."""
    done = _run(notebook, demo_warehouse.warehouse, tmp_path / "no-such-truth.json", tmp_path)
    assert "truth" not in done.stdout
