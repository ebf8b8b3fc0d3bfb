"""One freshly built demo warehouse for the notebook tests (built once per session).

The same path as ``lmp demo``: the synthetic demo world (``DEMO_SEED``) is generated into a
temporary folder and ingested through the real ingest job with marts and the suppressed
publication (``lmp_analytics.jobs.ingest_and_build``). Nothing under ``data/`` is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from lmp_analytics.demo import DEMO_SEED
from lmp_analytics.jobs import ingest_and_build
from lmp_analytics.synth import write_world

TEST_KEY = b"notebook-test-key-0123456789abcdef0123456789"


@dataclass(frozen=True)
class DemoWarehouse:
    world: Path
    warehouse: Path

    @property
    def truth(self) -> Path:
        return self.world / "truth.json"


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> DemoWarehouse:
    root = tmp_path_factory.mktemp("notebook_demo")
    world = root / "world"
    write_world(world, seed=DEMO_SEED, scale="demo")
    warehouse = root / "warehouse.duckdb"
    report = ingest_and_build(
        [world / "spekter"], world / "program.csv", warehouse=warehouse, key=TEST_KEY
    )
    assert report.exit_code == 0, [o.message for o in report.outcomes if o.message]
    return DemoWarehouse(world, warehouse)
