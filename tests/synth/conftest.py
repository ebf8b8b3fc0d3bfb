"""Generated worlds shared by the synth tests (generated once per session)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
from synth_helpers import SEED, Export, read_export

from lmp_analytics.synth import Params, WorldSummary, write_world


@dataclass
class Generated:
    root: Path
    summary: WorldSummary
    truth: dict

    @cached_property
    def exports(self) -> dict[str, Export]:
        """Every clean export (truth ``files``) read back, keyed by relative path."""
        return {f["file"]: read_export(self.root / f["file"]) for f in self.truth["files"]}


def _generate(root: Path, **kwargs) -> Generated:
    summary = write_world(root, **kwargs)
    truth = json.loads(summary.truth_path.read_text(encoding="utf-8"))
    return Generated(root, summary, truth)


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Generated:
    """The demo world, clean."""
    return _generate(tmp_path_factory.mktemp("demo"), seed=SEED)


@pytest.fixture(scope="session")
def demo_errors(tmp_path_factory) -> Generated:
    """The same demo world with planted errors."""
    return _generate(tmp_path_factory.mktemp("demo_errors"), seed=SEED, with_errors=True)


@pytest.fixture(scope="session")
def demo_early(tmp_path_factory) -> Generated:
    """The demo world where 75 % of participants ran Spekter before LMP (rounds from 2021H) and
    comparison schools run Spekter too: not the default world, but the one the checks of
    pre-programme rounds and of the comparison group's truth need."""
    params = Params(p_spekter_from_phase1=0.25, comparison_spekter=True)
    return _generate(tmp_path_factory.mktemp("demo_early"), seed=SEED, params=params)
