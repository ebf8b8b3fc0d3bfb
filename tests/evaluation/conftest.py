"""A warehouse built from the shipped sample through the real ingest job."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.jobs import ingest_and_build

TEST_KEY = b"metrics-test-key-0123456789abcdef0123456789"


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    report = ingest_and_build([SAMPLE_DIR], SAMPLE_DIR / "program.csv", warehouse=path,
                              key=TEST_KEY)
    assert report.exit_code == 0, report.outcomes
    return path


@pytest.fixture(scope="session")
def national_world(tmp_path_factory):
    """The default hand-built national panel (tests/evaluation/national_world.py) loaded once
    through ``lmp ingest-national``: (world, warehouse path). Read-only for the tests."""
    from tests.evaluation.national_world import build_world, load_world

    world = build_world()
    return world, load_world(world, tmp_path_factory.mktemp("national_world"))
