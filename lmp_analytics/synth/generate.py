"""Write a synthetic LMP world to disk, school by school, and record its truth.

Memory stays bounded at any scale: one school's pupils live at a time, each round is written as
soon as it is drawn, and only small per-school summaries are kept for the roster files,
Elevundersøkelsen and ``truth.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from scipy.special import expit

from lmp_analytics.registry import fylker
from lmp_analytics.synth import faults as faultlib
from lmp_analytics.synth import names
from lmp_analytics.synth.country import COUNTRY_FILE, EXPOSURE_NOTE, SELECTION_RULE
from lmp_analytics.synth.exports import RoundTable, build_round
from lmp_analytics.synth.params import Params
from lmp_analytics.synth.responses import (
    MISSING,
    logistic_normal_mean,
    national_value_by_trinn,
    population_composite,
)
from lmp_analytics.synth.world import (
    STREAM_FAULTS,
    STREAM_POOL,
    STREAM_PUPILS,
    Population,
    RoundPlan,
    School,
    TermLatent,
    World,
    build_world,
    rng_for,
)
from lmp_analytics.synth.writers import (
    EXTENSION,
    decimal_comma,
    semicolon_csv,
    spekter_bytes,
    thousands,
    write_bytes,
)
from lmp_analytics.terms import school_year

SPEKTER_DIR = "spekter"
EXPOSURE_CONVENTION = (
    "Phase k of a school runs in term P(k) (oppstart + k - 1 unless faser.csv overrides it). "
    "Spekter rounds come early in a term, so a round in term t reflects the phases whose term is "
    "strictly before t: exposure level L(t) = #{k : P(k) < t}. The round in the phase-1 term is "
    "NOT exposed (level 0, event time e = -1); the first exposed round is in the term after P(1). "
    "Planted log-OR at level L >= 1: log(bully_or_by_phase[min(L, 4) - 1]) on every bullying "
    "item, log(relation_or_by_phase[...]) on relation_items; no anticipation. "
    "Elevundersøkelsen (autumn) uses the exposure of the autumn term it belongs to."
)
PREVALENCE_NOTE = (
    "Per group (rolle) and term, over the rows of regular rounds (versjon != "
    "spekter-2022-mistanke) in clean files that answered `mobbet`, leaving out planted bad rows. "
    "n_mobbet_ge3/n_answered is the observed share. expected = mean over those rows of "
    "P(mobbet >= 3 | all random effects) = expit(eta); its sampling variance is "
    "var_sum / n_answered**2 (exact, Bernoulli). expected_given_schools integrates class and "
    "pupil effects out (conditional on the realised school effects and shocks); test it with a "
    "design effect for classes. *_no_programme: the same without the planted effect, so "
    "expected - expected_no_programme is the realised effect on the share (ATT on rows)."
)


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


@dataclass
class _Cell:
    """Prevalence accumulator for one (group, term)."""

    n_rows: int = 0
    n_answered: int = 0
    n_ge3: int = 0
    sum_p: float = 0.0
    var_sum: float = 0.0
    sum_p0: float = 0.0
    sum_p_school: float = 0.0
    sum_p_school0: float = 0.0
    n_classes: int = 0
    sum_class_sq: int = 0

    def as_dict(self, group: str, term: str) -> dict:
        n = max(self.n_answered, 1)
        return {
            "group": group,
            "term": term,
            "n_rows": self.n_rows,
            "n_answered": self.n_answered,
            "n_mobbet_ge3": self.n_ge3,
            "observed": self.n_ge3 / n,
            "expected": self.sum_p / n,
            "var_sum": self.var_sum,
            "expected_given_schools": self.sum_p_school / n,
            "expected_no_programme": self.sum_p0 / n,
            "expected_no_programme_given_schools": self.sum_p_school0 / n,
            "n_classes": self.n_classes,
            "class_size_weighted": self.sum_class_sq / n,
        }


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
        self.cells: dict[tuple[str, str], _Cell] = defaultdict(_Cell)
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
                    _accumulate(self.cells[(school.rolle, term)], table, lat, pop, ~clean)
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

    write_bytes(out_dir / "program.csv", _program_csv(world))
    write_bytes(out_dir / "faser.csv", _faser_csv(world))
    header = ("skole_orgnr", "skoleaar", "trinn", "elever")
    write_bytes(out_dir / "elevtall.csv", semicolon_csv(header, run.elevtall))
    write_bytes(out_dir / "elevundersokelsen.csv", _eus_csv(world, _world_eus(world), seed))
    write_bytes(out_dir / COUNTRY_FILE, _country_csv(world))
    truth_path = out_dir / "truth.json"
    truth = _truth(world, seed, with_errors, run.cells, run.files, run.plan)
    with truth_path.open("w", encoding="utf-8") as fh:  # streamed: no second copy as a string
        json.dump(truth, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    n_files = len(run.files) + len(run.plan.bad_files_log)
    return WorldSummary(out_dir, len(world.schools), run.n_pupils, n_files, run.n_rows, truth_path)


def _accumulate(
    cell: _Cell, table: RoundTable, lat: TermLatent, pop: Population, excluded: np.ndarray
) -> None:
    answered = (table.answers["mobbet"] != MISSING) & ~excluded
    rows = table.rows[answered]
    p = expit(lat.eta[rows])
    p0 = expit(lat.eta[rows] - lat.delta)
    cell.n_rows += int((~excluded).sum())
    cell.n_answered += int(rows.shape[0])
    cell.n_ge3 += int((table.answers["mobbet"][answered] >= 3).sum())
    cell.sum_p += float(p.sum())
    cell.var_sum += float((p * (1 - p)).sum())
    cell.sum_p0 += float(p0.sum())
    cell.sum_p_school += float(lat.p_school[rows].sum())
    cell.sum_p_school0 += float(lat.p_school0[rows].sum())
    _, sizes = np.unique(pop.cls[rows], return_counts=True)
    cell.n_classes += int(sizes.shape[0])
    cell.sum_class_sq += int((sizes.astype(np.int64) ** 2).sum())


def _world_eus(world: World) -> dict[tuple[int, int, int], tuple[int, int]]:
    """(year, school number, trinn) -> (answers, bullied) of the world's schools in the autumns
    of the world, taken from the country's cells (one draw per cell for both files)."""
    country, params = world.country, world.params
    autumns = {int(t[:4]) for t in world.terms if t.endswith("H")}
    out = {}
    for s in world.schools:
        for j, year in enumerate(country.years):
            if int(year) not in autumns or year > params.eus_last_year:
                continue
            for i, trinn in enumerate(country.trinn):
                n = int(country.n[s.candidate, j, i])
                if n > 0:
                    out[(int(year), s.number, int(trinn))] = (n, int(country.k[s.candidate, j, i]))
    return out


