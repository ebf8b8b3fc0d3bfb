"""The researcher notebooks on the minimal warehouses: every cell runs (as ``python nb.py``
does: a failing cell fails the run) and a section whose data is missing says "not available"
instead of failing or printing 0.

To keep CI time low, notebook 01 (cheap, and the one that crashed without enrolment) runs on
every warehouse; the heavier estimation notebooks run only where their designs break:
02 on one round per school and one school (no before/after pairs, a single school to pool),
03 and 04 on one pulje, one round per school and one school (no control pulje, no panel, no
controls at all), and 03 also without comparison schools (no never-treated controls). The
other warehouses keep every design 02-04 need, like the demo warehouse of tests/notebooks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
RUNNER = Path(__file__).resolve().parent / "run_notebook.py"

CASES = [
    ("01_data_overview", name)
    for name in ("no_enrolment", "no_national", "no_comparison", "one_pulje", "one_round",
                 "one_school")
] + [
    ("02_phase_effects", "one_round"), ("02_phase_effects", "one_school"),
    ("03_programme_effect", "one_pulje"), ("03_programme_effect", "one_round"),
    ("03_programme_effect", "no_comparison_spekter"),
    ("03_programme_effect", "one_school"), ("03_programme_effect", "no_comparison"),
    ("04_scales_mechanisms", "one_pulje"), ("04_scales_mechanisms", "one_round"),
    ("04_scales_mechanisms", "one_school"),
]

# What the reader must be told, per (notebook, warehouse).
EXPECTED = {
    ("01_data_overview", "no_enrolment"): [
        "Response rates are not available for any of the",
        "elevtall.csv was not supplied",
        "Median response rate not available",
    ],
    ("01_data_overview", "one_round"): ["not available within a school year"],
    ("02_phase_effects", "one_round"): [
        "the forest plot is not available",
        "the same-pupils comparison is not available",
    ],
    ("03_programme_effect", "one_round"): ["The programme effect is not available"],
    ("03_programme_effect", "no_comparison_spekter"): ["The programme effect is not available"],
    ("03_programme_effect", "one_school"): ["The programme effect is not available",
                                            "no control schools"],
    ("03_programme_effect", "one_pulje"): ["Some specifications are not available",
                                           "participants only (not-yet-treated puljer)"],
    # Spekter starts in phase 1 (the synthetic default): without comparison schools the
    # participants' first rounds leave no control observed in a treated pulje's base term.
    ("03_programme_effect", "no_comparison"): ["The programme effect is not available",
                                               "comparison schools only (never treated)"],
    ("04_scales_mechanisms", "one_round"): ["programme effect on the scales is not available"],
    ("04_scales_mechanisms", "one_school"): ["programme effect on the scales is not available"],
}


def _run(notebook: str, warehouse: Path, truth: Path, cwd: Path) -> str:
    env = {**os.environ, "LMP_WAREHOUSE": str(warehouse), "LMP_TRUTH": str(truth),
           "PYTHONDONTWRITEBYTECODE": "1"}
    before = set(NOTEBOOKS.iterdir())
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(NOTEBOOKS / f"{notebook}.py")], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, f"{notebook} failed:\n{done.stdout[-3000:]}\n{done.stderr}"
    assert set(NOTEBOOKS.iterdir()) == before, "running a notebook left files in notebooks/"
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(("notebook", "name"), CASES, ids=[f"{n[:2]}-{w}" for n, w in CASES])
def test_notebook_runs_on_a_minimal_warehouse(notebook, name, minimal, tmp_path):
    m = minimal(name)
    # The base world's truth: notebooks use it only when it describes the warehouse's schools
    # (no_enrolment, no_national, one_round), which exercises their truth columns too.
    out = _run(notebook, m.warehouse, m.truth, tmp_path)
    for text in EXPECTED.get((notebook, name), []):
        assert text in out, (notebook, name, text)
    if notebook == "01_data_overview" and (notebook, name) not in EXPECTED:
        # the message appears only where the data is missing
        assert "not available" not in out, out[-2000:]
