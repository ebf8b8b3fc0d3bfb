"""Write a synthetic LMP world to disk, school by school, and record its truth.

Memory stays bounded at any scale: one school's pupils live at a time, each round is written as
soon as it is drawn, and only small per-school summaries are kept for the roster files,
Elevundersøkelsen and ``truth.json``. What is written besides the exports lives in small
modules: :mod:`prevalence` (the truth's prevalence cells), :mod:`roster_files`,
:mod:`eus_files` (Elevundersøkelsen), :mod:`truth_file` (``truth.json``).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from lmp_analytics.synth import faults as faultlib
from lmp_analytics.synth import names
from lmp_analytics.synth.country import COUNTRY_FILE
from lmp_analytics.synth.eus_files import STATBANK_150_HEADER, country_csv, eus_csv, world_eus
from lmp_analytics.synth.exports import RoundTable, build_round
from lmp_analytics.synth.ids import STREAM_FAULTS, STREAM_PUPILS, rng_for
from lmp_analytics.synth.model import RoundPlan, School, World
from lmp_analytics.synth.params import Params
from lmp_analytics.synth.prevalence import PrevalenceCell, accumulate
from lmp_analytics.synth.pupils import Population
from lmp_analytics.synth.roster_files import faser_csv, program_csv
from lmp_analytics.synth.truth_file import world_truth
from lmp_analytics.synth.world import build_world
from lmp_analytics.synth.writers import EXTENSION, semicolon_csv, spekter_bytes, write_bytes
from lmp_analytics.terms import school_year

__all__ = ["SPEKTER_DIR", "STATBANK_150_HEADER", "WorldSummary", "write_world"]

SPEKTER_DIR = "spekter"


@dataclass(frozen=True)
class WorldSummary:
    """What :func:`write_world` wrote."""

    out_dir: Path
    n_schools: int
    n_pupils: int
    """Distinct pupils with at least one row in a regular round."""
    n_files: int
    """Spekter export files (including planted bad files)."""
    n_rows: int
    """Data rows in the Spekter export files (including planted bad rows)."""
    truth_path: Path



def _clear_previous(out_dir: Path) -> None:
    """Remove exports of an earlier run so that the folder holds exactly one world."""
    spekter = out_dir / SPEKTER_DIR
    if spekter.is_dir():
        shutil.rmtree(spekter)


def _file_stem(school: School, term: str, kind: str) -> str:
    suffix = "_mistanke" if kind == "mistanke" else ""
    return f"{term}_{school.orgnr}_{names.slug(school.navn)}{suffix}"


class _Run:
    """Everything one generation accumulates while it streams school by school."""

    def __init__(self, world: World, out_dir: Path, seed: int, with_errors: bool) -> None:
        self.world, self.out_dir, self.seed = world, out_dir, seed
        self.plan = faultlib.plan_faults(world, seed) if with_errors else faultlib.FaultPlan()
        self.fault_rng = rng_for(seed, STREAM_FAULTS, 1)
        self.cells: dict[tuple[str, str], PrevalenceCell] = defaultdict(PrevalenceCell)
        self.elevtall: list[tuple[str, str, int, int]] = []
        self.files: list[dict] = []
        self.n_pupils = self.n_rows = 0

    def school(self, school: School) -> None:
        """Follow one school's pupils through every term and write its rounds."""
        params = self.world.params
        rng = rng_for(self.seed, STREAM_PUPILS, school.candidate)
        pop = Population(self.world, school, rng)
        rounds = defaultdict(list)
        for index, rp in enumerate(school.rounds):
            rounds[rp.term].append((index, rp))
        seen: set[int] = set()
        for pos, term in enumerate(self.world.terms):
            pop.advance(first_term=pos == 0, autumn=term.endswith("H"))
            lat = pop.latent(term)
            if term.endswith("H"):
                surveyed = lat.trinn[lat.trinn >= params.first_spekter_trinn]
                trinn, counts = np.unique(surveyed, return_counts=True)
                skoleaar = school_year(term)
                self.elevtall += [
                    (school.orgnr, skoleaar, int(t), int(c))
                    for t, c in zip(trinn, counts, strict=True)
                ]
            for index, rp in rounds.get(term, []):
                table = build_round(rng, school, rp, pop, lat)
                clean = self._write_round(school, index, rp, table)
                if rp.kind == "regular":
                    seen.update(pop.pid[table.rows[clean]].tolist())
                    accumulate(self.cells[(school.rolle, term)], table, lat, pop, ~clean)
        self.n_pupils += len(seen)

    def _write_round(
        self, school: School, index: int, rp: RoundPlan, table: RoundTable
    ) -> np.ndarray:
        """Write one round (with its planted errors); return the mask of its clean real rows."""
        plan, style = self.plan, school.style
        frame, excluded = table.frame, np.zeros(table.frame.height, dtype=bool)
        stem = _file_stem(school, rp.term, rp.kind)
        path = self.out_dir / SPEKTER_DIR / f"{stem}.{EXTENSION[style.format]}"
        rel = path.relative_to(self.out_dir).as_posix()
        key = (school.number, index)
        if key in plan.row_faults:
            frame, records, excluded = faultlib.apply_row_faults(
                self.fault_rng, plan, frame, plan.row_faults[key], school, self.world.params
            )
            plan.bad_rows_log += [{"file": rel, **r} for r in records]
        created = dt.datetime.combine(rp.date, dt.time(15, 0))
        write_bytes(path, spekter_bytes(frame, style.format, created))
        self.n_rows += frame.height
        self.files.append({
            "file": rel, "skole_orgnr": school.orgnr, "term": rp.term, "versjon": rp.versjon,
            "kind": rp.kind, "format": style.format, "date_format": style.date_format,
            "numeric_answers": style.numeric_answers, "rows": frame.height,
        })  # fmt: skip
        kinds = plan.bad_files.get(key, [])
        for name, payload, kind in faultlib.bad_files(
            self.fault_rng, plan, table.frame, kinds, school, rp, stem, self.world
        ):
            bad_path = self.out_dir / SPEKTER_DIR / name
            is_table = isinstance(payload, pl.DataFrame)
            write_bytes(
                bad_path, spekter_bytes(payload, style.format, created) if is_table else payload
            )
            rows = payload.height if is_table else 0
            self.n_rows += rows
            plan.bad_files_log.append({
                "file": bad_path.relative_to(self.out_dir).as_posix(), "kind": kind,
                "reason": faultlib.FILE_FAULTS[kind], "source": rel, "rows": rows,
            })  # fmt: skip
        return ~excluded


