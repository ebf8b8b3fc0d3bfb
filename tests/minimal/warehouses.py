"""A matrix of minimal warehouses, each built through the real ingest from one small synthetic
world, each missing one thing a real programme may lack.

The base world: two kommuner, two puljer (2023H with 2 schools, 2024H with 2), 3 comparison
schools that run Spekter too (not the synthetic default: the base has everything, and
``no_comparison_spekter`` takes their rounds away), small schools (40-80 pupils), terms
2022H-2025V, Elevundersøkelsen results. Every warehouse is that world cut down:

- ``no_enrolment``: no ``elevtall.csv`` (optional input): response rates cannot be computed.
- ``no_national``: no Elevundersøkelsen file was ever loaded.
- ``no_comparison``: no comparison schools (roster and files).
- ``no_comparison_spekter``: comparison schools on the roster (and in Elevundersøkelsen) but
  without Spekter files: the usual case, since Spekter comes with LMP (the synthetic default).
- ``one_pulje``: only pulje 1 (and the comparison schools).
- ``one_round``: every school kept with the files of one term only (terms differ between
  schools), so there is no before/after for any school.
- ``one_school``: one participating school with all its rounds, nothing else.

Each warehouse keeps everything else of the base world, so a failure names what is missing.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

from lmp_analytics.jobs import ingest_and_build, ingest_national
from lmp_analytics.synth import write_world
from lmp_analytics.synth.params import Params

TEST_KEY = b"minimal-warehouse-key-0123456789abcdef"
SEED = 11
VARIANTS = ("no_enrolment", "no_national", "no_comparison", "no_comparison_spekter",
            "one_pulje", "one_round", "one_school")


def params() -> Params:
    """The small base world (builds in about a second, ingests in a few)."""
    return dataclasses.replace(
        Params.for_scale("demo"), n_kommuner=2, puljer=(("2023H", 2), ("2024H", 2)),
        n_comparison=3, school_size=(40, 60, 80), first_term="2022H", last_term="2025V",
        latest_date="2025-03-31", eus_last_year=2024, n_phase_adaptations=1,
        national_series=((2021, 5.9), (2022, 7.3), (2023, 10.0), (2024, 10.4)),
        comparison_spekter=True,  # the complete base; no_comparison_spekter removes their files
    )


@dataclass(frozen=True)
class Minimal:
    """One minimal warehouse and what it was built from."""

    name: str
    warehouse: Path
    schools: tuple[str, ...]   # orgnrs in its roster
    truth: Path                # the base world's truth.json (describes more schools)


def _roster_rows(world: Path) -> tuple[str, list[list[str]]]:
    header, *rows = (world / "program.csv").read_text("utf-8").splitlines()
    return header, [r.split(";") for r in rows]


def _keep(variant: str, rows: list[list[str]]) -> list[list[str]]:
    """The roster rows of ``variant`` (columns: kommunenummer, kommune, orgnr, skole, rolle,
    pulje, oppstart)."""
    if variant == "no_comparison":
        return [r for r in rows if r[4] == "deltaker"]
    if variant == "one_pulje":
        return [r for r in rows if r[4] == "sammenligning" or r[5] == "1"]
    if variant == "one_school":
        return [sorted((r for r in rows if r[4] == "deltaker" and r[5] == "1"),
                       key=lambda r: r[2])[0]]
    return rows


def _files(variant: str, spekter: Path, orgnrs: list[str]) -> list[Path]:
    """The export files of ``variant``: those of its schools; for ``one_round`` only one term
    per school (the i-th of the school's terms, so schools differ)."""
    files = sorted(f for f in spekter.iterdir() if f.name.split("_")[1] in orgnrs)
    if variant != "one_round":
        return files
    kept = []
    for i, orgnr in enumerate(sorted(orgnrs)):
        own = [f for f in files if f.name.split("_")[1] == orgnr and "mistanke" not in f.name]
        terms = sorted({f.name[:5] for f in own}, key=lambda t: (t[:4], t[4] == "H"))
        term = terms[i % len(terms)]
        kept += [f for f in own if f.name.startswith(term)]
    return kept


def _filter_csv(source: Path, dest: Path, orgnrs: list[str], column: int = 0) -> None:
    header, *rows = source.read_text("utf-8").splitlines()
    kept = [r for r in rows if r.split(";")[column] in orgnrs]
    dest.write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")


def build_world(root: Path) -> Path:
    """Write the base world into ``root/world``."""
    world = root / "world"
    write_world(world, seed=SEED, params=params())
    return world


def build(variant: str, world: Path, root: Path) -> Minimal:
    """Ingest the cut-down world of ``variant`` into ``root/<variant>/warehouse.duckdb``."""
    assert variant in VARIANTS, variant
    home = root / variant
    staged = home / "spekter"
    staged.mkdir(parents=True)
    header, rows = _roster_rows(world)
    rows = _keep(variant, rows)
    orgnrs = [r[2] for r in rows]
    (home / "program.csv").write_text("\n".join([header, *(";".join(r) for r in rows)]) + "\n",
                                      encoding="utf-8")
    _filter_csv(world / "faser.csv", home / "faser.csv", orgnrs)
    if variant != "no_enrolment":
        _filter_csv(world / "elevtall.csv", home / "elevtall.csv", orgnrs)
    with_files = orgnrs if variant != "no_comparison_spekter" else [
        r[2] for r in rows if r[4] == "deltaker"]
    for f in _files(variant, world / "spekter", with_files):
        shutil.copyfile(f, staged / f.name)
    warehouse = home / "warehouse.duckdb"
    report = ingest_and_build([staged], home / "program.csv", warehouse=warehouse, key=TEST_KEY)
    assert report.exit_code == 0, (variant, [o.message for o in report.outcomes if o.message],
                                   report.roster_error)
    if variant != "no_national":
        assert ingest_national([world / "elevundersokelsen.csv"], warehouse=warehouse) > 0
    return Minimal(variant, warehouse, tuple(orgnrs), world / "truth.json")
