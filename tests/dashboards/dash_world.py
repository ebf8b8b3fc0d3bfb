"""A small synthetic programme world for the dashboard tests, built through the real ingest.

Two kommuner, 7 participating and 6 comparison schools (with Spekter rounds, unlike the default
world), rounds from 2022H to 2026V, planted data errors (quarantined rows), Elevundersøkelsen
results. The warehouse leaves out the last term and
every file of one participating school (``missing_school``: "a school without rounds"); the
browser test ingests the rest while the dashboard is serving (``ingest_all``).
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

from lmp_analytics.jobs import ingest_and_build, ingest_national
from lmp_analytics.synth import write_world
from lmp_analytics.synth.params import Params

TEST_KEY = b"dashboard-test-key-0123456789abcdef"
SEED = 7


def params() -> Params:
    return dataclasses.replace(
        Params.for_scale("demo"), n_kommuner=2,
        puljer=(("2023H", 3), ("2024V", 2), ("2024H", 2)), n_comparison=6,
        school_size=(60, 110, 160), first_term="2022H", last_term="2026V",
        latest_date="2026-03-31", eus_last_year=2025, n_phase_adaptations=1,
        national_series=((2021, 5.9), (2022, 7.3), (2023, 10.0), (2024, 10.4), (2025, 10.6)),
        p_spekter_from_phase1=0.25,  # most participants ran Spekter before LMP: pre-periods
        # Comparison schools run Spekter too (not the default world): the pages' comparison
        # series, difference-in-differences and event study need their rounds to be tested.
        comparison_spekter=True,
        school_modules=True,  # older files with school-chosen modules: views must name them
    )


@dataclass(frozen=True)
class World:
    root: Path
    warehouse: Path          # no last term, no files of ``missing_school``
    last_term: str
    missing_school: str
    roster: Path

    def copy(self, dest: Path) -> Path:
        """A private copy of the warehouse (tests that publish into it)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.warehouse, dest)
        return dest

    def ingest_all(self, warehouse: Path):
        """Ingest every file into ``warehouse`` (files already loaded are skipped)."""
        return ingest_and_build([self.root / "world" / "spekter"], self.roster,
                                warehouse=warehouse, key=TEST_KEY)


def build(root: Path) -> World:
    world_dir = root / "world"
    write_world(world_dir, seed=SEED, params=params(), with_errors=True)
    roster = world_dir / "program.csv"
    files = sorted((world_dir / "spekter").iterdir())
    terms = sorted({f.name[:5] for f in files}, key=lambda t: (t[:4], t[4] == "H"))
    last = terms[-1]
    participants = [line.split(";")[2] for line in roster.read_text("utf-8").splitlines()[1:]
                    if ";deltaker;" in line]
    missing = sorted(participants)[0]
    staged = root / "first_files"
    staged.mkdir()
    for f in files:
        if not f.name.startswith(last) and missing not in f.name:
            shutil.copyfile(f, staged / f.name)
    warehouse = root / "warehouse.duckdb"
    report = ingest_and_build([staged], roster, warehouse=warehouse, key=TEST_KEY)
    assert report.published, report.outcomes
    ingest_national([world_dir / "elevundersokelsen.csv",
                     world_dir / "elevundersokelsen_skoler.csv"], warehouse=warehouse)
    return World(root, warehouse, last, missing, roster)