def write_world(
    out_dir: Path,
    *,
    seed: int = 2026,
    scale: str = "demo",
    with_errors: bool = False,
    progress: Callable[[int, int], None] | None = None,
    params: Params | None = None,
) -> WorldSummary:
    """Generate a synthetic world into ``out_dir`` (see the package docstring for the layout).

    ``params`` overrides the preset of ``scale``; ``progress(done, total)`` is called after each
    school. Same seed and parameters give byte-identical files. Earlier exports in
    ``out_dir/spekter`` are removed first.
    """
    params = params or Params.for_scale(scale)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous(out_dir)
    world = build_world(params, seed)
    run = _Run(world, out_dir, seed, with_errors)
    for done, school in enumerate(world.schools, start=1):
        run.school(school)
        if progress is not None:
            progress(done, len(world.schools))

    write_bytes(out_dir / "program.csv", program_csv(world))
    write_bytes(out_dir / "faser.csv", faser_csv(world))
    header = ("skole_orgnr", "skoleaar", "trinn", "elever")
    write_bytes(out_dir / "elevtall.csv", semicolon_csv(header, run.elevtall))
    write_bytes(out_dir / "elevundersokelsen.csv", eus_csv(world, world_eus(world), seed))
    write_bytes(out_dir / COUNTRY_FILE, country_csv(world))
    truth_path = out_dir / "truth.json"
    truth = world_truth(world, seed, with_errors, run.cells, run.files, run.plan)
    with truth_path.open("w", encoding="utf-8") as fh:  # streamed: no second copy as a string
        json.dump(truth, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    n_files = len(run.files) + len(run.plan.bad_files_log)
    return WorldSummary(out_dir, len(world.schools), run.n_pupils, n_files, run.n_rows, truth_path)