def _country_csv(world: World) -> bytes:
    """The country file: school rows (EnhetNivaa 4) of every school of the synthetic country and
    every year, in the statistics bank's export layout; cells below ``country_min_n`` are ``*``."""
    country, params = world.country, world.params
    units = [(s.candidate, s.kommune, s) for s in world.schools]
    units += [(s.candidate, s.kommune, s) for s in world.country_schools]
    units.sort(key=lambda x: (x[1].nummer, x[2].orgnr))
    cells = []
    for j, year in enumerate(country.years):
        sy = school_year(f"{int(year)}H")
        for cand, kommune, school in units:
            for i, trinn in enumerate(country.trinn):
                n = int(country.n[cand, j, i])
                if n == 0:
                    continue
                if n < params.country_min_n:
                    verdi, antall = "*", "*"
                else:
                    k = int(country.k[cand, j, i])
                    verdi, antall = decimal_comma(100 * k / n), thousands(n)
                cells.append((sy, 4, kommune, school, int(trinn), verdi, antall))
    return semicolon_csv(STATBANK_150_HEADER, _statbank_rows(cells))


def _program_csv(world: World) -> bytes:
    rows = [
        (
            s.kommune.nummer,
            s.kommune.navn,
            s.orgnr,
            s.navn,
            s.rolle,
            s.pulje or "",
            s.oppstart or "",
        )
        for s in world.schools
    ]
    header = ("kommunenummer", "kommune", "skole_orgnr", "skole", "rolle", "pulje", "oppstart")
    return semicolon_csv(header, rows)


