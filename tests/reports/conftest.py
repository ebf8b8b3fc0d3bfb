"""Fixtures for the report and export tests.

``report_world``: a small synthetic world (2 kommuner, 7 participants, 3 comparison schools
without Spekter rounds, as by default, 2022H-2026V) ingested once per session through the real
ingest (~12 s). ``sample_warehouse``: the hand-made sample in data/sample, where most cells are
suppressed (one school has n < 10). Tests that write to the audit log copy a warehouse first
(:func:`copy_of`).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.jobs import ingest_and_build
from lmp_analytics.synth import write_world
from lmp_analytics.synth.params import Params

TEST_KEY = b"report-test-key-0123456789abcdef"
SEED = 11


def world_params() -> Params:
    return dataclasses.replace(
        Params.for_scale("demo"), n_kommuner=2, puljer=(("2023H", 4), ("2024V", 3)),
        n_comparison=3, school_size=(150, 220, 280), first_term="2022H", last_term="2026V",
        latest_date="2026-03-31", eus_last_year=2025, n_phase_adaptations=1,
        share_mistanke_schools=0.0,
    )


def _ingested_world(root: Path, params: Params) -> Path:
    write_world(root / "world", seed=SEED, params=params)
    path = root / "warehouse.duckdb"
    result = ingest_and_build([root / "world" / "spekter"], root / "world" / "program.csv",
                              warehouse=path, key=TEST_KEY)
    assert result.exit_code == 0, result.outcomes
    return path


@pytest.fixture(scope="session")
def report_world(tmp_path_factory) -> Path:
    return _ingested_world(tmp_path_factory.mktemp("report_world"), world_params())


@pytest.fixture(scope="session")
def report_world_with_comparison(tmp_path_factory) -> Path:
    """The same world where the comparison schools did run Spekter (older worlds, other
    programmes): the report's comparison line and a comparison school's own report."""
    return _ingested_world(tmp_path_factory.mktemp("report_world_cmp"),
                           dataclasses.replace(world_params(), comparison_spekter=True))


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report_sample") / "warehouse.duckdb"
    result = ingest_and_build([SAMPLE_DIR], SAMPLE_DIR / "program.csv", warehouse=path,
                              key=TEST_KEY)
    assert result.exit_code == 0, result.outcomes
    return path


@pytest.fixture
def copy_of(tmp_path):
    """``copy_of(warehouse)``: a private copy (runs that audit write to the warehouse)."""

    def copy(path: Path) -> Path:
        dest = tmp_path / f"copy-{path.parent.name}.duckdb"
        shutil.copyfile(path, dest)
        return dest

    return copy


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No ambient role file, threshold or warehouse."""
    roles = tmp_path / "no-users.toml"
    roles.write_text("[users]\n", encoding="utf-8")
    monkeypatch.setenv("LMP_ROLES", str(roles))
    monkeypatch.delenv("LMP_MIN_N", raising=False)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setenv("LMP_WAREHOUSE", str(tmp_path / "no-warehouse.duckdb"))
