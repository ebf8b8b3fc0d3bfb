"""One freshly built demo warehouse for the notebook tests (built once per session).

The same path as ``lmp demo``: the synthetic demo world (``DEMO_SEED``, with comparison schools'
Spekter rounds) is generated into a temporary folder and ingested through the real ingest job
with marts and the suppressed publication (``lmp_analytics.jobs.ingest_and_build``). Nothing
under ``data/`` is touched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from lmp_analytics.demo import DEMO_SEED
from lmp_analytics.jobs import ingest_and_build
from lmp_analytics.synth import Params, write_world

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
    # Comparison schools run Spekter here, unlike the demo's default world: notebook 3's Spekter
    # DiD (and the truth checks of its claims) needs control schools observed beside each
    # pulje's base term. On the default world it says the design is not available
    # (tests/minimal, variant no_comparison_spekter).
    write_world(world, seed=DEMO_SEED,
                params=dataclasses.replace(Params.for_scale("demo"), comparison_spekter=True))
    warehouse = root / "warehouse.duckdb"
    report = ingest_and_build(
        [world / "spekter"], world / "program.csv", warehouse=warehouse, key=TEST_KEY
    )
    assert report.exit_code == 0, [o.message for o in report.outcomes if o.message]
    return DemoWarehouse(world, warehouse)