def _faser_csv(world: World) -> bytes:
    rows = [
        (s.orgnr, fase, termin)
        for s in world.schools
        for fase, termin in sorted(s.phase_overrides.items())
    ]
    return semicolon_csv(("skole_orgnr", "fase", "termin"), rows)


#: Columns of the statistics bank's report 150 export (grunnskole bullying), in its order
#: (lmp_analytics/reference/SOURCES.md); the pagination columns of the API are left out.
STATBANK_150_HEADER = (
    "SpoersmaalNivaa", "Spoersmaalgruppekode", "Spoersmaalgruppe", "Spoersmaalkode",
    "Spoersmaalnavn", "Skoleaarnavn", "EnhetNivaa", "Nasjonaltkode", "Nasjonalt", "Fylkekode",
    "Fylke", "Kommunekode", "Kommune", "Organisasjonsnummer", "EnhetNavn", "GruppeNivaa",
    "GruppeKode", "GruppeNavn", "TrinnNivaa", "TrinnKode", "Trinnnavn", "EierformNivaa",
    "Eierformkode", "EierformNavn", "KjoennNivaa", "KjoennKode", "Kjoenn", "AndelMobbet",
    "AntallBesvart",
)  # fmt: skip
LMP_EUS_HEADER = ("Skoleår", "Enhetsnivå", "Enhetskode", "Enhetsnavn", "Trinn", "Indikator",
                  "Verdi", "Antall besvart")  # fmt: skip
EUS_INDICATOR = "Mobbing på skolen"
_LEVEL_NAME = {1: "Nasjonalt", 3: "Kommune", 4: "Skole"}


def _eus_cells(world: World, eus: dict[tuple[int, int, int], tuple[int, int]], seed: int):
    """(school year, level 1/3/4, kommune, school or None, trinn, value, n) per published cell."""
    params = world.params
    rng = rng_for(seed, STREAM_POOL, 3)

    def cell(n: int, k: int) -> tuple[str, str]:
        if n < params.eus_min_n:
            return "*", "*"
        return decimal_comma(100 * k / n), thousands(n)

    years = sorted({y for y, _, _ in eus})
    by_kommune: dict[str, list[School]] = defaultdict(list)
    for s in world.schools:
        by_kommune[s.kommune.nummer].append(s)
    for year in years:
        sy = school_year(f"{year}H")
        beta = world.beta_by_year[min(max(year, min(world.beta_by_year)), max(world.beta_by_year))]
        for trinn in params.eus_trinn:
            value = 100 * national_value_by_trinn(beta, params, trinn)
            n = round(params.eus_national_cohort * params.eus_p_respond * (1 + rng.normal(0, 0.01)))
            yield sy, 1, None, None, trinn, decimal_comma(value), thousands(n)
        for kommune in world.kommuner:
            for trinn in params.eus_trinn:
                parts = [eus[(year, s.number, trinn)] for s in by_kommune[kommune.nummer]
                         if (year, s.number, trinn) in eus]  # fmt: skip
                if parts:
                    verdi, antall = cell(sum(p[0] for p in parts), sum(p[1] for p in parts))
                    yield sy, 3, kommune, None, trinn, verdi, antall
        for s in world.schools:
            for trinn in params.eus_trinn:
                if (year, s.number, trinn) in eus:
                    yield sy, 4, s.kommune, s, trinn, *cell(*eus[(year, s.number, trinn)])


def _eus_csv(world: World, eus: dict[tuple[int, int, int], tuple[int, int]], seed: int) -> bytes:
    """``elevundersokelsen.csv`` in ``params.eus_layout``: the statistics bank's export (one row
    per unit, year and grade, all owners and genders) or the package's own layout."""
    indicator = EUS_INDICATOR
    rows = []
    if world.params.eus_layout == "lmp":
        for sy, level, kommune, school, trinn, verdi, antall in _eus_cells(world, eus, seed):
            code = school.orgnr if school else kommune.nummer if kommune else ""
            name = school.navn if school else kommune.navn if kommune else "Hele landet"
            rows.append((sy, _LEVEL_NAME[level], code, name, f"{trinn}. trinn", indicator,
                         verdi, antall))  # fmt: skip
        return semicolon_csv(LMP_EUS_HEADER, rows)
    return semicolon_csv(STATBANK_150_HEADER, _statbank_rows(_eus_cells(world, eus, seed)))


def _statbank_rows(cells) -> list[tuple[str, ...]]:
    """Rows of the statistics bank's report 150 from (school year, level, kommune, school,
    trinn, value, answers) cells."""
    fylke_names = dict(fylker().select("fylkesnummer", "fylke").iter_rows())
    indicator = EUS_INDICATOR
    rows = []
    for sy, level, kommune, school, trinn, verdi, antall in cells:
        fylke = kommune.nummer[:2] if kommune else ""
        name = school.navn if school else kommune.navn if kommune else "Alle skoler"
        rows.append((
            "1", "EUIndeks_1398", indicator, "EUIndeks_1398", indicator, sy, str(level), "I",
            "Nasjonalt", fylke, fylke_names.get(fylke, ""), kommune.nummer if kommune else "",
            kommune.navn if kommune else "", school.orgnr if school else "", name, "1", "-10",
            "Alle grupper", "1", str(trinn), f"{trinn}. trinn", "1", "-10", "Alle eierformer",
            "1", "A", "Alle kjønn", verdi, antall,
        ))  # fmt: skip
    return rows


def _country_truth(world: World) -> dict:
    """The country file's truth: selection, planted effect and every school's cells.

    ``cells`` rows are [year, trinn, answers, bullied, expected, expected_no_programme, level]
    (answers 0: the school has no such trinn; published when answers >= min_n).
    """
    country, params = world.country, world.params
    units = [(s.candidate, s.orgnr, s.kommune.nummer, s.kind, True, s.rolle, s.pulje,
              s.oppstart) for s in world.schools]  # fmt: skip
    units += [(s.candidate, s.orgnr, s.kommune.nummer, s.kind, False, "utenfor", None, None)
              for s in world.country_schools]  # fmt: skip
    thresholds = [t for t, _ in params.selection_thresholds]
    schools = []
    for cand, orgnr, kommune, kind, in_world, rolle, pulje, oppstart in units:
        means = country.selection_mean[cand]
        cells = [
            [int(y), int(t), int(country.n[cand, j, i]), int(country.k[cand, j, i]),
             float(country.p1[cand, j, i]), float(country.p0[cand, j, i]),
             int(country.level[cand, j])]
            for j, y in enumerate(country.years) for i, t in enumerate(country.trinn)
            if country.n[cand, j, i] > 0
        ]  # fmt: skip
        schools.append({
            "skole_orgnr": orgnr, "kommunenummer": kommune, "type": kind, "in_world": in_world,
            "rolle": rolle, "pulje": pulje, "oppstart": oppstart,
            "eligible": bool(country.eligible[cand]),
            "selected_by": country.selected_by.get(cand),
            "selection_mean": {str(t): None if math.isnan(m) else float(m)
                               for t, m in zip(thresholds, means, strict=True)},
            "school_effect": float(country.u[cand]),
            "shock_by_year": {str(int(y)): float(w)
                              for y, w in zip(country.years, country.shocks[cand], strict=True)},
            "cells": cells,
        })  # fmt: skip
    by = [s["selected_by"] for s in schools if s["selected_by"]]
    return {
        "file": COUNTRY_FILE,
        "years": [int(y) for y in country.years],
        "trinn": [int(t) for t in country.trinn],
        "n_schools": len(schools),
        "min_n": params.country_min_n,
        "beta_by_year": {str(int(y)): float(b)
                         for y, b in zip(country.years, country.beta, strict=True)},
        "sd_within_school": math.sqrt(params.sd_class**2 + params.sd_pupil**2),
        "selection": {
            "rule": SELECTION_RULE,
            "years": list(params.selection_years),
            "thresholds": {str(t): v for t, v in params.selection_thresholds},
            "n_eligible": int(country.eligible.sum()),
            "n_selected_by_rule": by.count("rule"),
            "n_selected_by_fallback": by.count("fallback"),
        },
        "planted_effect": {
            "exposure": EXPOSURE_NOTE,
            "bully_log_or_by_level": {
                str(v): params.bully_log_or(v) for v in range(len(params.bully_or_by_phase) + 1)
            },
        },
        "schools": schools,
    }


def _truth(
    world: World,
    seed: int,
    with_errors: bool,
    cells: dict[tuple[str, str], _Cell],
    files: list[dict],
    plan: faultlib.FaultPlan,
) -> dict:
    params = world.params
    sd_within = math.sqrt(params.sd_class**2 + params.sd_pupil**2)
    levels = range(0, len(params.bully_or_by_phase) + 1)
    schools = []
    for s in world.schools:
        exposure = {t: s.exposure_level(t) if s.participant else 0 for t in world.terms}
        schools.append({
            "skole_orgnr": s.orgnr, "skole": s.navn, "kommunenummer": s.kommune.nummer,
            "type": s.kind, "trinn": [s.trinn_lo, s.trinn_hi], "size": s.size, "rolle": s.rolle,
            "pulje": s.pulje, "oppstart": s.oppstart,
            "phases": {str(k): v for k, v in sorted(s.phases.items())},
            "phase_overrides": {str(k): v for k, v in sorted(s.phase_overrides.items())},
            "baseline_logit": world.beta0 + s.u, "school_effect": s.u,
            "shock_by_term": dict(zip(world.terms, s.shock, strict=True)),
            "baseline_prevalence_trinn7": float(
                logistic_normal_mean(world.beta0 + s.u + s.shock[0], sd_within)
            ),
            "selection_score": s.selection_score, "climate_effect": s.climate,
            "modules": list(s.modules), "spekter_from": s.spekter_from,
            "export": {
                "format": s.style.format, "date_format": s.style.date_format,
                "numeric_answers": s.style.numeric_answers, "elev_navn": s.style.elev_navn,
                "fritekst": s.style.fritekst, "runde": s.style.runde, "formal": s.style.formal,
                "kjonn": s.style.kjonn, "column_variant": s.style.column_variant,
            },
            "exposure_level_by_term": exposure,
            "bully_log_or_by_term": {t: params.bully_log_or(v) for t, v in exposure.items()},
            "rounds": [
                {"term": r.term, "versjon": r.versjon, "date": r.date.isoformat(), "kind": r.kind,
                 "nominations": r.nominations, "runde": r.runde}
                for r in s.rounds
            ],
        })  # fmt: skip
    calibration = {
        "beta_by_year": {str(y): b for y, b in sorted(world.beta_by_year.items())},
        "beta0": world.beta0,
        "trend_by_term": world.trend,
        "population_composite_by_year": {
            str(y): population_composite(b, params, params.eus_trinn)
            for y, b in sorted(world.beta_by_year.items())
        },
        "sd_within_school": sd_within,
        "latent_school_icc": params.latent_school_icc,
    }
    return {
        "generator": "lmp_analytics.synth",
        "seed": seed,
        "scale": params.scale,
        "with_errors": with_errors,
        "params": params.to_dict(),
        "conventions": {"exposure": EXPOSURE_CONVENTION, "prevalence": PREVALENCE_NOTE},
        "planted_effects": {
            "bully_items": ["mobbet", "mobbet_digitalt", "mobbet_voksen", "mobber_andre"],
            "bully_or_by_level": {str(v): math.exp(params.bully_log_or(v)) for v in levels},
            "bully_log_or_by_level": {str(v): params.bully_log_or(v) for v in levels},
            "relation_items": list(params.relation_items),
            "relation_or_by_level": {str(v): math.exp(params.relation_log_or(v)) for v in levels},
        },
        "calibration": calibration,
        "country": _country_truth(world),
        "kommuner": [{"kommunenummer": k.nummer, "kommune": k.navn} for k in world.kommuner],
        "schools": schools,
        "prevalence": [
            cells[key].as_dict(*key)
            for key in sorted(cells, key=lambda k: (k[0], world.term_pos(k[1])))
        ],
        "files": files,
        "errors": {"bad_rows": plan.bad_rows_log, "bad_files": plan.bad_files_log},
    }
